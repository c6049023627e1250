"""`huitaine eval`'s arithmetic: scores against hand-counted examples, and the threshold sweep."""

from __future__ import annotations

import pytest

from bot.detect.evaluate import score, score_probabilities, sweep_table


def test_scores_match_a_hand_counted_confusion_table() -> None:
    # gold 1 1 1 0 0 0 0 / pred 1 1 0 1 0 0 0: tp 2, fn 1, fp 1, tn 3
    s = score([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0])
    assert (s.tp, s.fn, s.fp, s.tn) == (2, 1, 1, 3)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    # negative class: precision 3/4, recall 3/4
    assert s.macro_f1 == pytest.approx((2 / 3 + 3 / 4) / 2)


def test_mismatched_lengths_are_an_error_not_a_silent_truncation() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        score([1, 0, 1], [1, 0])


def test_the_sweep_shows_what_another_threshold_would_trade() -> None:
    gold = [1, 1, 0, 0]
    probabilities = [0.9, 0.45, 0.55, 0.1]
    rows = {
        line.split()[0]: line.split()
        for line in sweep_table(gold, probabilities, 0.5).splitlines()[1:]
    }
    # At 0.4 both positives and one negative pass: recall 1, precision 2/3.
    assert rows["0.40"][1:4] == ["0.667", "1.000", "0.800"]
    # At 0.6 only the surest positive passes: precision 1, recall 1/2.
    assert rows["0.60"][1:4] == ["1.000", "0.500", "0.667"]
    assert "<-" in rows["0.50"]
    assert "<-" not in rows["0.40"]
    assert score_probabilities(gold, probabilities, 0.5).f1 == pytest.approx(0.5)


def test_a_threshold_outside_the_usual_steps_is_listed_too() -> None:
    table = sweep_table([1, 0], [0.9, 0.2], 0.65)
    assert any(line.startswith("0.65") and "<-" in line for line in table.splitlines())
