"""Console adapter: a terminal chat where you type as members and act as the moderator."""

from __future__ import annotations

import logging
import re
import shlex
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import IO

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, ConfigError, parse_duration
from bot.i18n import format_time, t
from bot.models import Actor, Author, DismissReason, Kind, Message, Outgoing, Standing
from bot.review import ReviewError

_LOGGER = logging.getLogger(__name__)
PLATFORM = "console"
COMMUNITY = "console"
_SAY = re.compile(
    r"^(?:#(?P<channel>[\w-]+)\s+)?(?P<name>[^:/#][^:]{0,39}):\s*(?P<text>.*)$", re.S
)

HELP = {
    "en": """Type as a member:  alice: my order never arrived
             in a channel: #help bob: how do I reset my password
As the moderator:   /cases · /case N · /approve N [choice] · /edit N new text
                    /dismiss N [not_a_request|spam|duplicate|handled_elsewhere|other]
                    /snooze N [4h] · /mine N · /resolve N · /report
                    /open MESSAGE-ID question|complaint  (a request the detector missed)
Staff messages:     /staff sam: @alice it's on its way  (a staff reply answers a case)
                    /reply N sam: text   (staff replies to case N's message, by hand)
Time:               /advance 2h | 1d    (reminders and escalations fire as time passes)
Identity:           /as NAME [moderator]  (act as someone else; only moderators may decide)
                    /help · /quit""",
    "fr": """Écrire comme membre : alice: ma commande n'est jamais arrivée
             dans un salon : #aide bob: comment changer mon mot de passe
Comme modérateur :  /cases · /case N · /approve N [choix] · /edit N nouveau texte
                    /dismiss N [not_a_request|spam|duplicate|handled_elsewhere|other]
                    /snooze N [4h] · /mine N · /resolve N · /report
                    /open ID-MESSAGE question|complaint  (une demande non détectée)
Messages d'équipe : /staff sam: @alice c'est en route  (une réponse de l'équipe répond au cas)
                    /reply N sam: texte  (l'équipe répond au message du cas N, à la main)
Temps :             /advance 2h | 1d  (les rappels et escalades se déclenchent)
Identité :          /as NOM [moderator]  (seuls les modérateurs peuvent décider)
                    /help · /quit""",
}


def console_actor(user_id: str, name: str, roles: frozenset[str]) -> Actor:
    """Someone at the console, with `roles` in the console's one community."""
    return Actor(PLATFORM, user_id, name, (Standing(COMMUNITY, roles),))


class ConsoleSession:
    """One console chat: turns typed lines into core calls and prints what happens."""

    def __init__(self, core: Huitaine, clock: ManualClock, write: Callable[[str], None]) -> None:
        """Drive `core` with the demo `clock`; `write` prints one block of output."""
        self.core = core
        self.clock = clock
        self.write = write
        self.language = core.config.community.language
        self.tz = core.config.community.tz
        self.actor = console_actor("mod", "Moderator", frozenset({"moderator"}))
        self._ids = count(self._next_id())
        self.channel = "general"

    def _next_id(self) -> int:
        row = self.core.store.row(
            "SELECT COUNT(*) AS n FROM messages WHERE platform = ?", (PLATFORM,)
        )
        return int(row["n"]) + 1 if row else 1

    def handle(self, line: str) -> bool:
        """Act on one typed line; False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            return self._command(line)
        match = _SAY.match(line)
        if match is None:
            self.write(HELP[self._ui()])
            return True
        self._post(match["name"].strip(), match["text"], channel=match["channel"], staff=False)
        return True

    def _ui(self) -> str:
        return "fr" if self.language == "fr" else "en"

    def _post(
        self,
        name: str,
        text: str,
        *,
        channel: str | None,
        staff: bool,
        reply_to: str | None = None,
    ) -> None:
        message = Message(
            platform=PLATFORM,
            community=COMMUNITY,
            channel=channel or self.channel,
            id=f"c{next(self._ids)}",
            author=Author(id=name.casefold(), name=name, is_staff=staff),
            text=text,
            created_at=self.clock.now(),
            reply_to=reply_to,
            mentions=tuple(m.casefold() for m in re.findall(r"@([\w-]+)", text)),
        )
        result = self.core.ingest(message)
        for case_id in result.case_ids:
            case = self.core.cases.get(case_id)
            if result.outcome.value == "opened":
                self.write(
                    f"  → case #{case.id} opened: {t(case.kind.value, self._ui())} "
                    f"({case.language}, confidence {case.confidence:.2f}; "
                    f"{', '.join(case.reasons[:3])}) — target "
                    f"{format_time(case.target_at, self.tz)}, "
                    f"limit {format_time(case.due_at, self.tz)}"
                )
            elif result.outcome.value == "answered":
                self.write(f"  → case #{case.id} answered by {case.answered_by}")
            elif result.outcome.value == "joined":
                self.write(f"  → joined case #{case.id}")

    def _command(self, line: str) -> bool:
        name, _, rest = line[1:].partition(" ")
        name = name.casefold()
        try:
            if name in {"quit", "exit", "q"}:
                return False
            handler = getattr(self, f"_cmd_{name}", None)
            if handler is None:
                self.write(HELP[self._ui()])
            else:
                handler(rest.strip())
        except ReviewError as exc:
            self.write(f"  ✗ {exc.explain(self.language)}")
        except (ValueError, IndexError, ConfigError) as exc:
            self.write(f"  ✗ {exc}")
        return True

    def _case_id(self, text: str) -> int:
        token = text.split()[0] if text.split() else ""
        if not token.lstrip("#").isdigit():
            raise ValueError("give a case number, e.g. /case 3")
        return int(token.lstrip("#"))

    def _cmd_help(self, _: str) -> None:
        self.write(HELP[self._ui()])

    def _cmd_cases(self, _: str) -> None:
        waiting = self.core.waiting()
        if not waiting:
            self.write("  nobody is waiting")
        now = self.clock.now()
        for case in waiting:
            flag = " OVERDUE" if case.overdue(now) else (" late" if case.late(now) else "")
            self.write(
                f"  #{case.id} {case.kind.value:<9} {case.author.name:<10} "
                f"target {format_time(case.target_at, self.tz)}{flag}  {case.excerpt[:60]}"
            )

    def _cmd_case(self, rest: str) -> None:
        case = self.core.cases.get(self._case_id(rest)) if rest else None
        if case is None:
            raise ValueError("give a case number, e.g. /case 3")
        self.write(
            f"  case #{case.id} — {case.kind.value}, {case.state.value}, {case.language}, "
            f"by {case.author.name} in #{case.channel}\n  “{case.excerpt}”"
        )
        for rank, suggestion in enumerate(case.suggestions, start=1):
            text = suggestion.text.replace("{moderator}", self.actor.name).replace("\n", "\n     ")
            self.write(f"  [{rank}] ({suggestion.source})\n     {text}")

    def _send(self, item: Outgoing) -> None:
        # The console "platform" is this terminal: posting is printing.
        self.write(
            f"  ✉ {item.approved_by} → #{item.channel} (reply to {item.reply_to}):\n"
            f"    {item.text}"
        )
        self.core.review.mark_sent(item.id, platform_message_id=f"c{next(self._ids)}")

    def _cmd_approve(self, rest: str) -> None:
        parts = rest.split()
        rank = int(parts[1]) - 1 if len(parts) > 1 else 0
        self._send(self.core.review.approve(self.actor, self._case_id(rest), suggestion_rank=rank))

    def _cmd_edit(self, rest: str) -> None:
        case_id = self._case_id(rest)
        text = rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else ""
        self._send(self.core.review.approve(self.actor, case_id, text=text))

    def _cmd_dismiss(self, rest: str) -> None:
        parts = rest.split()
        reason = DismissReason(parts[1]) if len(parts) > 1 else DismissReason.NOT_A_REQUEST
        case = self.core.review.dismiss(self.actor, self._case_id(rest), reason)
        self.write(f"  case #{case.id} dismissed ({reason.value})")

    def _cmd_snooze(self, rest: str) -> None:
        parts = rest.split()
        duration = parse_duration(parts[1], "snooze") if len(parts) > 1 else None
        case = self.core.review.snooze(self.actor, self._case_id(rest), duration)
        until = format_time(case.snoozed_until or self.clock.now(), self.tz)
        self.write(f"  case #{case.id} snoozed until {until}")

    def _cmd_open(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) != 2 or parts[1] not in ("question", "complaint"):
            raise ValueError("write /open MESSAGE-ID question|complaint (ids: c1, c2, …)")
        key = f"{PLATFORM}:{COMMUNITY}:{self.channel}:{parts[0]}"
        row = self.core.store.row(
            "SELECT key FROM messages WHERE platform = ? AND id = ?", (PLATFORM, parts[0])
        )
        case = self.core.review.open_by_hand(
            self.actor, row["key"] if row else key, Kind(parts[1]), suggester=self.core.suggester
        )
        self.write(f"  → case #{case.id} opened by hand: {t(case.kind.value, self._ui())}")

    def _cmd_mine(self, rest: str) -> None:
        case = self.core.review.assign(self.actor, self._case_id(rest))
        self.write(f"  case #{case.id} assigned to {case.assignee}")

    def _cmd_resolve(self, rest: str) -> None:
        case = self.core.review.resolve(self.actor, self._case_id(rest))
        self.write(f"  case #{case.id} resolved")

    def _cmd_staff(self, rest: str) -> None:
        match = _SAY.match(rest)
        if match is None:
            raise ValueError("write /staff NAME: text")
        self._post(match["name"].strip(), match["text"], channel=match["channel"], staff=True)

    def _cmd_reply(self, rest: str) -> None:
        case = self.core.cases.get(self._case_id(rest))
        match = _SAY.match(rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else "")
        if match is None:
            raise ValueError("write /reply N NAME: text")
        self._post(
            match["name"].strip(),
            match["text"],
            channel=case.channel,
            staff=True,
            reply_to=case.message_ids[0] if case.message_ids else None,
        )

    def _cmd_advance(self, rest: str) -> None:
        now = self.clock.advance(parse_duration(rest or "1h", "advance"))
        self.write(f"  🕑 {format_time(now, self.tz)}")
        for notice in self.core.tick(now):
            self.write(f"  {notice.text}")
            self.core.scheduler.mark_delivered(notice.id, now)

    def _cmd_report(self, _: str) -> None:
        self.write(self.core.report_text())

    def _cmd_as(self, rest: str) -> None:
        parts = shlex.split(rest)
        if not parts:
            raise ValueError("write /as NAME [moderator]")
        roles = frozenset(parts[1:])
        self.actor = console_actor(parts[0].casefold(), parts[0], roles)
        self.write(f"  acting as {parts[0]} ({', '.join(roles) or 'member'})")


def run_console(config: Config, *, database: str | None, stdin: IO[str], out: IO[str]) -> int:
    """Run the chat until end of input or /quit."""

    def write(text: str) -> None:
        print(text, file=out, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(datetime.now(UTC))
        core = Huitaine(config, clock=clock, database=database or Path(tmp) / "console.db")
        session = ConsoleSession(core, clock, write)
        write(f"Huitaine console — {config.community.name}. /help for commands.")
        try:
            interactive = stdin.isatty()
            while True:
                if interactive:
                    out.write("> ")
                    out.flush()
                line = stdin.readline()
                if not line or not session.handle(line):
                    break
        finally:
            core.close()
    return 0
