"""The console adapter under the contract: typed lines in, printed lines out.

The console has no buttons: its card is what `/case N` prints, with the actions the core allows
drawn as the commands that take them ("→ /approve 1 · /edit 1 …"); members' edits and deletions
are /edited and /deleted; the moderators' place is everything the session printed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.console import ConsoleSession, console_actor
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.models import Case, DismissReason, Feedback, Outgoing
from tests.contract.driver import CardAction, CardShown, MsgRef, Reply, Who

# "  ✉ Moderator → #general (reply to c1):" then the text, indented by four spaces.
_SENT = re.compile(r"^\s*✉ .*\((?:reply to|réponse à) (?P<to>\S+?)\)\s*:?$")
_MESSAGE_ID = re.compile(r"\[(c\d+)\]")
# The console's second community (typed into with /community) and its own moderator, by id.
SECOND_COMMUNITY = "shop"
SECOND_MODERATOR = "console:bob"


def console_config(**review: Any) -> Config:
    """An English community on the console; `review` sets [review] keys."""
    return parse_config(
        {
            "community": {"name": "L'Atelier", "language": "en"},
            "detection": {"detector": "rules"},
            "review": review,
        }
    )


_COMMAND_OF = {
    CardAction.APPROVE: "approve",
    CardAction.EDIT: "edit",
    CardAction.DISMISS: "dismiss",
    CardAction.SNOOZE: "snooze",
    CardAction.MINE: "mine",
    CardAction.CONFIRM_POSTED: "posted",
    CardAction.SEND_AGAIN: "again",
    CardAction.CONFIRM_HELPER: "confirm",
    CardAction.TAKE_OVER: "takeover",
}


class ConsoleDriver:
    """Drives a `ConsoleSession` on a real SQLite file, as someone typing at the terminal."""

    name = "console"

    def __init__(self, config: Config, clock: ManualClock, database: Path) -> None:
        """Start a session; `out` collects every printed block."""
        self.config = config
        self.clock = clock
        self.database = database
        self.out: list[str] = []
        self.core = Huitaine(config, clock=clock, database=database)
        self.session = ConsoleSession(self.core, clock, self.out.append)

    def close(self) -> None:
        """Close the database."""
        self.core.close()

    def _type(self, line: str) -> str:
        before = len(self.out)
        self.session.handle(line)
        return "\n".join(self.out[before:])

    async def member_says(self, text: str) -> MsgRef:
        printed = self._type(f"alice: {text}")
        found = _MESSAGE_ID.search(printed)
        assert found is not None, printed
        return MsgRef(found[1])

    async def member_says_elsewhere(self, text: str) -> MsgRef:
        self._type(f"/community {SECOND_COMMUNITY}")
        try:
            printed = self._type(f"alice: {text}")
        finally:
            self._type("/community console")
        found = _MESSAGE_ID.search(printed)
        assert found is not None, printed
        return MsgRef(found[1])

    async def member_edits(self, ref: MsgRef, text: str) -> None:
        printed = self._type(f"/edited {ref.id} {text}")
        assert "✗" not in printed, printed

    async def member_deletes(self, ref: MsgRef) -> None:
        printed = self._type(f"/deleted {ref.id}")
        assert "✗" not in printed, printed

    async def press(
        self,
        who: Who,
        action: CardAction,
        case_id: int,
        *,
        reason: DismissReason | None = None,
    ) -> str:
        commands = {
            CardAction.APPROVE: f"/approve {case_id}",
            CardAction.DISMISS: f"/dismiss {case_id} {(reason or DismissReason.NOT_A_REQUEST)}",
            CardAction.SNOOZE: f"/snooze {case_id}",
            CardAction.MINE: f"/mine {case_id}",
            CardAction.CONFIRM_POSTED: f"/posted {case_id}",
            CardAction.SEND_AGAIN: f"/again {case_id}",
            CardAction.CONFIRM_HELPER: f"/confirm {case_id}",
            CardAction.TAKE_OVER: f"/takeover {case_id}",
        }
        if action not in commands:
            raise NotImplementedError(f"the console has no command for {action}")
        if who is Who.MODERATOR:
            return self._type(commands[action])
        moderator = self.session.actor
        self.session.actor = console_actor("bob", "Bob", frozenset())
        try:
            return self._type(commands[action])
        finally:
            self.session.actor = moderator

    async def member_presses(self, feedback: Feedback, case_id: int, *, asker: bool) -> str:
        command = "solved" if feedback is Feedback.SOLVED else "stillhelp"
        moderator = self.session.actor
        # The console's "button" is typed by whoever it acts as: Alice asked, Bob did not.
        who = ("alice", "Alice") if asker else ("bob", "Bob")
        self.session.actor = console_actor(*who, frozenset())
        try:
            return self._type(f"/{command} {case_id}")
        finally:
            self.session.actor = moderator

    async def helper_answers(self, ref: MsgRef, text: str) -> None:
        # "hana" is the contract's helper (console:hana in [staff] helper_ids).
        printed = self._type(f"hana: @alice {text}")
        assert "✗" not in printed, printed

    async def edit_and_send(self, case_id: int, text: str) -> None:
        printed = self._type(f"/edit {case_id} {text}")
        assert "✗" not in printed, printed

    def replies(self) -> list[Reply]:
        found = []
        for block in self.out:
            header, _, body = block.partition("\n")
            match = _SENT.match(header)
            # Only the first community's replies: the second's name their community.
            if match is not None and f"→ {SECOND_COMMUNITY} #" not in header:
                text = "\n".join(line.removeprefix("    ") for line in body.split("\n"))
                found.append(Reply(text, match["to"]))
        return found

    async def card(self, case_id: int) -> CardShown:
        # /case N prints the card on demand; it is not kept among what the session printed.
        shown: list[str] = []
        write, self.session.write = self.session.write, shown.append
        try:
            self.session.handle(f"/case {case_id}")
        finally:
            self.session.write = write
        text = "\n".join(shown)
        assert "✗" not in text, text
        # The console draws the card's actions as the commands that take them: "→ /approve 1 …".
        offered = {
            command.split()[0].lstrip("/")
            for line in shown
            if line.startswith("  → ")
            for command in line.removeprefix("  → ").split(" · ")
        }
        actions = frozenset(a for a, command in _COMMAND_OF.items() if command in offered)
        return CardShown(
            ref=None, text=text, actions=actions, snoozed="snoozed" in text or "pause" in text
        )

    def moderator_place_texts(self) -> list[str]:
        return list(self.out)

    async def restart(self) -> None:
        self.core.close()
        self.core = Huitaine(self.config, clock=self.clock, database=self.database)
        self.session = ConsoleSession(self.core, self.clock, self.out.append)

    async def tick(self, advance: timedelta) -> None:
        minutes = int(advance.total_seconds() // 60)
        printed = self._type(f"/advance {minutes}m")
        assert "✗" not in printed, printed

    async def crash_after_approve(self, case_id: int) -> None:
        self.core.review.approve(self.session.actor, case_id)
        await self.restart()

    async def cases(self) -> list[Case]:
        return self.core.cases.list()

    async def case(self, case_id: int) -> Case:
        return self.core.cases.get(case_id)

    async def audit(self, case_id: int) -> list[dict[str, Any]]:
        return self.core.review.audit_log(case_id)

    async def outbox(self) -> list[Outgoing]:
        return self.core.review.outbox()
