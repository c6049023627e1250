"""The crash campaign, small: SIGKILLed replays with sends in flight lose and repeat nothing.

`python bench/crash_campaign.py` is the full run (20,000 messages, over 100 kills); this runs
the same code on a short history with a few kills, in a few seconds (a cold start of the
driver process is most of it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash_campaign import campaign, report, write_history


@pytest.mark.campaign
def test_a_killed_replay_with_sends_in_flight_ends_like_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.jsonl"
    write_history(history, 400)
    outcome = campaign(history, tmp_path, kills=3, seed=7)
    print(report(outcome))
    assert outcome.kills >= 1
    assert outcome.integrity == "ok"
    assert outcome.tables["messages"][1] > 300
    assert outcome.tables["replies"][1] > 10  # approvals and sends really were in flight
    assert outcome.lost == 0
    assert outcome.duplicated == 0
    assert outcome.sent_twice == 0
