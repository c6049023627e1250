"""business.py on recorded Bot API payloads: connections, customers' messages, deletions."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Message as TgMessage
from telegram import Update

from adapters.telegram.business import business_message, link_from
from bot.business import LinkState, community_of, link_of
from bot.config import StaffConfig
from bot.staff import StaffPolicy
from tests.adapters.telegram.fake_bot_api import BOT_USER
from tests.adapters.telegram.world import BUSINESS_ID, CUSTOMER, OWNER, payload

# The core judges the facts the adapter reports (the default staff policy: no ids listed).
STAFF = StaffPolicy(StaffConfig())

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BOT_ID = BOT_USER["id"]
COMMUNITY = f"business:{BUSINESS_ID}"


def update(name: str) -> Update:
    return Update.de_json(payload(name), None)


def message(name: str) -> TgMessage:
    found = update(name).business_message or update(name).edited_business_message
    assert found is not None
    return found


def test_a_connection_names_its_owner_their_chat_and_the_right_to_reply() -> None:
    connection = update("business_connection").business_connection
    assert connection is not None
    link = link_from(connection, NOW)
    assert (link.id, link.owner_id, link.owner_chat) == (
        BUSINESS_ID,
        str(OWNER["id"]),
        "555555555",
    )
    assert link.owner_name == "Margaux Petit"
    assert link.state is LinkState.ACTIVE
    assert link.community == COMMUNITY


def test_the_older_top_level_can_reply_is_read_too() -> None:
    connection = update("business_connection_legacy").business_connection
    assert connection is not None
    assert link_from(connection, NOW).state is LinkState.ACTIVE


def test_rights_without_can_reply_and_a_disabled_connection_stop_replies() -> None:
    revoked = update("business_connection_revoked").business_connection
    disabled = update("business_connection_disabled").business_connection
    assert revoked is not None
    assert disabled is not None
    assert link_from(revoked, NOW).state is LinkState.NO_REPLY
    assert link_from(disabled, NOW).state is LinkState.ENDED


def test_a_customer_message_is_a_member_message_of_the_business_community() -> None:
    converted = business_message(
        message("business_complaint_fr"), bot_id=BOT_ID, owner_id=OWNER["id"]
    )
    assert converted is not None
    assert converted.community == COMMUNITY
    assert converted.channel == str(CUSTOMER["id"])
    assert converted.id == "310"
    assert converted.author.name == "Léa Roux"
    assert not STAFF.answers_as_staff(converted)
    assert "commande" in converted.text


def test_an_edit_keeps_the_message_key_and_says_it_is_an_edit() -> None:
    first = business_message(message("business_complaint_fr"), bot_id=BOT_ID, owner_id=None)
    edit = business_message(
        message("business_edited_fr"), bot_id=BOT_ID, owner_id=None, edited=True
    )
    assert first is not None
    assert edit is not None
    assert edit.key == first.key
    assert edit.edited


def test_the_owner_writing_from_the_app_answers_the_customer_as_staff() -> None:
    # Known owner or not: in a private chat, whoever is not the customer is the business.
    for owner_id in (OWNER["id"], None):
        converted = business_message(
            message("business_owner_reply_fr"), bot_id=BOT_ID, owner_id=owner_id
        )
        assert converted is not None
        assert STAFF.answers_as_staff(converted)
        assert converted.mentions == (str(CUSTOMER["id"]),)


def test_the_bots_own_reply_through_the_connection_is_not_read_back() -> None:
    sent = message("business_sent_by_bot_fr")
    assert business_message(sent, bot_id=BOT_ID, owner_id=OWNER["id"]) is None


def test_a_deletion_names_the_business_chat_and_messages() -> None:
    deleted = update("business_deleted").deleted_business_messages
    assert deleted is not None
    assert link_of(community_of(deleted.business_connection_id)) == BUSINESS_ID
    assert (deleted.chat.id, deleted.message_ids) == (CUSTOMER["id"], (310,))


def test_group_communities_are_not_business_links() -> None:
    assert link_of("-1001234567890") is None
    assert link_of("private") is None
    assert link_of("business:") is None


def test_an_away_message_sent_by_telegram_is_no_answer() -> None:
    away = business_message(message("business_away_message_fr"), bot_id=BOT_ID, owner_id=None)
    assert away is not None
    assert away.community == COMMUNITY
    assert away.author.is_bot
    assert not STAFF.answers_as_staff(away)
