"""convert.py on recorded gateway payloads, and discord.py's parser agreeing with it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.bot import DiscordAdapter
from adapters.discord.convert import (
    GuildFacts,
    Place,
    admit,
    convert_payload,
    facts_from_payload,
    modal_values,
    snowflake_at,
    snowflake_time,
    split_text,
)
from adapters.discord.ids import Action, decode
from adapters.discord.sdk import discord
from adapters.discord.settings import DiscordSettings, parse_settings
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import parse_config
from bot.models import Author, Message, Standing
from bot.runtime import Runtime
from bot.staff import StaffPolicy
from tests.adapters.discord import dpy_seams

PAYLOADS = Path(__file__).parent / "payloads"
GUILD = "1187433009364451389"
HELP = "1187433010207518780"
GENERAL = "1187433010207518781"
REVIEW = "1187433010207518782"
FORUM = "1187433010207518785"
THREAD = "1566587643494400011"
FORUM_POST = "1566731088691200012"
BOT_ID = "1187432921276166155"
ALICE = "1187440238171996171"
CAMILLE = "1187440238171996173"


def frame(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = frame(name)["d"]
    return data


def settings(**options: Any) -> DiscordSettings:
    return parse_settings(
        parse_config({"discord": {"review_channel": REVIEW, "guild_ids": [GUILD], **options}})
    )


GUILD_FACTS = GuildFacts.from_payload(payload("guild_create.json"))


def answers_as_staff(message: Message, **options: Any) -> bool:
    """The core's decision on a converted message, with `[discord]` options `options`."""
    config = parse_config({"discord": {"review_channel": REVIEW, **options}})
    return StaffPolicy(config.staff).answers_as_staff(message)


def convert(name: str, **options: Any) -> Message | None:
    return convert_payload(payload(name), GUILD_FACTS, settings(**options), bot_id=BOT_ID)


def test_snowflakes_carry_their_time() -> None:
    when = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert snowflake_time(snowflake_at(when, 7)) == when
    assert snowflake_time("175928847299117063") == datetime(
        2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC
    )  # the example of Discord's reference documentation


def test_guild_create_gives_roles_owner_and_threads() -> None:
    assert GUILD_FACTS.roles["1187433111550890043"].name == "Moderator"
    assert GUILD_FACTS.threads == {THREAD: HELP, FORUM_POST: FORUM}
    assert GUILD_FACTS.place(THREAD) == Place(THREAD, HELP, True)
    assert GUILD_FACTS.place(HELP) == Place(HELP)


def test_a_question_in_help() -> None:
    assert convert("message_create_question_en.json") == Message(
        platform="discord",
        community=GUILD,
        channel=HELP,
        id="1566738638438400021",
        # The facts the core judges: her roles in this server, and no admin flag.
        author=Author(id=ALICE, name="Alice", standing=Standing(GUILD, frozenset({"Regulars"}))),
        text="Hi! How do I reset my password? The email never comes.",
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    )


def test_a_moderator_replying_in_a_thread() -> None:
    message = convert("message_create_staff_reply_in_thread_fr.json")
    assert message is not None
    assert (message.channel, message.thread) == (THREAD, THREAD)
    assert message.reply_to == "1566737380147200022"
    assert message.mentions == (ALICE,)
    assert (message.author.id, message.author.name) == (CAMILLE, "Camille (modo)")
    assert answers_as_staff(message)
    assert message.created_at == datetime(2026, 11, 2, 9, 2, tzinfo=UTC)


def test_a_forum_post_is_a_thread_whose_first_message_has_its_id() -> None:
    message = convert("message_create_forum_post_fr.json")
    assert message is not None
    assert (message.id, message.channel, message.thread) == (FORUM_POST, FORUM_POST, FORUM_POST)
    assert message.author.name == "Dana (FR)"


@pytest.mark.parametrize(
    "name",
    [
        "message_create_other_bot.json",
        "message_create_webhook.json",
        "message_create_forward.json",  # no text of its own
        "message_create_member_join.json",
    ],
)
def test_what_is_not_member_talk(name: str) -> None:
    assert convert(name) is None


def test_a_forward_is_never_a_reply() -> None:
    facts = facts_from_payload(payload("message_create_forward.json"))
    assert facts is not None
    assert facts.reply_to is None


def test_a_communitys_own_review_channel_is_not_members_talk() -> None:
    # Moderators of this server review in #help (its own review place): what they say there
    # is not a member's question, exactly as in the default review channel.
    config = parse_config(
        {
            "discord": {"review_channel": REVIEW, "guild_ids": [GUILD]},
            "communities": {f"discord:{GUILD}": {"community": {"review_place": HELP}}},
        }
    )
    own = parse_settings(config)
    name = "message_create_question_en.json"
    assert convert_payload(payload(name), GUILD_FACTS, own, bot_id=BOT_ID) is None
    assert convert(name) is not None


def test_guild_channel_and_staff_options() -> None:
    name = "message_create_question_en.json"
    assert convert(name, guild_ids=["1"]) is None
    assert convert(name, ignore_channels=[HELP]) is None
    assert convert(name, channels=[GENERAL]) is None
    assert convert(name, channels=[HELP]) is not None
    # A thread follows its parent in both lists.
    reply = "message_create_staff_reply_in_thread_fr.json"
    assert convert(reply, ignore_channels=[HELP]) is None
    assert convert(reply, channels=[HELP]) is not None
    # "Regulars" is no staff role, until configured as one.
    regular = convert(name, staff_roles=["regulars"])
    assert regular is not None
    assert not answers_as_staff(regular)
    assert answers_as_staff(regular, staff_roles=["regulars"])
    # The review channel is never member talk.
    moved = {**payload(name), "channel_id": REVIEW}
    assert convert_payload(moved, GUILD_FACTS, settings(), bot_id=BOT_ID) is None
    # Nor is the bot's own message.
    own = {**payload(name), "author": {**payload(name)["author"], "id": BOT_ID}}
    assert convert_payload(own, GUILD_FACTS, settings(), bot_id=BOT_ID) is None


def test_manage_messages_makes_staff_only_when_configured() -> None:
    helper = {**payload("message_create_question_en.json")}
    helper["member"] = {**helper["member"], "roles": ["1187433111550890045"]}  # "Helpers"
    staff = settings()
    plain = convert_payload(helper, GUILD_FACTS, staff, bot_id=BOT_ID)
    assert plain is not None
    assert not answers_as_staff(plain)
    config = parse_config(
        {
            "staff": {"roles": ["moderator"]},
            "discord": {"review_channel": REVIEW, "manage_messages_is_staff": True},
        }
    )
    message = convert_payload(helper, GUILD_FACTS, parse_settings(config), bot_id=BOT_ID)
    assert message is not None
    assert StaffPolicy(config.staff).answers_as_staff(message)


def test_an_edit_and_a_partial_update() -> None:
    edited = convert_payload(
        payload("message_update_edit.json"), GUILD_FACTS, settings(), bot_id=BOT_ID, edited=True
    )
    assert edited is not None
    assert edited.edited
    assert edited.text.endswith("and I checked spam.")
    assert facts_from_payload({"id": "1", "channel_id": HELP, "embeds": []}) is None


def test_modal_values_in_both_shapes() -> None:
    rows = payload("interaction_modal_submit_rows.json")["data"]
    labels = payload("interaction_modal_submit_label.json")["data"]
    assert modal_values(rows) == {
        "reply": "Hi Alice, check your spam folder, then tell me. — Camille"
    }
    assert modal_values(labels) == {"reply": "Bonjour Alice, regardez vos indésirables. — Camille"}


def test_split_text_keeps_every_word_and_the_limit() -> None:
    assert split_text("short") == ["short"]
    assert split_text("  ") == []
    words = " ".join(f"word{i}" for i in range(1200))
    parts = split_text(words)
    assert all(len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == words.split()
    # Emoji outside the BMP count twice (UTF-16), as Discord's client counts them.
    emoji = "🙂" * 1500
    assert [len(p) for p in split_text(emoji)] == [1000, 500]
    paragraphs = ("a" * 1500) + "\n\n" + ("b" * 1500)
    assert split_text(paragraphs) == ["a" * 1500, "b" * 1500]


# --------------------------------------------------------------------- discord.py's own parser


@pytest.fixture
async def adapter(tmp_path: Path, clock: ManualClock) -> AsyncIterator[DiscordAdapter]:
    config = parse_config(
        {
            "community": {"language": "en"},
            "discord": {"review_channel": REVIEW, "guild_ids": [GUILD]},
        }
    )
    runtime = Runtime(Huitaine(config, clock=clock, database=tmp_path / "h.db"))
    bot = DiscordAdapter(config, runtime, parse_settings(config), guild_ready_timeout=0.01)
    await dpy_seams.prepare_offline(bot.client)
    events = dpy_seams.capture_dispatch(bot.client)
    dpy_seams.parse(bot.client, "READY", payload("ready.json"))
    dpy_seams.parse(bot.client, "GUILD_CREATE", payload("guild_create.json"))
    await events.wait("ready")
    yield bot
    await bot.client.close()
    await runtime.close()


@pytest.mark.parametrize(
    "name",
    [
        "message_create_question_en.json",
        "message_create_staff_reply_in_thread_fr.json",
        "message_create_forum_post_fr.json",
        "message_create_other_bot.json",
        "message_create_webhook.json",
        "message_create_forward.json",
        "message_create_member_join.json",
    ],
)
async def test_the_parser_and_convert_agree(adapter: DiscordAdapter, name: str) -> None:
    events = dpy_seams.capture_dispatch(adapter.client)
    dpy_seams.parse(adapter.client, "MESSAGE_CREATE", payload(name))
    (message,) = events.args("message")
    assert isinstance(message, discord.Message)
    assert adapter.to_core(message) == convert(name)


async def test_a_raw_edit_of_an_uncached_message_is_converted(adapter: DiscordAdapter) -> None:
    events = dpy_seams.capture_dispatch(adapter.client)
    dpy_seams.parse(adapter.client, "MESSAGE_UPDATE", payload("message_update_edit.json"))
    (raw,) = events.args("raw_message_edit")
    assert raw.cached_message is None
    assert adapter.to_core(raw.message, edited=True) == convert_payload(
        payload("message_update_edit.json"), GUILD_FACTS, settings(), bot_id=BOT_ID, edited=True
    )
    assert events.args("message_edit") == []


async def test_interactions_built_from_recorded_payloads(adapter: DiscordAdapter) -> None:
    button = discord.Interaction(
        data=payload("interaction_button_send.json"),  # type: ignore[arg-type]
        state=adapter.client._connection,
    )
    actor = adapter.actor_of(button)
    assert (actor.platform, actor.id, actor.name) == ("discord", CAMILLE, "Camille (modo)")
    # Roles are reported for the server pressed from, and for no other.
    assert actor.standing == (Standing(GUILD, frozenset({"Moderator"})),)
    data: Any = button.data
    assert decode(str(data["custom_id"])).action is Action.SEND
    assert button.message is not None
    assert [c.custom_id for c in button.message.components[0].children] == [  # type: ignore[union-attr]
        "huitaine:v1:send:1",
        "huitaine:v1:edit:1",
        "huitaine:v1:dismiss:1",
        "huitaine:v1:snooze:1",
        "huitaine:v1:mine:1",
    ]
    modal = discord.Interaction(
        data=payload("interaction_modal_submit_label.json"),  # type: ignore[arg-type]
        state=adapter.client._connection,
    )
    assert modal.type is discord.InteractionType.modal_submit
    submitted: Any = modal.data
    assert decode(str(submitted["custom_id"])).action is Action.SUBMIT


def test_a_member_without_roles_in_the_payload_is_no_staff() -> None:
    facts = facts_from_payload(payload("message_create_webhook.json"))
    assert facts is not None
    assert facts.role_ids == frozenset()
    assert not admit(facts, Place(HELP), settings(), bot_id=BOT_ID)
