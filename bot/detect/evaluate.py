"""Precision, recall, F1, macro-F1, a confusion table and a threshold sweep for one binary task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scores:
    """Counts and scores of a binary classifier against gold labels."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        """Share of predicted positives that are positive."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Share of positives that were found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """F1 of the positive class."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def negative_f1(self) -> float:
        """F1 of the negative class."""
        p = self.tn / (self.tn + self.fn) if self.tn + self.fn else 0.0
        r = self.tn / (self.tn + self.fp) if self.tn + self.fp else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def macro_f1(self) -> float:
        """Mean of both classes' F1."""
        return (self.f1 + self.negative_f1) / 2

    def table(self, positive: str) -> str:
        """A confusion table with gold labels as rows."""
        width = max(len(positive), len("other"), 6) + 2
        corner = "gold \\ pred"
        head = f"{corner:<14}{positive:>{width}}{'other':>{width}}"
        return "\n".join(
            [
                head,
                f"{positive:<14}{self.tp:>{width}}{self.fn:>{width}}",
                f"{'other':<14}{self.fp:>{width}}{self.tn:>{width}}",
            ]
        )


def score(gold: Sequence[int], predicted: Sequence[int]) -> Scores:
    """Compare 0/1 predictions with 0/1 gold labels."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} labels but {len(predicted)} predictions")
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if not g and p)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g and not p)
    return Scores(tp=tp, fp=fp, fn=fn, tn=len(gold) - tp - fp - fn)


def score_probabilities(
    gold: Sequence[int], probabilities: Sequence[float], threshold: float = 0.5
) -> Scores:
    """Score probabilities cut at `threshold`."""
    return score(gold, [1 if p >= threshold else 0 for p in probabilities])


SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def sweep_table(
    gold: Sequence[int],
    probabilities: Sequence[float],
    current: float,
    thresholds: Sequence[float] = SWEEP,
) -> str:
    """Precision, recall and F1 at several thresholds, `current` marked, to choose one."""
    lines = ["threshold  precision  recall  F1     macro-F1"]
    for threshold in sorted({*thresholds, current}):
        s = score_probabilities(gold, probabilities, threshold)
        mark = "  <- used above" if threshold == current else ""
        lines.append(
            f"{threshold:<9.2f}  {s.precision:<9.3f}  {s.recall:<6.3f}  {s.f1:<5.3f}  "
            f"{s.macro_f1:.3f}{mark}"
        )
    return "\n".join(lines)
