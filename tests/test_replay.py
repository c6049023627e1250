"""Replay of a JSONL history: the bundled example, restarts, and lines that cannot be read."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.models import CaseState, Kind
from bot.replay import BadLine, parse_event, replay
from huitaine.cli import example_path

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def run(config: Config, db: Path, lines: list[bytes]) -> tuple[Huitaine, object]:
    clock = ManualClock(EPOCH)
    core = Huitaine(config, clock=clock, database=db)
    return core, replay(core, clock, lines)


def example_lines() -> list[bytes]:
    return example_path().read_bytes().splitlines(keepends=True)


def test_bundled_example_is_large_bilingual_and_invented() -> None:
    lines = example_lines()
    assert len(lines) >= 150
    readme = (example_path().parent / "README.md").read_text(encoding="utf-8")
    assert "invented" in readme.lower()


def test_replaying_the_example_opens_answers_and_leaves_overdue_cases(
    config: Config, db_path: Path
) -> None:
    core, summary = run(config, db_path, example_lines())
    cases = core.cases.list()
    kinds = {c.kind for c in cases}
    languages = {c.language for c in cases}
    assert kinds == {Kind.QUESTION, Kind.COMPLAINT}
    assert {"fr", "en"} <= languages
    states = [c.state for c in cases]
    assert CaseState.ANSWERED in states
    assert CaseState.WITHDRAWN in states
    last = summary.last_time  # type: ignore[attr-defined]
    assert any(c.overdue(last) for c in cases)
    answered = [c for c in cases if c.first_response_at is not None]
    # Staff replies in the history answer cases at the time they were written.
    assert all(c.first_response_at >= c.opened_at for c in answered)  # type: ignore[operator]
    assert summary.skipped_total == 0  # type: ignore[attr-defined]
    assert summary.notices["escalation"] >= 1  # type: ignore[attr-defined]
    core.close()


def test_restart_in_the_middle_loses_nothing_and_repeats_no_reminder(
    config: Config, tmp_path: Path
) -> None:
    lines = example_lines()
    whole, _whole_summary = run(config, tmp_path / "whole.db", lines)
    expected = [(c.kind, c.state, c.message_ids, c.first_response_at) for c in whole.cases.list()]
    whole_notices = whole.store.row("SELECT COUNT(*) AS n FROM notices")
    whole.close()

    half = len(lines) // 2
    first, _ = run(config, tmp_path / "split.db", lines[:half])
    first.close()
    # The second run starts again from the beginning: already-seen lines are duplicates.
    second, _ = run(config, tmp_path / "split.db", lines)
    got = [(c.kind, c.state, c.message_ids, c.first_response_at) for c in second.cases.list()]
    assert got == expected
    assert second.store.row("SELECT COUNT(*) AS n FROM notices") == whole_notices
    repeated = second.store.row(
        "SELECT COUNT(*) AS n FROM (SELECT case_id, kind, point FROM notices"
        " GROUP BY case_id, kind, point HAVING COUNT(*) > 1)"
    )
    assert repeated == {"n": 0}
    second.close()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"platform": "x"}', "missing"),
        (
            b'{"platform":"d","community":"c","channel":"g","id":"1","author":{"id":"u"},'
            b'"text":"hi","ts":"2026-11-20 10:00"}',
            "no time zone",
        ),
        (
            b'{"platform":"d","community":"c","channel":"g","id":"1","author":{"id":"u"},'
            b'"text":5,"ts":"2026-11-20T10:00:00Z"}',
            "'text' must be a string",
        ),
        (b"\xff\xfe\x00binary", "not JSON"),
        (b'{"event":"explode"}', "unknown event"),
    ],
)
def test_bad_lines_are_refused_with_a_reason(line: bytes, reason: str) -> None:
    with pytest.raises(BadLine) as caught:
        parse_event(line)
    assert reason in str(caught.value) or reason in str(caught.value.__cause__)


def test_bad_lines_are_skipped_and_counted_not_fatal(config: Config, db_path: Path) -> None:
    good = (
        b'{"platform":"d","community":"c","channel":"g","id":"1","author":{"id":"u",'
        b'"name":"U"},"text":"how do I pay?","ts":"2026-11-20T10:00:00Z"}\n'
    )
    core, summary = run(config, db_path, [b"garbage\n", good, b"\n", b"[]\n"])
    assert summary.skipped_total == 2  # type: ignore[attr-defined]
    assert summary.outcomes["opened"] == 1  # type: ignore[attr-defined]
    core.close()


class CountingDetector:
    """The rule detector, recording how many texts each call scores."""

    def __init__(self, config: Config) -> None:
        from bot.app import build_detector

        self.inner = build_detector(config)
        self.batches: list[int] = []

    def detect_batch(self, texts: object) -> object:
        items = list(texts)  # type: ignore[call-overload]
        self.batches.append(len(items))
        return self.inner.detect_batch(items)


def _cases(core: Huitaine) -> list[tuple[object, ...]]:
    return [
        (c.kind, c.state, c.message_ids, c.first_response_at, c.target_at)
        for c in core.cases.list()
    ]


def test_a_replay_scores_texts_in_batches_and_opens_the_same_cases(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = CountingDetector(config)
    core = Huitaine(config, clock=ManualClock(EPOCH), database=tmp_path / "a.db", detector=batched)
    replay(core, core.clock, example_lines())  # type: ignore[arg-type]
    monkeypatch.setattr("bot.replay.WINDOW", 1)  # one event at a time, as before batching
    single = CountingDetector(config)
    other = Huitaine(config, clock=ManualClock(EPOCH), database=tmp_path / "b.db", detector=single)
    replay(other, other.clock, example_lines())  # type: ignore[arg-type]
    assert max(batched.batches) > 16  # the audit runs at the detector's batched speed
    assert max(single.batches) == 1
    assert _cases(core) == _cases(other)
    core.close()
    other.close()


def test_an_imported_history_is_processed_in_batches(config: Config, tmp_path: Path) -> None:
    batched = CountingDetector(config)
    core = Huitaine(config, clock=ManualClock(EPOCH), database=tmp_path / "a.db", detector=batched)
    messages = [parse_event(line).message for line in example_lines()]
    core.ingestor.store_many(m for m in messages)
    assert core.ingestor.process_pending() == len({m.key for m in messages})
    assert max(batched.batches) > 16
    assert core.cases.list()
    core.close()
