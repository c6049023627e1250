"""Logistic-regression heads over sentence embeddings and rule signals, in numpy only.

A head is two independent binary classifiers (question, complaint) over the same features: the
encoder's embedding, plus the rule detector's two scores and a question-mark flag, standardised.
Logistic regression gives probabilities that follow the training data's rates; it is fitted by
Newton's method with an L2 penalty chosen by cross-validation, which takes well under a second
for a few thousand examples, so every community can afford its own head.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.models import Detection

_LOGGER = logging.getLogger(__name__)

TASKS = ("question", "complaint")
RULE_FEATURES = ("rule_question", "rule_complaint", "question_mark")
L2_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
FloatArray = npt.NDArray[np.float64]


def rule_features(texts: Sequence[str], rules: Sequence[Detection]) -> FloatArray:
    """The rule detector's scores and a bare "?" flag, one row per text."""
    rows = [
        (det.question, det.complaint, 1.0 if "?" in text else 0.0)
        for text, det in zip(texts, rules, strict=True)
    ]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(RULE_FEATURES))


def features(embeddings: npt.NDArray[np.floating[Any]], extra: FloatArray) -> FloatArray:
    """The head's input: embedding columns, then the rule columns."""
    return np.hstack([np.asarray(embeddings, dtype=np.float64), extra])


def _sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow warnings for large |z|
    return out


def fit_logistic(
    x: FloatArray, y: FloatArray, weights: FloatArray, l2: float, iterations: int = 25
) -> tuple[FloatArray, float]:
    """Weighted L2-penalised logistic regression by Newton's method; returns (coef, bias)."""
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    total = float(weights.sum()) or 1.0
    for _ in range(iterations):
        p = _sigmoid(design @ theta)
        gradient = design.T @ (weights * (p - y)) / total + penalty * theta / total
        curvature = weights * p * (1.0 - p) / total
        hessian = (design * curvature[:, None]).T @ design + np.diag(penalty / total + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-6:
            break
    return theta[:-1], float(theta[-1])


def _log_loss(p: FloatArray, y: FloatArray, weights: FloatArray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-(weights * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() / weights.sum())


def choose_l2(x: FloatArray, y: FloatArray, weights: FloatArray, folds: int = 5) -> float:
    """The penalty with the best cross-validated log-loss (deterministic folds)."""
    if len(y) < 2 * folds or len(set(y.tolist())) < 2:
        return 10.0
    fold_of = np.arange(len(y)) % folds
    np.random.default_rng(0).shuffle(fold_of)
    best, best_loss = 10.0, float("inf")
    for l2 in L2_GRID:
        loss = 0.0
        for fold in range(folds):
            train, test = fold_of != fold, fold_of == fold
            coef, bias = fit_logistic(x[train], y[train], weights[train], l2)
            loss += _log_loss(_sigmoid(x[test] @ coef + bias), y[test], weights[test])
        if loss < best_loss:
            best, best_loss = l2, loss
    return best


@dataclass(frozen=True, slots=True)
class TaskHead:
    """One binary classifier: standardisation, coefficients, bias."""

    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    bias: float

    def predict(self, x: FloatArray) -> FloatArray:
        """Probabilities in [0, 1], one per row."""
        return _sigmoid(((x - self.mean) / self.scale) @ self.coef + self.bias)


@dataclass(frozen=True, slots=True)
class Head:
    """The question and complaint classifiers of one community (or the shipped default)."""

    encoder: str
    dim: int
    tasks: dict[str, TaskHead]
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: FloatArray) -> dict[str, FloatArray]:
        """Per task, one probability per row; a task without a classifier scores 0."""
        zeros: FloatArray = np.zeros(len(x))
        return {
            task: self.tasks[task].predict(x) if task in self.tasks else zeros for task in TASKS
        }

    def save(self, path: Path) -> None:
        """Write atomically: a detector reading concurrently sees the old or the new head."""
        arrays: dict[str, Any] = {}
        for task, head in self.tasks.items():
            arrays[f"{task}.mean"] = head.mean
            arrays[f"{task}.scale"] = head.scale
            arrays[f"{task}.coef"] = head.coef
            arrays[f"{task}.bias"] = np.asarray([head.bias])
        info = {"encoder": self.encoder, "dim": self.dim, "tasks": list(self.tasks), **self.meta}
        arrays["meta"] = np.asarray(json.dumps(info))
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".head-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> Head:
        """Read a head written by `save` (no pickles are ever loaded)."""
        with np.load(path, allow_pickle=False) as data:
            info = json.loads(str(data["meta"]))
            tasks = {
                task: TaskHead(
                    mean=data[f"{task}.mean"],
                    scale=data[f"{task}.scale"],
                    coef=data[f"{task}.coef"],
                    bias=float(data[f"{task}.bias"][0]),
                )
                for task in info["tasks"]
            }
        encoder, dim = info.pop("encoder"), int(info.pop("dim"))
        info.pop("tasks")
        return cls(encoder=encoder, dim=dim, tasks=tasks, meta=info)


def fit_task(x: FloatArray, y: FloatArray, weights: FloatArray | None = None) -> TaskHead:
    """Fit one classifier on features `x` and 0/1 labels `y`."""
    if weights is None:
        weights = np.ones(len(y))
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    standard = (x - mean) / scale
    l2 = choose_l2(standard, y, weights)
    coef, bias = fit_logistic(standard, y, weights, l2)
    _LOGGER.info("fitted a head on %d examples (%d positive), l2=%g", len(y), int(y.sum()), l2)
    return TaskHead(mean=mean, scale=scale, coef=coef, bias=bias)
