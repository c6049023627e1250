"""What the bot reads from the gateway: threads, forum posts, edits, deletes, staff, bots."""

from __future__ import annotations

from typing import Any

from bot.config import parse_config
from bot.ingest import IngestResult
from bot.models import CaseState, Message
from tests.adapters.discord.conftest import Running, StartBot, discord_config
from tests.adapters.discord.fake_discord import (
    ALICE,
    CAMILLE,
    DANA,
    EMILE,
    FORUM_POST,
    GENERAL,
    GUILD,
    HELP,
    HELPER,
    OFFTOPIC,
    OTHER_BOT,
    REVIEW,
    THREAD,
    FakeDiscord,
)


def record(bot: Running) -> list[Message]:
    """Every Message the adapter hands to the core (new messages and edits)."""
    seen: list[Message] = []
    for name in ("ingest", "edit"):
        original = getattr(bot.runtime, name)

        async def spy(message: Message, _original: Any = original) -> IngestResult:
            seen.append(message)
            result: IngestResult = await _original(message)
            return result

        setattr(bot.runtime, name, spy)
    return seen


async def cards(fake: FakeDiscord, count: int) -> None:
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) >= count)


async def test_threads_and_forum_posts_are_their_own_channel_and_thread(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    seen = record(bot)
    await fake.say(ALICE, THREAD, "How do I log in with my old account?")
    # A forum post's first message has the id of the post (the thread) itself.
    await fake.say(
        DANA, FORUM_POST, "My mug arrived broken, I want a refund", message_id=FORUM_POST
    )
    await cards(fake, 2)
    thread, forum = seen
    assert (thread.channel, thread.thread, thread.community) == (THREAD, THREAD, GUILD)
    assert (forum.channel, forum.thread, forum.id) == (FORUM_POST, FORUM_POST, FORUM_POST)
    assert forum.author.name == "Dana (FR)"  # the server nickname wins
    card = fake.channel_posts(REVIEW)[0].body["embeds"][0]
    assert card["url"] == f"https://discord.com/channels/{GUILD}/{THREAD}/{thread.id}"


async def test_bots_webhooks_system_messages_and_ignored_channels_are_not_read(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    seen = record(bot)
    await fake.say(OTHER_BOT, HELP, "How do I configure the other bot?")
    await fake.say(ALICE, HELP, "How do I subscribe to the newsletter?", webhook=True)
    await fake.say(CAMILLE, REVIEW, "Who takes the refund question?")
    await fake.say(ALICE, OFFTOPIC, "Anyone watched the match? Why was it cancelled?")
    join = fake.message(EMILE, GENERAL, "")
    join["type"] = 7  # "Émile joined the server"
    await fake.dispatch("MESSAGE_CREATE", join)
    await fake.say(ALICE, GENERAL, "   ")
    # A message that is read, after all of those: once its card is up, the others are done.
    await fake.say(DANA, GENERAL, "Where can I download the invoice?")
    await cards(fake, 1)
    assert [m.author.name for m in seen] == ["Dana (FR)"]
    # The bot's own card came back through the gateway too, and was not read either.
    assert any(
        frame["t"] == "MESSAGE_CREATE" and frame["d"]["channel_id"] == REVIEW
        for frame in (fake.session.frames if fake.session else [])
    )


async def test_a_staff_reply_answers_the_case_and_the_card_follows(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    seen = record(bot)
    asked = await fake.say(ALICE, HELP, "Hi, how do I reset my password?")
    await cards(fake, 1)
    card = fake.channel_posts(REVIEW)[0]
    await fake.say(
        CAMILLE, HELP, "Settings → Security, Alice.", reply_to=asked["id"], mentions=(ALICE,)
    )
    await fake.wait_for(lambda: "answered" in fake.messages[card.id]["embeds"][0]["title"])
    reply = seen[-1]
    assert bot.core.ingestor.is_staff(reply)  # the core decides, on the facts reported
    assert reply.reply_to == asked["id"]
    assert reply.mentions == (ALICE.id,)
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert (case.state, case.answered_by) == (CaseState.ANSWERED, "Camille")


async def test_manage_messages_counts_as_staff_only_when_configured(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    config = parse_config(
        {
            "community": {"language": "en"},
            "staff": {"roles": ["moderator"]},
            "discord": {
                **discord_config().platforms["discord"].options,
                "manage_messages_is_staff": True,
            },
        }
    )
    bot = await start_bot(config)
    seen = record(bot)
    asked = await fake.say(ALICE, HELP, "Hi, how do I reset my password?")
    await cards(fake, 1)
    await fake.say(HELPER, HELP, "Settings → Security.", reply_to=asked["id"])
    card = fake.channel_posts(REVIEW)[0]
    await fake.wait_for(lambda: "answered" in fake.messages[card.id]["embeds"][0]["title"])
    assert bot.core.ingestor.is_staff(seen[-1])


async def test_edits_and_deletes_arrive_as_raw_events_for_uncached_messages(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot()
    assert list(bot.adapter.client.cached_messages) == []  # no cache at all: raw events only
    posted = await fake.say(ALICE, HELP, "hello everyone")
    await fake.edit(posted["id"], "hello everyone, how do I change my email address?")
    await cards(fake, 1)
    card = fake.channel_posts(REVIEW)[0]
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.message_ids == (posted["id"],)
    assert "change my email" in case.excerpt

    await fake.delete(posted["id"])
    await fake.wait_for(lambda: "withdrawn" in fake.messages[card.id]["embeds"][0]["title"])
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.state is CaseState.WITHDRAWN
    assert fake.messages[card.id]["components"] == []
