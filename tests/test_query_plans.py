"""No look-up made while a live message is processed reads every stored message.

A scan of the messages table costs more with every message stored: under a steady 200 msg/s
the p95 time to a card rose from 50 to 149 ms in 3 minutes because a thread's first message
was found by scanning. Each statement the core runs for a message is explained by SQLite
itself, on a real file, and none may be a full scan of `messages`.
"""

from __future__ import annotations

import sqlite3

import pytest

from bot.app import Huitaine
from tests.conftest import MessageFactory


def _statements(core: Huitaine, work: list[str]) -> list[str]:
    """Every SELECT the core's connection ran, with its values (SQLite's expanded text)."""
    conn: sqlite3.Connection = core.store.db.conn
    conn.set_trace_callback(lambda sql: _keep_select(work, sql))
    return work


def _keep_select(work: list[str], sql: str) -> None:
    if sql.lstrip().startswith("SELECT"):
        work.append(sql)


def _reads_all_messages(detail: str) -> bool:
    words = detail.split()
    on_messages = len(words) > 1 and words[1] == "messages"
    return on_messages and (words[0] == "SCAN" or detail.endswith("(platform=? AND community=?)"))


@pytest.mark.sqlite_only  # reads SQLite's own query plans
def test_processing_messages_in_threads_scans_no_table_of_messages(
    core: Huitaine, msg: MessageFactory
) -> None:
    # A history to look through: other threads, replies, a helper who answers in threads.
    for n in range(30):
        core.ingest(msg(f"bonjour, une question sur le fil {n} ?", thread=f"t{n}"))
        core.ingest(msg("je crois que oui", author="u-hugo", name="Hugo", thread=f"t{n}"))
    seen = _statements(core, [])
    core.ingest(msg("où est mon colis ? toujours rien", author="u-zoe", name="Zoé", thread="t7"))
    # A helper's clarifying question: who is waiting is the thread's starter (a look-up).
    core.ingest(msg("quelle version utilises-tu ?", author="u-hugo", name="Hugo", thread="t7"))
    core.store.db.conn.set_trace_callback(None)
    assert seen, "the core ran no SELECT: nothing was checked"
    scans = []
    for sql in seen:
        plan = core.store.db.conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        details = [str(row[3]) for row in plan]
        # A search on platform and community alone reads the whole community: a scan too.
        if any(_reads_all_messages(d) for d in details):
            scans.append((sql, details))
    assert scans == []
