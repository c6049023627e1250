"""Pure conversions between Bot API objects and Huitaine's vocabulary; no I/O here."""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping
from datetime import UTC, datetime

from telegram import Chat, ChatFullInfo, MessageEntity, User
from telegram import Message as TgMessage

from bot.clock import in_range
from bot.models import Author, Message, Standing

_LOGGER = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_MESSAGE = 4096  # Bot API limit on a message's text, in UTF-16 code units
_MENTIONS = (MessageEntity.MENTION, MessageEntity.TEXT_MENTION)

# Private chats with the bot are one community, the bot's inbox: they have no admins of their
# own, and the admins of the community chats moderate them (`TelegramAdapter.actor`).
PRIVATE_COMMUNITY = "private"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Cut `text` into messages Telegram accepts, at a paragraph, a line or a space if possible."""
    text = text.strip()
    parts: list[str] = []
    while utf16_len(text) > limit:
        cut = _fit(text, limit)
        for separator in ("\n\n", "\n", " "):
            # Only a break in the second half: a tiny first part reads worse than a cut word.
            at = text.rfind(separator, cut // 2, cut)
            if at > 0:
                cut = at
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def message_link(
    chat_id: int, message_id: int, *, username: str | None = None, thread: int | None = None
) -> str | None:
    """A t.me link to a message in a supergroup (members of the group can open it), or None."""
    topic = f"{thread}/" if thread is not None else ""
    if username:
        return f"https://t.me/{username}/{topic}{message_id}"
    text = str(chat_id)
    # Supergroup ids are -100 followed by the id that t.me links use; basic groups and private
    # chats have no links.
    if not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{topic}{message_id}"


def chat_name(chat: Chat | ChatFullInfo) -> str:
    """How moderators recognise a chat: its title, or the person's name in a private chat."""
    if chat.type == Chat.PRIVATE:
        return chat.full_name or str(chat.id)
    return chat.title or str(chat.id)


class BadUpdate(ValueError):
    """An update of a shape the Bot API does not send; the message says which field."""


def _id(value: object, what: str) -> int:
    # Bot API ids are integers of at most 52 bits; anything else is a forged or broken update.
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 1 << 63:
        raise BadUpdate(f"{what} is not an id")
    return value


def _name(*candidates: object) -> str:
    for value in candidates:
        if value and isinstance(value, str):
            # A lone surrogate (a broken escape in the JSON) cannot be stored: shown as "?".
            return value.encode("utf-8", "replace").decode("utf-8")
    return "?"


def _author(message: TgMessage, admin_ids: Container[int]) -> Author | None:
    """The author, with the facts the core judges: whether they are an admin of the chat."""
    chat = message.chat
    sender_chat = message.sender_chat
    user = message.from_user
    # python-telegram-bot builds objects from whatever JSON it gets: check what it built.
    if not isinstance(chat, Chat) or not isinstance(sender_chat, Chat | None):
        raise BadUpdate("chat is not a chat")
    if not isinstance(user, User | None):
        raise BadUpdate("from is not a user")
    chat_id = _id(chat.id, "chat.id")
    community = _community(chat, chat_id)
    if sender_chat is not None:
        sender_id = _id(sender_chat.id, "sender_chat.id")
        if sender_id == chat_id:
            # An anonymous admin speaks as the group itself; only admins can do that.
            anonymous = Standing(community, admin=True)
            return Author(str(chat_id), _name(chat.title, str(chat_id)), standing=anonymous)
        # A channel's post forwarded into its discussion group is the owners speaking.
        owners = Standing(community, admin=bool(message.is_automatic_forward))
        return Author(str(sender_id), _name(sender_chat.title, str(sender_id)), standing=owners)
    if user is None:
        return None
    user_id = _id(user.id, "from.id")
    # Not User.full_name: it formats whatever the payload holds, a list nested 900 deep too.
    parts = [p for p in (user.first_name, user.last_name) if isinstance(p, str) and p]
    return Author(
        id=str(user_id),
        name=_name(" ".join(parts), user.username, str(user_id)),
        is_bot=bool(user.is_bot),
        standing=Standing(community, admin=user_id in admin_ids),
    )


def _community(chat: Chat, chat_id: int) -> str:
    # Every private chat belongs to one community, the bot's inbox.
    return PRIVATE_COMMUNITY if chat.type == "private" else str(chat_id)


def _mentions(message: TgMessage, usernames: Mapping[str, int]) -> tuple[str, ...]:
    found: list[str] = []
    entities = (
        message.parse_entities(list(_MENTIONS))
        if message.text is not None
        else message.parse_caption_entities(list(_MENTIONS))
    )
    for entity, text in entities.items():
        if entity.type == MessageEntity.TEXT_MENTION and isinstance(entity.user, User):
            found.append(str(_id(entity.user.id, "entity.user.id")))
        elif entity.type == MessageEntity.MENTION:
            # "@name" carries no id; it resolves only if that member was seen before.
            user_id = usernames.get(text.lstrip("@").casefold())
            if user_id is not None:
                found.append(str(user_id))
    return tuple(dict.fromkeys(found))


def reply_to(message: TgMessage) -> str | None:
    """The id of the message this one answers; None for the implicit reply to a topic's root."""
    target = message.reply_to_message
    if target is None:
        return None
    # In forum topics every message "replies" to the service message that created the topic,
    # which is where it is, not whom it answers.
    if message.is_topic_message and target.forum_topic_created is not None:
        return None
    if not isinstance(target.message_id, int) or isinstance(target.message_id, bool):
        # The Bot API always sends an integer; anything else is not a message it sent.
        raise BadUpdate(f"reply_to_message.message_id is not a number: {type(target.message_id)}")
    return str(target.message_id)


def to_message(
    message: TgMessage,
    *,
    bot_id: int,
    admin_ids: Container[int] = frozenset(),
    usernames: Mapping[str, int] | None = None,
    edited: bool = False,
) -> Message | None:
    """The platform-neutral Message for a group or private message; None when there is none.

    Messages without text (stickers, joins, service messages) and the bot's own messages give
    None; other bots' messages come through with `is_bot` set, and the core ignores them. An
    update of a shape the Bot API does not send gives None with a log line. `admin_ids` are
    the users to report as admins of the chat (a fact: the core decides who answers as staff).
    """
    try:
        return _to_message(message, bot_id, admin_ids, usernames or {}, edited)
    except BadUpdate as exc:
        _LOGGER.warning("update skipped (message %.40r): %s", message.message_id, exc)
        return None


def _to_message(
    message: TgMessage,
    bot_id: int,
    admin_ids: Container[int],
    usernames: Mapping[str, int],
    edited: bool,
) -> Message | None:
    text = message.text if message.text is not None else message.caption
    if not text:
        return None
    if not isinstance(text, str):
        raise BadUpdate("text is not a string")
    if isinstance(message.from_user, User) and message.from_user.id == bot_id:
        return None
    author = _author(message, admin_ids)
    if author is None:
        return None
    created = message.date
    if not isinstance(created, datetime):
        raise BadUpdate("date is not a time")
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)
    if not in_range(created):
        raise BadUpdate(f"date {created.year} is out of range")
    thread = (
        str(_id(message.message_thread_id, "message_thread_id"))
        if message.is_topic_message and message.message_thread_id is not None
        else None
    )
    chat = str(_id(message.chat.id, "chat.id"))
    try:
        mentions = _mentions(message, usernames)
    except (TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        # Entities with offsets or types the Bot API never sends: the text is still read.
        _LOGGER.warning("message %s: mentions unreadable (%s)", message.message_id, exc)
        mentions = ()
    return Message(
        platform=PLATFORM,
        community=PRIVATE_COMMUNITY if message.chat.type == "private" else chat,
        channel=chat,
        id=str(_id(message.message_id, "message_id")),
        author=author,
        text=text,
        created_at=created,
        thread=thread,
        reply_to=reply_to(message),
        mentions=mentions,
        edited=edited,
    )
