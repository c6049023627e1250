"""End to end: the real discord.py client against the loopback fake Discord (REST + gateway)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from adapters.discord import ids
from adapters.discord.ids import Action
from bot.clock import ManualClock
from bot.config import community_key
from bot.ingest import IngestResult, Outcome
from bot.models import Actor, Author, CaseState, Message, SendState, Standing
from tests.adapters.discord.conftest import WAIT, Running, StartBot, discord_config
from tests.adapters.discord.fake_discord import (
    ALICE,
    BOB,
    CAMILLE,
    DANA,
    EMILE,
    GUILD,
    HELP,
    OFFTOPIC,
    REVIEW,
    FakeDiscord,
    Post,
)

QUESTION = "Hi, how do I reset my password?"


async def open_case(fake: FakeDiscord, text: str = QUESTION, author: Any = ALICE) -> Post:
    """A member asks in #help; return the card the bot posts in the review channel."""
    before = len(fake.channel_posts(REVIEW))
    await fake.say(author, HELP, text)
    cards = await fake.wait_for(lambda: fake.channel_posts(REVIEW)[before:])
    return cards[0]


def buttons(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


class IngestSpy:
    """Records (message id, outcome) for every message the adapter hands to the core."""

    def __init__(self, bot: Running) -> None:
        self.seen: list[tuple[str, Outcome]] = []
        self._changed = asyncio.Condition()
        self._original = bot.runtime.ingest
        bot.runtime.ingest = self._ingest  # type: ignore[method-assign]

    async def _ingest(self, message: Message) -> IngestResult:
        result = await self._original(message)
        async with self._changed:
            self.seen.append((message.id, result.outcome))
            self._changed.notify_all()
        return result

    async def wait_for_count(self, count: int) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.seen) >= count), WAIT)


async def test_question_card_edit_modal_and_exactly_one_reply(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    original = next(m for m in fake.messages.values() if m["content"] == QUESTION)

    embed = card.body["embeds"][0]
    assert embed["url"].endswith(f"/{GUILD}/{HELP}/{original['id']}")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Member"] == f"<@{ALICE.id}>"
    assert fields["Channel"] == f"<#{HELP}>"
    assert fields["Kind"] == "question"
    assert fields["Language"] == "en"
    assert fields["Target"].startswith("<t:")
    assert ":R>" in fields["Target"]
    assert "Suggested reply" in embed["description"]
    assert buttons(card.payload) == [
        ids.make(a, 1)
        for a in (Action.SEND, Action.EDIT, Action.DISMISS, Action.SNOOZE, Action.MINE)
    ]
    assert card.body["allowed_mentions"] == {"parse": []}

    # Camille (Moderator role) presses Edit: a modal prefilled with the suggestion, signed.
    pressed = await fake.press(CAMILLE, card.id, ids.make(Action.EDIT, 1))
    modal = await fake.callback(pressed)
    assert modal.type == 9
    assert modal.data["custom_id"] == ids.make(Action.SUBMIT, 1)
    inputs = [
        c
        for row in modal.data["components"]
        for c in ([row["component"]] if "component" in row else row["components"])
    ]
    assert inputs[0]["custom_id"] == "reply"
    assert inputs[0]["value"].startswith("Hi Alice")
    assert inputs[0]["value"].rstrip().endswith("— Camille")

    # She rewrites it (the text tries to ping everyone) and submits.
    reply = "Hi Alice! Settings → Security → Reset password. @everyone @here <@&1> — Camille"
    submitted = await fake.submit_modal(
        CAMILLE, ids.make(Action.SUBMIT, 1), {"reply": reply}, message_id=card.id
    )
    answer = await fake.answer_text(submitted)
    assert answer.startswith("✅ Reply posted")
    assert (await fake.callback(submitted)).ephemeral

    sent = fake.channel_posts(HELP)
    assert len(sent) == 1
    assert sent[0].body["content"] == reply
    assert sent[0].body["message_reference"] == {
        "message_id": int(original["id"]),
        "channel_id": int(HELP),
        "guild_id": int(GUILD),
        "fail_if_not_exists": False,
        "type": 0,
    }
    assert sent[0].body["allowed_mentions"] == {
        "parse": [],
        "users": [int(ALICE.id)],
        "replied_user": True,
    }

    # The card is edited in place (same message), now answered and without buttons.
    edited = await fake.wait_for(
        lambda: fake.messages[card.id]["embeds"][0]["title"].endswith("answered")
    )
    assert edited
    assert buttons(fake.messages[card.id]) == []
    assert len(fake.channel_posts(REVIEW)) == 1
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.state is CaseState.ANSWERED
    log = await bot.runtime.call(bot.core.review.audit_log, 1)
    assert [(row["action"], row["actor_name"], row["text"]) for row in log] == [
        ("edit", "Camille", reply)
    ]


async def test_a_member_pressing_buttons_is_refused_and_nothing_changes(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    pressed = [
        await fake.press(BOB, card.id, ids.make(action, 1))
        for action in (Action.SEND, Action.EDIT, Action.DISMISS, Action.SNOOZE, Action.MINE)
    ]
    # A member may also forge a modal submission without ever seeing the modal.
    pressed.append(await fake.submit_modal(BOB, ids.make(Action.SUBMIT, 1), {"reply": "hi"}))
    for interaction in pressed:
        callback = await fake.callback(interaction)
        assert callback.type == 4
        assert callback.ephemeral
        assert callback.data["content"].startswith("Only moderators can act on cases.")
    assert fake.channel_posts(HELP) == []
    assert len(fake.channel_posts(REVIEW)) == 1
    assert await bot.runtime.call(bot.core.review.audit_log, 1) == []
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.state is CaseState.SUGGESTED
    assert case.assignee is None
    assert case.snoozed_until is None


async def test_forged_or_stale_custom_ids_are_refused(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    forged = {
        "huitaine:v1:send:999": "Case #999 does not exist.",
        "huitaine:v1:explode:1": "This button is not one Huitaine understands.",
        "huitaine:v1:send:01": "This button is not one Huitaine understands.",
        "huitaine:v1:reason:1:because": "This button is not one Huitaine understands.",
        "huitaine:v1:submit:1": "This button is not one Huitaine understands.",
        "huitaine:v9:send:1": "This button is not one Huitaine understands.",
    }
    for custom_id, expected in forged.items():
        pressed = await fake.press(CAMILLE, card.id, custom_id, forge=True)
        callback = await fake.callback(pressed)
        assert callback.ephemeral
        assert callback.data["content"].startswith(expected), custom_id
    assert fake.channel_posts(HELP) == []
    assert await bot.runtime.call(bot.core.review.audit_log, 1) == []


async def test_send_dismiss_snooze_and_mine_edit_the_card_in_place(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    first = await open_case(fake)
    second = await open_case(fake, "My order never arrived, still nothing after two weeks!", BOB)

    mine = await fake.press(CAMILLE, second.id, ids.make(Action.MINE, 2))
    assert await fake.answer_text(mine) == "Case #2 is yours."
    snooze = await fake.press(CAMILLE, second.id, ids.make(Action.SNOOZE, 2))
    assert "reminders paused until <t:" in (await fake.answer_text(snooze))
    fields = {f["name"]: f["value"] for f in fake.messages[second.id]["embeds"][0]["fields"]}
    assert fields["Assigned to"] == "Camille"
    assert fields["Reminders paused until"].startswith("<t:")

    dismiss = await fake.press(CAMILLE, second.id, ids.make(Action.DISMISS, 2))
    question = await fake.callback(dismiss)
    assert question.ephemeral
    assert question.data["content"] == "Why dismiss case #2?"
    ephemeral = next(
        m for m in fake.messages.values() if m.get("content") == "Why dismiss case #2?"
    )
    reason = ids.make(Action.REASON, 2, "handled_elsewhere")
    assert reason in buttons(ephemeral)
    dismissed = await fake.press(CAMILLE, ephemeral["id"], reason)
    assert await fake.answer_text(dismissed) == ("Case #2 dismissed (Handled elsewhere).")
    await fake.wait_for(lambda: "dismissed" in fake.messages[second.id]["embeds"][0]["title"])

    send = await fake.press(CAMILLE, first.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(send)).startswith("✅ Reply posted")
    sent = fake.channel_posts(HELP)
    assert len(sent) == 1
    assert sent[0].body["content"].startswith("Hi Alice")
    assert sent[0].body["content"].rstrip().endswith("— Camille")
    # A second press on the same (now stale) card sends nothing more.
    again = await fake.press(CAMILLE, first.id, ids.make(Action.SEND, 1), forge=True)
    assert "Refused: case 1 is answered" in await fake.answer_text(again)
    assert len(fake.channel_posts(HELP)) == 1
    assert len(fake.channel_posts(REVIEW)) == 2  # every change edited the two cards
    log = await bot.runtime.call(bot.core.review.audit_log)
    assert [row["action"] for row in log] == ["assign", "snooze", "dismiss", "approve"]


async def test_restart_old_buttons_and_an_open_modal_still_work(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    first_run = await start_bot()
    card_1 = await open_case(fake)
    card_2 = await open_case(fake, "Is there a student discount?", DANA)
    # A moderator opens the editor on case 2 just before the restart.
    opened = await fake.press(CAMILLE, card_2.id, ids.make(Action.EDIT, 2))
    await fake.callback(opened)
    await first_run.stop()

    second_run = await start_bot()  # new client, new core, same SQLite file
    assert len(fake.identifies) == 2
    send = await fake.press(CAMILLE, card_1.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(send)).startswith("✅ Reply posted")
    submitted = await fake.submit_modal(
        CAMILLE, ids.make(Action.SUBMIT, 2), {"reply": "Yes Dana: 20 % with a student card."}
    )
    assert (await fake.answer_text(submitted)).startswith("✅ Reply posted")

    assert [p.body["content"][:8] for p in fake.channel_posts(HELP)] == ["Hi Alice", "Yes Dana"]
    # The old cards were edited, not posted again.
    assert len(fake.channel_posts(REVIEW)) == 2
    await fake.wait_for(
        lambda: fake.messages[card_2.id]["embeds"][0]["title"].endswith("answered")
    )
    cases = await second_run.runtime.call(second_run.core.cases.list)
    assert [c.state for c in cases] == [CaseState.ANSWERED, CaseState.ANSWERED]


async def test_disconnect_and_resume_lose_nothing_and_process_nothing_twice(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    spy = IngestSpy(bot)
    first = await fake.say(ALICE, HELP, QUESTION)
    first_seq = fake.session.seq if fake.session else 0
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 1)
    session_id = fake.session.id if fake.session else ""

    await fake.drop(4000)  # the network drops; Discord keeps dispatching
    missed = [
        await fake.say(DANA, HELP, "Where can I find the opening hours?"),
        await fake.say(EMILE, HELP, "The app crashes every time I open it, this is unacceptable"),
    ]
    # Deliver at least once: the resumed session also replays the first message again.
    fake.replay_from = first_seq

    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 3, WAIT)
    await spy.wait_for_count(4)
    assert len(fake.identifies) == 1  # resumed, never re-identified
    assert fake.resumes[0]["session_id"] == session_id
    assert fake.resumes[0]["seq"] >= first_seq

    outcomes = {mid: [o for i, o in spy.seen if i == mid] for mid, _ in spy.seen}
    assert outcomes[first["id"]] == [Outcome.OPENED, Outcome.DUPLICATE]
    for message in missed:
        assert outcomes[message["id"]] == [Outcome.OPENED]
    stored = await bot.runtime.call(
        bot.core.store.rows, "SELECT id FROM messages WHERE platform = 'discord' ORDER BY id"
    )
    assert sorted(row["id"] for row in stored) == sorted([first["id"], *(m["id"] for m in missed)])
    assert len(fake.channel_posts(REVIEW)) == 3  # one card per case, none twice


async def test_long_reply_is_split_and_only_the_first_part_replies(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    await start_bot()
    await open_case(fake)
    paragraph = "Here is every step, in detail. " * 40  # ~1,240 characters
    reply = f"{paragraph}\n\n{paragraph}\n\n{paragraph}".strip()
    submitted = await fake.submit_modal(CAMILLE, ids.make(Action.SUBMIT, 1), {"reply": reply})
    await fake.answer_text(submitted)
    parts = fake.channel_posts(HELP)
    assert len(parts) == 3
    assert all(len(p.body["content"]) <= 2000 for p in parts)
    assert " ".join(p.body["content"] for p in parts).split() == reply.split()
    assert "message_reference" in parts[0].body
    assert all("message_reference" not in p.body for p in parts[1:])
    for part in parts:
        assert part.body["allowed_mentions"]["parse"] == []
        assert part.body["allowed_mentions"]["users"] == [int(ALICE.id)]


async def test_a_403_is_a_failed_send_and_the_case_can_be_sent_again(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    fake.fail("POST", f"/channels/{HELP}/messages$", 403, body={"message": "Missing Access"})
    send = await fake.press(CAMILLE, card.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(send)).startswith("❌ Discord refused")
    assert fake.channel_posts(HELP) == []
    outbox = await bot.runtime.call(bot.core.review.outbox)
    assert [item.state for item in outbox] == [SendState.FAILED]
    assert ids.make(Action.SEND, 1) in buttons(fake.messages[card.id])
    again = await fake.press(CAMILLE, card.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(again)).startswith("✅ Reply posted")
    assert len(fake.channel_posts(HELP)) == 1


async def test_a_5xx_after_posting_is_retried_by_discord_py_without_a_double_post(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    # Discord stores the message, then answers 500: discord.py retries the same request (after
    # a one-second pause of its own); the nonce makes Discord return the first message.
    fake.fail("POST", f"/channels/{HELP}/messages$", 500, apply_first=True)
    send = await fake.press(CAMILLE, card.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(send, 8)).startswith("✅ Reply posted")
    attempts = [
        r for r in fake.requests if r[:2] == ("POST", f"/api/v10/channels/{HELP}/messages")
    ]
    assert len(attempts) == 2
    assert attempts[0][2]["nonce"] == attempts[1][2]["nonce"] == "huitaine-1-0"
    assert len(fake.channel_posts(HELP)) == 1
    outbox = await bot.runtime.call(bot.core.review.outbox)
    assert [(i.state, i.platform_message_id) for i in outbox] == [
        (SendState.SENT, fake.channel_posts(HELP)[0].id)
    ]


async def test_rate_limits_are_left_to_discord_py(fake: FakeDiscord, start_bot: StartBot) -> None:
    await start_bot()
    card = await open_case(fake)
    fake.fail(
        "POST",
        f"/channels/{HELP}/messages$",
        429,
        body={"message": "You are being rate limited.", "retry_after": 0.05, "global": False},
        headers={"Via": "1.1 google", "X-RateLimit-Scope": "user"},
    )
    send = await fake.press(CAMILLE, card.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(send)).startswith("✅ Reply posted")
    assert len(fake.channel_posts(HELP)) == 1


async def test_an_unconfirmed_reply_waits_for_a_moderator_to_confirm_or_resend(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    # 503 is not retried by discord.py: the outcome is unknown, the reply waits for a human.
    fake.fail("POST", f"/channels/{HELP}/messages$", 503)
    send = await fake.press(CAMILLE, card.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(send)).startswith("⚠️ Discord did not")
    outbox = await bot.runtime.call(bot.core.review.outbox)
    assert [i.state for i in outbox] == [SendState.UNCONFIRMED]
    await fake.wait_for(lambda: ids.make(Action.RETRY, 1, "1") in buttons(fake.messages[card.id]))
    assert buttons(fake.messages[card.id]) == [
        ids.make(Action.CONFIRM, 1, "1"),
        ids.make(Action.RETRY, 1, "1"),
    ]
    # Someone forges a retry of this reply from another case: refused.
    other = await fake.press(CAMILLE, card.id, ids.make(Action.RETRY, 2, "1"), forge=True)
    assert "does not exist" in await fake.answer_text(other)
    retry = await fake.press(CAMILLE, card.id, ids.make(Action.RETRY, 1, "1"))
    assert (await fake.answer_text(retry)).startswith("✅ Reply posted")
    assert len(fake.channel_posts(HELP)) == 1
    log = await bot.runtime.call(bot.core.review.audit_log, 1)
    assert [row["action"] for row in log] == ["approve", "retry_send"]


async def test_confirming_an_unconfirmed_reply_sends_nothing(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    fake.fail("POST", f"/channels/{HELP}/messages$", 503)
    send = await fake.press(CAMILLE, card.id, ids.make(Action.SEND, 1))
    await fake.answer_text(send)
    await fake.wait_for(
        lambda: ids.make(Action.CONFIRM, 1, "1") in buttons(fake.messages[card.id])
    )
    pressed = await fake.press(CAMILLE, card.id, ids.make(Action.CONFIRM, 1, "1"))
    assert await fake.answer_text(pressed) == ("Case #1: reply recorded as posted.")
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.state is CaseState.ANSWERED
    assert fake.channel_posts(HELP) == []


async def test_reminders_and_escalation_go_to_the_review_channel(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    clock.advance(timedelta(hours=46, minutes=30))  # two hours before the 48 h target
    delivered = await bot.runtime.tick()
    assert len(delivered) == 1
    notice = fake.channel_posts(REVIEW)[-1]
    assert notice.body["content"].startswith("⏰ Case #1")
    assert "<t:" in notice.body["content"]
    assert card.id in notice.body["content"]
    assert notice.body["allowed_mentions"] == {"parse": []}

    clock.advance(timedelta(days=6))  # past the one-week limit
    delivered = await bot.runtime.tick()
    # The weekly digest may follow in the same tick: pick the escalation out by its mention.
    escalation = next(
        post for post in fake.channel_posts(REVIEW) if "🚨" in (post.body.get("content") or "")
    )
    assert escalation.body["content"].startswith("<@&1300000000000000403> 🚨")
    assert escalation.body["allowed_mentions"] == {
        "parse": [],
        "roles": [1300000000000000403],
    }
    assert await bot.runtime.tick() == []  # delivered once


async def test_weekly_digest_is_posted_once_at_its_hour(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    bot = await start_bot()  # Monday 09:00 UTC, the configured digest hour
    await open_case(fake)
    before = len(fake.channel_posts(REVIEW))
    await bot.runtime.tick()
    posted = fake.channel_posts(REVIEW)[before:]
    assert len(posted) == 1
    assert posted[0].body["content"].startswith("📋 Weekly digest")
    assert "Closest to the one-week limit" in posted[0].body["content"]
    assert posted[0].body["allowed_mentions"] == {"parse": []}

    def digests() -> int:
        return sum(
            (post.body.get("content") or "").startswith("📋")
            for post in fake.channel_posts(REVIEW)
        )

    clock.advance(timedelta(days=6, hours=23))
    await bot.runtime.tick()
    assert digests() == 1  # once a week, not at every tick
    clock.advance(timedelta(hours=1))
    await bot.runtime.tick()
    assert digests() == 2


async def test_slash_commands_answer_staff_and_refuse_members(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    await start_bot()
    await open_case(fake)
    listing = await fake.slash(CAMILLE, "cases")
    callback = await fake.callback(listing)
    assert callback.ephemeral
    assert callback.data["content"].startswith("**Waiting for an answer (1)**\n#1 · suggested")
    shown = await fake.slash(CAMILLE, "case", {"number": 1})
    callback = await fake.callback(shown)
    assert callback.data["embeds"][0]["title"].startswith("❓ Question #1")
    assert ids.make(Action.SEND, 1) in buttons(callback.data)
    report = await fake.slash(CAMILLE, "report")
    callback = await fake.callback(report)
    assert callback.data["content"].startswith("```\nHuitaine report")
    refused = await fake.slash(BOB, "cases")
    callback = await fake.callback(refused)
    assert callback.ephemeral
    assert callback.data["content"].startswith("Only moderators")


async def test_a_reply_left_sending_by_a_crash_waits_on_its_card(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    first = await start_bot()
    card = await open_case(fake)
    # The process dies after recording the approval, before (or while) posting the reply.
    moderator = Actor(
        "discord", CAMILLE.id, "Camille", (Standing(GUILD, frozenset({"Moderator"})),)
    )
    await first.runtime.call(first.core.review.approve, moderator, 1)
    await first.stop()

    await start_bot()
    confirm_id = ids.make(Action.CONFIRM, 1, "1")
    await fake.wait_for(lambda: confirm_id in buttons(fake.messages[card.id]))
    assert fake.channel_posts(HELP) == []  # never re-sent blindly


async def test_stale_edit_and_failures_after_deferring_are_answered(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    card = await open_case(fake)
    # Discord fails to update the card after the snooze was recorded: the moderator is told.
    fake.fail("PATCH", f"/channels/{REVIEW}/messages/", 503)
    snooze = await fake.press(CAMILLE, card.id, ids.make(Action.SNOOZE, 1))
    assert (await fake.answer_text(snooze)).startswith("Something went wrong")
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.snoozed_until is not None

    send = await fake.press(CAMILLE, card.id, ids.make(Action.SEND, 1))
    assert (await fake.answer_text(send)).startswith("✅ Reply posted")
    edit = await fake.press(CAMILLE, card.id, ids.make(Action.EDIT, 1), forge=True)
    refusal = await fake.callback(edit)
    assert refusal.type == 4  # no modal for a case that is already answered
    assert refusal.data["content"] == "Refused: case 1 is answered. Nothing was changed."


async def test_moderators_of_one_server_cannot_see_or_act_on_another_servers_cases(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    """Camille is a Moderator here; a case from another server the bot is in is not hers."""
    bot = await start_bot(discord_config(guild_ids=[]))  # the default: every server
    other_guild, other_channel = "1300000000000000999", "1300000000000000998"
    stranger = Message(
        platform="discord",
        community=other_guild,
        channel=other_channel,
        id="1300000000000000997",
        author=Author("1300000000000000996", "Zed"),
        text="my invoice is wrong, please fix it",
        created_at=clock.now(),
    )
    await bot.runtime.ingest(stranger)
    card = (await fake.wait_for(lambda: fake.channel_posts(REVIEW)))[0]
    pressed = [
        await fake.press(CAMILLE, card.id, ids.make(action, 1))
        for action in (Action.SEND, Action.EDIT, Action.DISMISS, Action.SNOOZE, Action.MINE)
    ]
    pressed.append(await fake.submit_modal(CAMILLE, ids.make(Action.SUBMIT, 1), {"reply": "hi"}))
    for interaction in pressed:
        callback = await fake.callback(interaction)
        assert callback.data["content"].startswith("Only moderators can act on cases.")
    shown = await fake.callback(await fake.slash(CAMILLE, "case", {"number": 1}))
    assert shown.data["content"].startswith("Only moderators")
    listing = await fake.callback(await fake.slash(CAMILLE, "cases"))
    assert "Zed" not in listing.data["content"]
    report = await fake.callback(await fake.slash(CAMILLE, "report"))
    assert "Zed" not in report.data["content"]
    assert fake.channel_posts(other_channel) == []
    assert await bot.runtime.call(bot.core.review.audit_log, 1) == []
    assert (await bot.runtime.call(bot.core.cases.get, 1)).state is CaseState.SUGGESTED


class Killed(Exception):
    """Stands for a SIGKILL between posting and recording the post."""


async def test_a_reminder_posted_then_killed_before_marked_delivered_is_not_posted_twice(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    bot = await start_bot()
    await open_case(fake)
    clock.advance(timedelta(hours=46, minutes=30))  # two hours before the 48 h target
    mark = bot.core.scheduler.mark_delivered

    def killed(notice_id: int, when: datetime) -> None:
        raise Killed  # the process dies after posting, before recording it

    bot.core.scheduler.mark_delivered = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await bot.runtime.tick()
    bot.core.scheduler.mark_delivered = mark  # type: ignore[method-assign]
    assert len(await bot.runtime.tick()) == 1  # offered again after the "restart"
    reminders = [
        post for post in fake.channel_posts(REVIEW) if "⏰" in (post.body.get("content") or "")
    ]
    assert len(reminders) == 1
    attempts = [r for r in fake.requests if r[2] and "⏰" in str(r[2].get("content"))]
    assert len(attempts) == 2
    assert attempts[0][2]["nonce"] == attempts[1][2]["nonce"]
    assert attempts[0][2]["enforce_nonce"] is True


async def test_a_digest_posted_then_killed_before_marked_delivered_is_not_posted_twice(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    bot = await start_bot()  # Monday 09:00 UTC, the configured digest hour
    await open_case(fake)  # a community with no case gets no digest
    mark = bot.core.digests.mark_delivered

    def killed(digest_id: int, when: datetime) -> None:
        raise Killed

    bot.core.digests.mark_delivered = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await bot.runtime.tick()
    bot.core.digests.mark_delivered = mark  # type: ignore[method-assign]
    await bot.runtime.tick()
    digests = [
        post
        for post in fake.channel_posts(REVIEW)
        if (post.body.get("content") or "").startswith("📋")
    ]
    assert len(digests) == 1


async def test_a_community_with_its_own_review_place_gets_its_cards_and_digest_there(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    config = discord_config()
    # The guild's moderators read #off-topic (ignored as a member channel), not the default.
    own = replace(config, community=replace(config.community, review_place=OFFTOPIC))
    key = community_key("discord", GUILD)
    bot = await start_bot(replace(config, communities=MappingProxyType({key: own})))
    await fake.say(ALICE, HELP, QUESTION)
    (card,) = await fake.wait_for(lambda: fake.channel_posts(OFFTOPIC))
    assert card.body["embeds"]
    await bot.runtime.tick()  # Monday 09:00 UTC, the configured digest hour
    digest = fake.channel_posts(OFFTOPIC)[-1].body["content"]
    assert digest.startswith("📋 Weekly digest")
    assert "Alice" in digest
    assert fake.channel_posts(REVIEW) == []
