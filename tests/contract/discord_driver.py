"""The Discord adapter under the contract: real discord.py against the loopback fake gateway.

Alice asks in #help, Camille (Moderator role) acts in the review channel, Bob (no role) presses
buttons he should not. The bot is also in a second server, where Alice asks in its own help
channel (`member_says_elsewhere`) and cards may go to that server's own review channel. The
fake server and the people are the Discord tests' own (tests/adapters/discord); `Running` is
their one-process record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.discord import ids
from adapters.discord.bot import build
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.ingest import IngestResult
from bot.models import Actor, Case, DismissReason, Feedback, Outgoing, Standing
from bot.runtime import Runtime
from tests.adapters.discord.conftest import WAIT, Running
from tests.adapters.discord.fake_discord import (
    ALICE,
    BOB,
    CAMILLE,
    GUILD,
    HELP,
    HELP2,
    REVIEW,
    REVIEW2,
    FakeDiscord,
)
from tests.adapters.discord.fake_discord import HELPER as HELPER_USER
from tests.contract.driver import CardAction, CardShown, MsgRef, Reply, Who

_ACTIONS = {
    ids.Action.SEND: CardAction.APPROVE,
    ids.Action.EDIT: CardAction.EDIT,
    ids.Action.DISMISS: CardAction.DISMISS,
    ids.Action.SNOOZE: CardAction.SNOOZE,
    ids.Action.MINE: CardAction.MINE,
    ids.Action.CONFIRM: CardAction.CONFIRM_POSTED,
    ids.Action.RETRY: CardAction.SEND_AGAIN,
    ids.Action.HELPER_OK: CardAction.CONFIRM_HELPER,
    ids.Action.TAKE_OVER: CardAction.TAKE_OVER,
}
_PEOPLE = {Who.MODERATOR: CAMILLE, Who.MEMBER: BOB}
_REVIEW_PLACES = (REVIEW, REVIEW2)  # each server's moderators' channel


def _custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def _shown(message: dict[str, Any]) -> str:
    """A message's visible text: its content and its embeds' title, text, fields and footer."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(part for part in parts if part)


class DiscordDriver:
    """Starts (and restarts) one bot on the fake Discord, always on the same SQLite file."""

    name = "discord"

    def __init__(
        self, fake: FakeDiscord, config: Config, clock: ManualClock, database: Path
    ) -> None:
        """Remember the world; `start()` brings the bot up."""
        self.fake = fake
        self.config = config
        self.clock = clock
        self.database = database
        self.bot: Running | None = None
        self._handled = 0
        self._seen = 0
        self._changed = asyncio.Condition()

    @property
    def runtime(self) -> Runtime:
        assert self.bot is not None
        return self.bot.runtime

    async def start(self) -> None:
        """A new process: new core, runtime and client; waits until its cards are redrawn."""
        core = Huitaine(self.config, clock=self.clock, database=self.database)
        runtime = Runtime(core)
        self._count(runtime, "ingest")
        self._count(runtime, "edit")
        self._count(runtime, "delete")
        redrawn = asyncio.Event()
        show = runtime.show_replies_in_doubt

        async def show_and_tell(platform: str) -> int:
            try:
                return await show(platform)
            finally:
                redrawn.set()

        runtime.show_replies_in_doubt = show_and_tell  # type: ignore[method-assign]
        # A short guild_ready_timeout: READY fires 50 ms after the last GUILD_CREATE.
        adapter = build(core.config, runtime, guild_ready_timeout=0.05)
        self.bot = Running(core, runtime, adapter, None)
        self._handled = self._seen = 0
        await asyncio.wait_for(adapter.connect(), WAIT)
        self.bot.task = asyncio.create_task(adapter.listen())
        await asyncio.wait_for(adapter.ready.wait(), WAIT)
        await asyncio.wait_for(redrawn.wait(), WAIT)

    async def stop(self) -> None:
        """Stop the running bot, if any."""
        if self.bot is not None:
            await self.bot.stop()

    def _count(self, runtime: Runtime, name: str) -> None:
        """Count inbound events the runtime finished, so a test waits for exactly its own."""
        original: Callable[..., Awaitable[IngestResult]] = getattr(runtime, name)

        async def counted(*args: Any) -> IngestResult:
            try:
                return await original(*args)
            finally:
                async with self._changed:
                    self._handled += 1
                    self._changed.notify_all()

        setattr(runtime, name, counted)

    async def _handled_one(self) -> None:
        self._seen += 1
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self._handled >= self._seen), WAIT
            )

    async def member_says(self, text: str) -> MsgRef:
        message = await self.fake.say(ALICE, HELP, text)
        await self._handled_one()
        return MsgRef(str(message["id"]))

    async def member_says_elsewhere(self, text: str) -> MsgRef:
        message = await self.fake.say(ALICE, HELP2, text)
        await self._handled_one()
        return MsgRef(str(message["id"]))

    async def member_edits(self, ref: MsgRef, text: str) -> None:
        await self.fake.edit(ref.id, text)
        await self._handled_one()

    async def member_deletes(self, ref: MsgRef) -> None:
        await self.fake.delete(ref.id)
        await self._handled_one()

    async def _card_message(self, case_id: int) -> dict[str, Any]:
        ref = await self.runtime.call(self.runtime.core.cards.for_case, case_id, "discord")
        assert ref is not None, f"no card for case {case_id}"
        return self.fake.messages[ref.message_id]

    def _button(self, message: dict[str, Any], action: ids.Action, case_id: int) -> str:
        for custom_id in _custom_ids(message):
            decoded = ids.decode(custom_id)
            if decoded.action is action and decoded.case_id == case_id:
                return custom_id
        raise AssertionError(f"no {action} button for case {case_id}: {_custom_ids(message)}")

    async def press(
        self,
        who: Who,
        action: CardAction,
        case_id: int,
        *,
        reason: DismissReason | None = None,
    ) -> str:
        act = next(a for a, c in _ACTIONS.items() if c is action)
        card = await self._card_message(case_id)
        pressed = await self.fake.press(_PEOPLE[who], card["id"], self._button(card, act, case_id))
        told = await self.fake.answer_text(pressed)
        if action is CardAction.DISMISS:
            # A moderator is asked why, with one button per reason, in a message only they see.
            wanted = ids.make(ids.Action.REASON, case_id, reason or DismissReason.NOT_A_REQUEST)
            asked = [m for m in self.fake.messages.values() if wanted in _custom_ids(m)]
            if asked:
                pressed = await self.fake.press(_PEOPLE[who], asked[-1]["id"], wanted)
                told = await self.fake.answer_text(pressed)
        return told

    async def member_presses(self, feedback: Feedback, case_id: int, *, asker: bool) -> str:
        # The last reply the bot posted in the help channel carries the member's buttons.
        reply = self.fake.channel_posts(HELP)[-1]
        action = ids.Action.SOLVED if feedback is Feedback.SOLVED else ids.Action.HELP
        pressed = await self.fake.press(
            ALICE if asker else BOB, reply.id, self._button(reply.body, action, case_id)
        )
        return await self.fake.answer_text(pressed)

    async def helper_answers(self, ref: MsgRef, text: str) -> None:
        # Hugo holds the server's "Helper" role ([staff] helper_roles): a helper, not staff.
        await self.fake.say(HELPER_USER, HELP, text, reply_to=ref.id)
        await self._handled_one()

    async def edit_and_send(self, case_id: int, text: str) -> None:
        card = await self._card_message(case_id)
        edit = self._button(card, ids.Action.EDIT, case_id)
        modal = await self.fake.callback(await self.fake.press(CAMILLE, card["id"], edit))
        assert modal.type == 9, modal  # the editor opened
        submitted = await self.fake.submit_modal(
            CAMILLE, modal.data["custom_id"], {"reply": text}, message_id=card["id"]
        )
        await self.fake.answer_text(submitted)

    def replies(self) -> list[Reply]:
        return [
            Reply(
                post.body.get("content") or "",
                str(post.body["message_reference"]["message_id"])
                if "message_reference" in post.body
                else None,
            )
            for post in self.fake.channel_posts(HELP)
        ]

    async def card(self, case_id: int) -> CardShown:
        card = await self._card_message(case_id)
        actions = frozenset(
            _ACTIONS[decoded.action]
            for decoded in map(ids.decode, _custom_ids(card))
            if decoded.action in _ACTIONS
        )
        fields = [f["name"] for e in card.get("embeds", []) for f in e.get("fields", [])]
        return CardShown(
            ref=str(card["id"]),
            text=_shown(card),
            actions=actions,
            snoozed="Reminders paused until" in fields,
        )

    def moderator_place_texts(self) -> list[str]:
        # The posts as they stand now (cards are edited in place), in every server's channel.
        return [
            _shown(self.fake.messages.get(post.id, post.payload))
            for post in self.fake.posts
            if post.channel_id in _REVIEW_PLACES
        ]

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def tick(self, advance: timedelta) -> None:
        self.clock.advance(advance)
        await self.runtime.tick()

    async def crash_after_approve(self, case_id: int) -> None:
        camille = Actor(
            "discord", CAMILLE.id, "Camille", (Standing(GUILD, frozenset({"Moderator"})),)
        )
        await self.runtime.call(self.runtime.core.review.approve, camille, case_id)
        await self.restart()

    async def cases(self) -> list[Case]:
        return await self.runtime.call(self.runtime.core.cases.list)

    async def case(self, case_id: int) -> Case:
        return await self.runtime.call(self.runtime.core.cases.get, case_id)

    async def audit(self, case_id: int) -> list[dict[str, Any]]:
        return await self.runtime.call(self.runtime.core.review.audit_log, case_id)

    async def outbox(self) -> list[Outgoing]:
        return await self.runtime.call(self.runtime.core.review.outbox)
