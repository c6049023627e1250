"""Conversation context around detection: a helper's question to someone else opens no case.

A message alone does not always tell who is waiting. "which version are you on?" is a question,
but when it replies to another member's request and comes from a member who often answers
others, it is a helper's clarifying question: the one waiting is the member who asked first (the
replied-to message's author, or the thread's starter), whose case stays open. These rules run
around the detector, on what the store already holds, so they apply to every detector.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.clock import to_db
from bot.models import Kind, Message
from bot.storage import Store

# A member who replied to other members this many times in the look-back window "often answers".
# Three keeps a newcomer's first follow-ups ("did anyone try this?") counted as their own asks.
MIN_ANSWERS = 3
LOOKBACK = timedelta(days=30)


def is_helper_question(store: Store, message: Message, kind: Kind, threshold: float) -> bool:
    """True when `message`, read as a question, is a regular helper's question to someone else.

    It must reply to (or sit in the thread of) another member's request, meaning a message that
    opened or joined a case or scored as a request, and its author must have answered other
    members at least `MIN_ANSWERS` times in the last `LOOKBACK`. Complaints are never
    set aside: a helper who says something is broken for them too is heard.
    """
    if kind is not Kind.QUESTION:
        return False
    asker = waiting_member(store, message, threshold)
    if asker is None or asker == message.author.id:
        return False
    return answers_given(store, message) >= MIN_ANSWERS


def waiting_member(store: Store, message: Message, threshold: float) -> str | None:
    """The author of the request `message` answers: the replied-to one, else the thread's starter.

    None when the message addresses no earlier request.
    """
    if message.reply_to is not None:
        # A reply points at a message of the same channel, so its key is known exactly.
        row = store.row(
            "SELECT author_id, case_id, question, complaint FROM messages WHERE key = ?",
            (replace(message, id=message.reply_to).key,),
        )
    elif message.thread is not None:
        row = store.row(
            "SELECT author_id, case_id, question, complaint FROM messages"
            " WHERE platform = ? AND community = ? AND thread = ? AND created_at <= ?"
            " ORDER BY created_at, key LIMIT 1",
            (message.platform, message.community, message.thread, to_db(message.created_at)),
        )
    else:
        return None
    if row is None or not _is_request(row, threshold):
        return None
    return str(row["author_id"])


def answers_given(store: Store, message: Message) -> int:
    """How often the author answered other members before `message`, within the look-back.

    An answer is a reply to another member's message, or a message without reply in a thread
    that another member started.
    """
    params = (
        message.platform,
        message.community,
        message.author.id,
        to_db(message.created_at - LOOKBACK),
        to_db(message.created_at),
    )
    replies = store.row(
        "SELECT COUNT(*) AS n FROM messages m JOIN messages p"
        # The parent's primary key, so the join is one index look-up per reply.
        " ON p.key = m.platform || ':' || m.community || ':' || m.channel || ':' || m.reply_to"
        " WHERE m.platform = ? AND m.community = ? AND m.author_id = ?"
        " AND m.created_at >= ? AND m.created_at < ? AND p.author_id != m.author_id",
        params,
    )
    in_threads = store.row(
        "SELECT COUNT(*) AS n FROM messages m"
        " WHERE m.platform = ? AND m.community = ? AND m.author_id = ?"
        " AND m.created_at >= ? AND m.created_at < ?"
        " AND m.thread IS NOT NULL AND m.reply_to IS NULL"
        " AND (SELECT t.author_id FROM messages t WHERE t.platform = m.platform"
        " AND t.community = m.community AND t.thread = m.thread"
        " ORDER BY t.created_at, t.key LIMIT 1) != m.author_id",
        params,
    )
    return sum(int(row["n"]) for row in (replies, in_threads) if row)


def _is_request(row: dict[str, object], threshold: float) -> bool:
    if row["case_id"] is not None:
        return True
    scores = [row["question"], row["complaint"]]
    return any(isinstance(score, float | int) and score >= threshold for score in scores)
