"""Payload conversion on both platforms: a payload of a shape the platform never sends is
skipped with a log line (None), never an exception in the adapter."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from telegram import Update

from adapters.discord.convert import GuildFacts, convert_payload, modal_values
from adapters.telegram.business import business_message
from adapters.telegram.convert import to_message
from tests.adapters.discord.test_discord_convert import BOT_ID, GUILD_FACTS, settings
from tests.adapters.discord.test_discord_convert import payload as discord_payload
from tests.adapters.telegram.world import payload as telegram_payload

QUESTION = "message_create_question_en.json"


def changed(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_the_recorded_question_converts() -> None:
    message = convert_payload(discord_payload(QUESTION), GUILD_FACTS, settings(), bot_id=BOT_ID)
    assert message is not None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("mentions",), [123]),
        (("mentions",), "x"),
        (("id",), "not a snowflake"),
        (("id",), 2**70),
        (("id",), "9" * 20),  # a 64-bit overflow, and a date far past 2200
        (("channel_id",), None),
        (("type",), "x"),
        (("message_reference",), "x"),
        (("member",), {"roles": 5}),
        (("author", "id"), {"a": 1}),
        (("content",), {"text": "hi"}),
        (("guild_id",), [1]),
    ],
)
def test_odd_discord_payloads_are_skipped_not_raised(path: tuple[str, ...], value: Any) -> None:
    data = changed(discord_payload(QUESTION), path, value)
    message = convert_payload(data, GUILD_FACTS, settings(), bot_id=BOT_ID)
    if message is not None:  # an odd field that is simply left out
        assert isinstance(message.text, str)
        assert all(isinstance(m, str) and m.isdecimal() for m in message.mentions)


def test_odd_guild_create_and_modal_payloads_are_read_as_far_as_they_make_sense() -> None:
    guild = discord_payload("guild_create.json")
    odd = changed(guild, ("roles",), [*guild["roles"], 5, {"id": "x"}, {"id": "1", "name": 3}])
    odd["threads"] = "none"
    facts = GuildFacts.from_payload(odd)
    assert facts.roles == GUILD_FACTS.roles
    assert facts.threads == {}
    assert modal_values({"components": 5}) == {}
    assert modal_values({"components": [{"components": "x"}, 7]}) == {}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("message", "text"), 123),
        (("message", "from", "id"), [1]),
        (("message", "chat", "id"), "abc"),
        (("message", "date"), 253402300800),  # year 10000
        (("message", "entities"), [{"type": "mention", "offset": "x", "length": 3}]),
        (("message", "from", "first_name"), "A\udc80"),
        (("message", "from", "first_name"), [[["deep"]]]),
        (("message", "chat"), "x"),
        (
            ("message", "entities"),
            [
                {
                    "type": "text_mention",
                    "offset": 0,
                    "length": 3,
                    "user": {"id": "\udc80", "is_bot": False, "first_name": "x"},
                }
            ],
        ),
        (("message", "from"), "x"),
    ],
)
def test_odd_telegram_updates_are_skipped_not_raised(path: tuple[str, ...], value: Any) -> None:
    data = changed(telegram_payload("group_complaint_fr"), path, value)
    try:
        update = Update.de_json(data, None)
    except (TypeError, ValueError, OverflowError, OSError):
        return  # refused by python-telegram-bot itself, before our code runs
    assert update.message is not None
    message = to_message(update.message, bot_id=1)
    if message is not None:
        assert isinstance(message.text, str)
        message.author.name.encode("utf-8")  # storable
        assert all(m.isdecimal() for m in message.mentions)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("business_connection_id",), None),
        (("business_connection_id",), 42),
        (("business_connection_id",), ["x"]),
        (("from", "id"), [1]),
        (("from", "id"), {"a": 1}),
        (("chat", "id"), "not an id"),
        (("chat", "id"), [666666666]),
        (("is_from_offline",), "yes"),
        (("sender_business_bot",), {"id": [7000000001], "is_bot": True, "first_name": "x"}),
        (("text",), {"text": "hi"}),
    ],
)
def test_odd_business_messages_are_skipped_not_raised(path: tuple[str, ...], value: Any) -> None:
    data = changed(telegram_payload("business_owner_reply_fr"), ("business_message", *path), value)
    update = Update.de_json(data, None)
    assert update.business_message is not None
    message = business_message(update.business_message, bot_id=7000000001, owner_id=555555555)
    if message is not None:  # an odd field that is simply left out
        assert isinstance(message.text, str)
        assert message.community.startswith("business:")
