"""A message dated year 9999 or 0001 is skipped with a log line; the database stays usable."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.ingest import Outcome
from bot.replay import BadLine, parse_event, replay
from tests.conftest import START, MessageFactory

COMPLAINT = "Where is my refund? I was charged twice and nobody answers, this is unacceptable!"


def line(ts: str, ident: str) -> bytes:
    record = {
        "platform": "discord",
        "community": "g",
        "channel": "c",
        "id": ident,
        "author": {"id": "u1", "name": "Ann"},
        "text": COMPLAINT,
        "ts": ts,
    }
    return (json.dumps(record) + "\n").encode()


@pytest.mark.parametrize(
    "ts", ["9999-12-31T23:00:00Z", "0001-01-01T00:10:00Z", "0001-01-01T00:10:00+05:00"]
)
def test_replay_skips_a_line_dated_out_of_range_and_keeps_the_others(
    config: Config, db_path: Path, ts: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    core = Huitaine(config, clock=clock, database=db_path)
    lines = [line(ts, "1"), line("2026-11-02T09:00:00Z", "2")]
    summary = replay(core, clock, lines)
    assert summary.skipped_total == 1
    assert "line 1 skipped" in caplog.text
    assert len(core.cases.list()) == 1
    core.close()
    # And every command can open the database again.
    Huitaine(config, clock=ManualClock(START), database=db_path).close()


def test_parse_event_names_the_out_of_range_timestamp() -> None:
    with pytest.raises(BadLine, match="bad timestamp"):
        parse_event(line("9999-12-31T23:00:00Z", "1"))


@pytest.mark.parametrize(
    "when", [datetime(9999, 12, 31, 23, tzinfo=UTC), datetime(1, 1, 1, 0, 10, tzinfo=UTC)]
)
def test_core_refuses_a_message_dated_out_of_range_with_a_log_line(
    core: Huitaine, msg: MessageFactory, when: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result = core.ingest(msg(COMPLAINT, at=when))
    assert result.outcome is Outcome.IGNORED
    assert "outside 1970-2199" in caplog.text
    assert core.cases.list() == []
    assert core.ingest(msg(COMPLAINT)).outcome is Outcome.OPENED
    assert core.edit(msg("edited", at=when, id="m1")).outcome is Outcome.IGNORED
    assert core.ingestor.store_many([msg(COMPLAINT, at=when)]) == 0


def test_a_database_already_holding_a_year_9999_message_opens(
    config: Config, db_path: Path, msg: MessageFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Databases written before dates were checked: the bad row no longer stops start-up."""
    core = Huitaine(config, clock=ManualClock(START), database=db_path)
    core.ingestor.store_new(msg(COMPLAINT, at=datetime(2026, 11, 2, tzinfo=UTC)))
    core.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE messages SET created_at = '9999-12-31T23:00:00.000000+00:00'")
    conn.close()
    reopened = Huitaine(config, clock=ManualClock(START), database=db_path)
    assert "outside 1970-2199" in caplog.text
    assert reopened.cases.list() == []
    reopened.close()


def test_the_core_stores_broken_names_and_refuses_broken_ids_whatever_the_adapter(
    core: Huitaine, msg: MessageFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence in depth: an adapter that lets a lone surrogate through loses one message at
    most, never the process."""
    opened = core.ingest(msg(COMPLAINT, name="A\udc80nn"))
    assert opened.outcome is Outcome.OPENED
    assert core.cases.get(opened.case_ids[0]).author.name == "A?nn"
    assert core.ingest(msg(COMPLAINT, id="m\udc80")).outcome is Outcome.IGNORED
    assert core.ingest(msg(COMPLAINT, author="u\ud800")).outcome is Outcome.IGNORED
    assert core.ingest(msg(COMPLAINT, mentions=("\ud800",))).outcome is Outcome.IGNORED
    assert "an id is not valid text" in caplog.text
