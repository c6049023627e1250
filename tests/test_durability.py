"""Nothing lost, nothing repeated: edits whose detection failed, notices after a restart."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Huitaine, build_detector
from bot.clock import ManualClock
from bot.config import Config
from bot.ingest import Outcome
from bot.models import Detection
from bot.replay import replay
from bot.runtime import Runtime
from tests.conftest import START, MessageFactory
from tests.test_replay import EPOCH, example_lines

QUESTION = "bonjour, comment on change son adresse de livraison ?"


class FlakyDetector:
    """The rule detector, but it raises on texts containing `fail_on` (a crash stand-in)."""

    name = "flaky"

    def __init__(self, config: Config, fail_on: str) -> None:
        self.inner = build_detector(config)
        self.fail_on = fail_on

    def detect_batch(self, texts: Sequence[str]) -> list[Detection]:
        if any(self.fail_on in text for text in texts):
            raise RuntimeError("detector died")
        return self.inner.detect_batch(texts)


def _edit_that_dies(config: Config, db_path: Path, msg: MessageFactory) -> None:
    """Store 'bonjour', then edit it into a question whose detection dies halfway."""
    core = Huitaine(
        config,
        clock=ManualClock(START),
        database=db_path,
        detector=FlakyDetector(config, "adresse"),
    )
    original = msg("bonjour", id="e1")
    core.ingest(original)
    with pytest.raises(RuntimeError):
        core.edit(replace(original, text=QUESTION), START + timedelta(minutes=5))
    assert core.cases.list() == []
    core.close()


def test_an_edit_whose_detection_died_is_detected_at_restart(
    config: Config, db_path: Path, msg: MessageFactory
) -> None:
    _edit_that_dies(config, db_path, msg)
    restarted = Huitaine(config, clock=ManualClock(START), database=db_path)
    [case] = restarted.cases.list()
    assert case.opened_at == START  # the member has waited since the first post
    restarted.close()


def test_the_same_edit_delivered_again_is_processed_not_called_a_duplicate(
    config: Config, db_path: Path, msg: MessageFactory
) -> None:
    detector = FlakyDetector(config, "adresse")
    core = Huitaine(config, clock=ManualClock(START), database=db_path, detector=detector)
    original = msg("bonjour", id="e1")
    core.ingest(original)
    edited = replace(original, text=QUESTION)
    with pytest.raises(RuntimeError):
        core.edit(edited, START + timedelta(minutes=5))
    detector.fail_on = "never-matches"
    assert core.edit(edited, START + timedelta(minutes=6)).outcome is Outcome.OPENED
    assert core.edit(edited, START + timedelta(minutes=7)).outcome is Outcome.DUPLICATE
    assert len(core.cases.list()) == 1
    core.close()


def test_a_live_edit_whose_detection_raised_is_retried_in_the_same_run(
    config: Config, db_path: Path, msg: MessageFactory
) -> None:
    detector = FlakyDetector(config, "adresse")
    core = Huitaine(config, clock=ManualClock(START), database=db_path, detector=detector)
    original = msg("bonjour", id="e1")
    core.ingest(original)
    with pytest.raises(RuntimeError):
        core.edit(replace(original, text=QUESTION), START + timedelta(minutes=5))
    detector.fail_on = "never-matches"  # the detector recovered
    assert len(core.ingestor.retry_failed()) == 1
    assert len(core.cases.list()) == 1
    assert core.ingestor.retry_failed() == []  # done once, not again
    core.close()


def test_a_new_message_whose_processing_raised_is_retried(
    config: Config, db_path: Path, msg: MessageFactory
) -> None:
    detector = FlakyDetector(config, "adresse")
    core = Huitaine(config, clock=ManualClock(START), database=db_path, detector=detector)
    with pytest.raises(RuntimeError):
        core.ingest(msg(QUESTION, id="n1"))
    detector.fail_on = "never-matches"
    # The platform delivers it again: processed now, not dismissed as a duplicate.
    assert core.ingest(msg(QUESTION, id="n1")).outcome is Outcome.OPENED
    assert core.ingest(msg(QUESTION, id="n1")).outcome is Outcome.DUPLICATE
    core.close()


def test_notices_recorded_before_a_kill_keep_their_own_delivery_time(
    config: Config, tmp_path: Path
) -> None:

    lines = example_lines()
    whole = Huitaine(config, clock=ManualClock(EPOCH), database=tmp_path / "whole.db")
    replay(whole, ManualClock(EPOCH), lines)
    whole.close()

    # A kill after some notices were recorded but before they were marked delivered.
    split_db = tmp_path / "split.db"
    first = Huitaine(config, clock=ManualClock(EPOCH), database=split_db)
    deliver = first.scheduler.mark_delivered
    calls = []

    def killed_on_the_fifth(notice_id: int, when: object) -> None:
        calls.append(notice_id)
        if len(calls) == 5:
            raise KeyboardInterrupt  # stands for SIGKILL: nothing after this point runs
        deliver(notice_id, when)  # type: ignore[arg-type]

    first.scheduler.mark_delivered = killed_on_the_fifth  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        replay(first, ManualClock(EPOCH), lines)
    assert first.store.rows("SELECT id FROM notices WHERE delivered_at IS NULL")
    first.close()
    second = Huitaine(config, clock=ManualClock(EPOCH), database=split_db)
    replay(second, ManualClock(EPOCH), lines)
    query = "SELECT case_id, kind, point, created_at, delivered_at FROM notices ORDER BY 1, 2, 3"
    expected = Huitaine(config, clock=ManualClock(EPOCH), database=tmp_path / "whole.db")
    assert second.store.rows(query) == expected.store.rows(query)
    second.close()
    expected.close()


# -- the database briefly unusable: held and retried live, one clear line in a replay ----------


def _lock(db_path: Path) -> sqlite3.Connection:
    """Another connection (as another process would) holding the write lock."""
    locker = sqlite3.connect(db_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    return locker


def _fail_fast(core: Huitaine) -> None:
    # The real lock, without waiting 5 s for it: tests never wait for real.
    core.store.execute("PRAGMA busy_timeout = 0")


async def _drained(runtime: Runtime) -> None:
    await asyncio.gather(*list(runtime._tasks))


async def test_live_messages_are_held_while_the_database_is_locked_then_stored_in_order(
    config: Config,
    db_path: Path,
    msg: MessageFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = Huitaine(config, clock=ManualClock(START), database=db_path)
    _fail_fast(core)
    delays: list[float] = []
    locker = _lock(db_path)

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 4:
            locker.execute("ROLLBACK")  # the other process lets go

    runtime = Runtime(core, sleep=sleep)
    caplog.set_level(logging.WARNING)
    texts = [f"where is my parcel number {i}? still nothing" for i in range(30)]
    results = [await runtime.ingest(msg(text, id=f"h{i}")) for i, text in enumerate(texts)]
    assert {r.outcome for r in results} == {Outcome.HELD}
    assert runtime.held == 30
    await _drained(runtime)
    assert runtime.held == 0
    stored = core.store.rows("SELECT id FROM messages ORDER BY rowid")
    assert [r["id"] for r in stored] == [f"h{i}" for i in range(30)]  # none lost, in order
    assert core.store.rows("SELECT COUNT(*) AS n FROM messages WHERE processed = 0") == [{"n": 0}]
    assert len(core.cases.list()) >= 1
    assert delays[:3] == [0.2, 0.5, 1.0]  # backoff, through the injected sleep
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1  # one clear line, not one per message
    assert "database unavailable (database is locked)" in errors[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)  # and no traceback
    await runtime.close()
    locker.close()


async def test_live_messages_survive_a_full_disk(
    config: Config, db_path: Path, msg: MessageFactory, caplog: pytest.LogCaptureFixture
) -> None:
    core = Huitaine(config, clock=ManualClock(START), database=db_path)
    pages = core.store.row("PRAGMA page_count")
    assert pages is not None
    core.store.execute(f"PRAGMA max_page_count = {pages['page_count']}")  # the disk is full
    attempts: list[float] = []

    async def sleep(seconds: float) -> None:
        attempts.append(seconds)
        if len(attempts) == 3:
            core.store.execute("PRAGMA max_page_count = 1073741823")  # room again

    runtime = Runtime(core, sleep=sleep)
    caplog.set_level(logging.WARNING)
    for i in range(500):
        await runtime.ingest(msg(f"bonjour, commande {i} : " + "x" * 2000, id=f"f{i}"))
    assert runtime.held > 0
    await _drained(runtime)
    count = core.store.row("SELECT COUNT(*) AS n FROM messages")
    assert count == {"n": 500}  # 0 dropped
    assert core.store.row("PRAGMA integrity_check") == {"integrity_check": "ok"}
    assert "database or disk is full" in caplog.text
    assert not any(r.exc_info for r in caplog.records)
    await runtime.close()


def test_a_replay_against_a_locked_database_ends_with_one_clear_line_and_resumes(
    config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from huitaine import cli
    from huitaine.cli import example_path, main

    db = tmp_path / "replay.db"
    Huitaine(config, database=db).close()
    real = cli.Huitaine

    lockers: list[sqlite3.Connection] = []

    def fail_fast(*args: object, **kwargs: object) -> Huitaine:
        core = real(*args, **kwargs)  # type: ignore[arg-type]
        _fail_fast(core)
        lockers.append(_lock(db))  # another process takes the lock once we have started
        return core

    monkeypatch.setattr(cli, "Huitaine", fail_fast)
    rc = main(["replay", str(example_path()), "--db", str(db)])
    err = capsys.readouterr().err
    assert rc == 3
    assert err.startswith("huitaine: line 1: the database cannot be written (database is locked)")
    assert err.count("\n") == 1  # one line, no traceback
    lockers[0].execute("ROLLBACK")
    lockers[0].close()
    monkeypatch.setattr(cli, "Huitaine", real)
    assert main(["replay", str(example_path()), "--db", str(db)]) == 0
    whole = Huitaine(config, database=tmp_path / "whole.db")
    replay(whole, ManualClock(EPOCH), example_lines())
    again = Huitaine(config, database=db)
    assert len(again.cases.list()) == len(whole.cases.list())
    assert again.store.row("PRAGMA integrity_check") == {"integrity_check": "ok"}
    again.close()
    whole.close()
