"""Catch-up after a new gateway session: what Discord will not replay is read back from history."""

from __future__ import annotations

import asyncio

import pytest

from bot.ingest import Outcome
from tests.adapters.discord.conftest import WAIT, Running, StartBot
from tests.adapters.discord.fake_discord import (
    ALICE,
    BOB,
    DANA,
    EMILE,
    HELP,
    OFFTOPIC,
    REVIEW,
    THREAD,
    FakeDiscord,
)
from tests.adapters.discord.test_discord_e2e import QUESTION, IngestSpy


async def caught_up() -> None:
    """Wait for the catch-up tasks running now (the bot's own, named ones)."""
    running = [t for t in asyncio.all_tasks() if t.get_name() == "discord catch-up"]
    await asyncio.wait_for(asyncio.gather(*running), WAIT)


def identify_at_once(bot: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py waits 5 s before a new IDENTIFY (its documented hook): not in a test."""

    async def at_once(shard_id: int | None, *, initial: bool = False) -> None:
        return None

    monkeypatch.setattr(bot.adapter.client, "before_identify_hook", at_once)


async def test_messages_posted_during_an_invalid_session_open_their_cases_after_ready(
    fake: FakeDiscord,
    start_bot: StartBot,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start_bot()
    identify_at_once(bot, monkeypatch)
    spy = IngestSpy(bot)
    first = await fake.say(ALICE, HELP, QUESTION)
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 1)
    await spy.wait_for_count(1)
    await caught_up()

    caplog.set_level("INFO", logger="adapters.discord")
    await fake.invalidate()  # op 9: the old session is dead, nothing of it is replayed
    missed = [
        await fake.say(DANA, HELP, "Where can I find the opening hours?"),
        await fake.say(EMILE, THREAD, "The app crashes every time I open it, unacceptable"),
    ]
    await fake.say(BOB, OFFTOPIC, "Does anyone know a good pizza place?")  # ignored channel

    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 3, WAIT)
    assert len(fake.identifies) == 2  # a new session, not a RESUME
    await spy.wait_for_count(3)
    outcomes = {mid: [o for i, o in spy.seen if i == mid] for mid, _ in spy.seen}
    assert outcomes[first["id"]] == [Outcome.OPENED]  # not read back: it was stored
    for message in missed:
        assert outcomes[message["id"]] == [Outcome.OPENED]
    stored = await bot.runtime.call(
        bot.core.store.rows, "SELECT id FROM messages WHERE platform = 'discord'"
    )
    assert sorted(row["id"] for row in stored) == sorted([first["id"], *(m["id"] for m in missed)])
    reads = [path for method, path, _ in fake.requests if method == "GET" and "/messages" in path]
    assert not any(OFFTOPIC in path for path in reads)  # an ignored channel is not read
    await caught_up()
    assert any("2 new" in record.getMessage() for record in caplog.records)


async def test_messages_posted_while_the_bot_was_stopped_are_read_back_at_start(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    first_run = await start_bot()
    await fake.say(ALICE, HELP, QUESTION)
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 1)
    await first_run.stop()
    await fake.say(DANA, HELP, "Where can I find the opening hours?")

    second_run = await start_bot()
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 2, WAIT)
    cases = await second_run.runtime.call(second_run.core.cases.list)
    # REST messages carry no member: the name read back is the account's, not the nickname.
    assert sorted(c.author.id for c in cases) == sorted([ALICE.id, DANA.id])


async def test_a_resumed_session_reads_no_history(fake: FakeDiscord, start_bot: StartBot) -> None:
    await start_bot()
    await fake.say(ALICE, HELP, QUESTION)
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 1)
    await caught_up()  # the start's own catch-up
    before = len(fake.requests)
    await fake.drop(4000)
    await fake.say(DANA, HELP, "Where can I find the opening hours?")
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 2, WAIT)
    reads = [r for r in fake.requests[before:] if r[0] == "GET" and r[1].endswith("/messages")]
    assert reads == []  # Discord replayed the gap itself


async def test_a_session_invalidated_before_anything_was_stored_still_reads_back(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bot has listened since its first session, but nothing was said yet: a guild with
    # nothing stored is no first start, and what was said while the session was down counts.
    bot = await start_bot()
    identify_at_once(bot, monkeypatch)
    await caught_up()
    await fake.invalidate()  # op 9 before anyone spoke
    missed = await fake.say(DANA, HELP, "Where can I find the opening hours?")

    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) == 1, WAIT)
    await caught_up()
    stored = await bot.runtime.call(
        bot.core.store.rows, "SELECT id FROM messages WHERE platform = 'discord'"
    )
    assert [row["id"] for row in stored] == [missed["id"]]
