"""convert.py on recorded Bot API payloads: one update in, one platform-neutral Message out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Message as TgMessage
from telegram import Update

from adapters.telegram.convert import (
    MAX_MESSAGE,
    message_link,
    reply_to,
    split_text,
    to_message,
    utf16_len,
)
from adapters.telegram.keyboard import Act, decode
from bot.config import StaffConfig
from bot.models import Message
from bot.staff import StaffPolicy
from tests.adapters.telegram.fake_bot_api import BOT_USER
from tests.adapters.telegram.world import ALICE, BOB, CAMILLE, FORUM_ID, GROUP_ID, payload

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BOT_ID = BOT_USER["id"]
STAFF = frozenset({CAMILLE["id"]})


def tg_message(name: str) -> TgMessage:
    update = Update.de_json(payload(name), None)
    message = update.message or update.edited_message
    assert message is not None
    return message


def answers_as_staff(message: Message) -> bool:
    """The core's decision on the facts the adapter reported (default `[staff]`)."""
    return StaffPolicy(StaffConfig()).answers_as_staff(message)


def convert(name: str, **kw: Any) -> Any:
    return to_message(tg_message(name), bot_id=BOT_ID, admin_ids=STAFF, **kw)


def test_group_complaint_becomes_a_message() -> None:
    message = convert("group_complaint_fr")
    assert message.platform == "telegram"
    assert message.community == message.channel == str(GROUP_ID)
    assert message.id == "4201"
    assert message.author.id == str(ALICE["id"])
    assert message.author.name == "Alice Martin"
    assert not answers_as_staff(message)
    assert not message.author.is_bot
    assert message.text.startswith("Bonjour, toujours pas reçu ma commande")
    assert message.created_at == START
    assert message.created_at.tzinfo is not None
    assert message.thread is None
    assert message.reply_to is None
    assert not message.edited


def test_forum_topic_is_the_thread_and_its_root_is_not_a_reply() -> None:
    message = convert("forum_topic_question_en")
    assert message.community == str(FORUM_ID)
    assert message.thread == "76"
    assert message.reply_to is None  # the topic's creation message is where, not whom


def test_explicit_reply_inside_a_topic_keeps_both() -> None:
    message = convert("forum_explicit_reply")
    assert message.thread == "76"
    assert message.reply_to == "312"
    assert answers_as_staff(message)


def test_staff_reply_carries_reply_to_and_a_resolved_mention() -> None:
    message = convert("staff_reply_fr", usernames={"alice_m": ALICE["id"]})
    assert message.reply_to == "4201"
    assert answers_as_staff(message)
    assert message.mentions == (str(ALICE["id"]),)


def test_unknown_username_resolves_to_nothing() -> None:
    assert convert("staff_reply_fr").mentions == ()


def test_mentions_use_utf16_offsets() -> None:
    message = convert("mentions_utf16_fr", usernames={"bob_b": BOB["id"]})
    # The text_mention sits after two emoji (two UTF-16 units each).
    assert message.mentions == (str(CAMILLE["id"]), str(BOB["id"]))


def test_private_messages_share_the_bots_inbox_community() -> None:
    message = convert("private_question_en")
    # One community for every private chat (moderated by the groups' admins); the chat itself
    # stays the channel, where the reply goes.
    assert (message.community, message.channel) == ("private", str(BOB["id"]))
    assert message.author.name == "Bob"


def test_edit_keeps_the_original_time() -> None:
    message = convert("edited_question_fr", edited=True)
    assert message.edited
    assert message.id == "4205"
    assert message.created_at == START + timedelta(minutes=5)


def test_caption_is_the_text() -> None:
    message = convert("photo_caption_fr")
    assert message.text.startswith("Le colis est arrivé cassé")


def test_anonymous_admin_speaks_as_the_group_and_is_staff() -> None:
    message = convert("anonymous_admin_fr")
    assert message.author.id == str(GROUP_ID)
    assert answers_as_staff(message)
    assert not message.author.is_bot


def test_linked_channel_post_is_staff() -> None:
    message = convert("automatic_forward_fr")
    assert message.author.id == "-1002233445566"
    assert answers_as_staff(message)


def test_other_bots_come_through_flagged() -> None:
    message = convert("other_bot_en")
    assert message.author.is_bot


@pytest.mark.parametrize("name", ["sticker", "new_member"])
def test_messages_without_text_give_nothing(name: str) -> None:
    assert convert(name) is None


def test_the_bots_own_message_gives_nothing() -> None:
    data = payload("group_complaint_fr")
    data["message"]["from"] = BOT_USER
    message = Update.de_json(data, None).message
    assert message is not None
    assert to_message(message, bot_id=BOT_ID) is None


def test_recorded_button_press_decodes() -> None:
    update = Update.de_json(payload("callback_query_send"), None)
    query = update.callback_query
    assert query is not None
    assert isinstance(query.message, TgMessage)
    callback = decode(query.data)
    assert (callback.action, callback.case_id) == (Act.SEND, 1)
    assert reply_to(query.message) is None


def test_split_keeps_every_character_and_fits() -> None:
    paragraph = "Bonjour 👋 " * 300
    text = "\n\n".join([paragraph.strip()] * 4)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(utf16_len(part) <= MAX_MESSAGE for part in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )


def test_split_cuts_a_wordless_text_by_utf16_units() -> None:
    text = "😀" * 5000  # 10,000 UTF-16 units
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == [4096, 4096, 1808]


def test_short_text_is_one_part() -> None:
    assert split_text("  Merci !  ") == ["Merci !"]


def test_message_links() -> None:
    assert message_link(-1001234567890, 42) == "https://t.me/c/1234567890/42"
    assert message_link(-1001234567890, 42, thread=7) == "https://t.me/c/1234567890/7/42"
    assert message_link(-1001555000111, 9, username="atelier_forum") == (
        "https://t.me/atelier_forum/9"
    )
    assert message_link(-4001234, 42) is None  # a basic group
    assert message_link(333333333, 42) is None  # a private chat
