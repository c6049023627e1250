"""Nothing lost, nothing repeated: edits whose detection failed, notices after a restart."""

from __future__ import annotations

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
from tests.conftest import START, MessageFactory

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
    from bot.replay import replay
    from tests.test_replay import EPOCH, example_lines

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
