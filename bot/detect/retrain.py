"""The detector keeps learning: the running bot refits its community's head from decisions.

Moderators' decisions are labels (`bot.detect.train.decided_cases`): an approved or edited
reply says the case was a request, a dismissal as "not a request" or spam says it was not.
Every `learning.check_every`, once `learning.after_decisions` new ones exist, a new head is
fitted on the bundled examples plus the community's decisions, and compared with the head in
use on a fixed share of decisions it never trains on (one case in five, chosen by a hash of the
case id, so a case stays on the same side forever). It replaces the old head only if it makes
no more mistakes there. Every attempt goes to the learning journal, which the weekly digest
reads.

`Learner.run` is blocking (embedding a few thousand texts, a few seconds): the runtime calls it
on its own thread. A crash mid-way leaves the old head: heads are written atomically.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.config import Config
from bot.detect.encoders import Encoder
from bot.detect.head import RULE_FEATURES, TASKS, FloatArray, Head, fit_task
from bot.detect.learning_log import Attempt, Errors, append_attempt, log_path, read_attempts
from bot.detect.model import (
    Example,
    HeadStore,
    bundled_examples,
    combine_scores,
    community_key,
    embed_features,
)
from bot.detect.rules import RuleDetector
from bot.detect.train import Decided, community_name, decided_cases
from bot.models import Detection

_LOGGER = logging.getLogger(__name__)

# One case in HELD_OUT_EVERY is kept for checking, never for fitting.
HELD_OUT_EVERY = 5
# Below this many held-out decisions a comparison says nothing: wait for more.
MIN_HELD_OUT = 3
# The community's own decisions weigh more than the bundled examples (as `huitaine train`).
OWN_WEIGHT = 3.0
# Texts embedded per encoder call while learning (the live detector's batches are 32 at most).
SLICE = 64


class _Learns(Protocol):
    """What learning needs of the running detector: its encoder, rules and heads."""

    encoder: Encoder
    rules: RuleDetector
    heads: HeadStore


def held_out(case_id: int) -> bool:
    """True when `case_id` is one of the decisions kept for checking (fixed for ever)."""
    digest = hashlib.sha256(f"huitaine-case:{case_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % HELD_OUT_EVERY == 0


def errors(
    head: Head,
    x: FloatArray,
    rules: Sequence[Detection],
    examples: Sequence[Example],
    threshold: float,
) -> Errors:
    """`head`'s mistakes on `examples` (features `x`, rule detections `rules`) at `threshold`."""
    if not examples:
        return Errors()
    scores = head.predict(x)
    # The head is read exactly as the detector reads it (`combine_scores`: a community's own
    # head stands alone; the default head meets the rules as its metadata says).
    combine = head.meta.get("combine")
    counts = {"false_questions": 0, "missed_questions": 0}
    counts |= {"false_complaints": 0, "missed_complaints": 0}
    for row, example in enumerate(examples):
        combined = dict(
            zip(
                ("question", "complaint"),
                combine_scores(
                    combine,
                    float(scores["question"][row]),
                    float(scores["complaint"][row]),
                    rules[row],
                ),
                strict=True,
            )
        )
        for task, label in (("question", example.question), ("complaint", example.complaint)):
            if label is None:
                continue
            said_yes = combined[task] >= threshold
            if said_yes and not label:
                counts[f"false_{task}s"] += 1
            elif label and not said_yes:
                counts[f"missed_{task}s"] += 1
    return Errors(**counts)


def sliced_features(encoder: Encoder, rules: RuleDetector, texts: Sequence[str]) -> FloatArray:
    """The head's features for `texts`, embedded a slice at a time.

    The encoder runs one forward pass at a time for everyone: in slices, the live detector's
    batches get their turn between two slices instead of waiting for the whole fit's texts.
    """
    parts = [
        embed_features(encoder, rules, texts[begin : begin + SLICE])
        for begin in range(0, len(texts), SLICE)
    ]
    if not parts:
        return np.zeros((0, encoder.dim + len(RULE_FEATURES)))
    return np.vstack(parts)


def fit_on(
    encoder: Encoder,
    x: FloatArray,
    examples: Sequence[Example],
    weights: Sequence[float],
    meta: dict[str, str],
) -> Head:
    """Fit both tasks on features `x` of `examples` (as `fit_head`, features given)."""
    w = np.asarray(weights, dtype=np.float64)
    tasks = {}
    for task in TASKS:
        labels = [getattr(example, task) for example in examples]
        known = np.asarray([label is not None for label in labels])
        y = np.asarray([label or 0 for label in labels], dtype=np.float64)
        if known.sum() == 0 or len(set(y[known].tolist())) < 2:
            continue  # this task keeps no classifier, as in fit_head
        tasks[task] = fit_task(x[known], y[known], w[known])
    return Head(encoder=encoder.name, dim=encoder.dim, tasks=tasks, meta=dict(meta))


class Learner:
    """Retrains one community's head from its moderators' decisions, when there are enough."""

    def __init__(
        self,
        detector: _Learns,
        config: Config,
        database: str | Path,
        *,
        community: str | None = None,
    ) -> None:
        """Learn for `community` (the configured one by default) from `database`'s decisions."""
        self.detector = detector
        self.config = config
        self.database = str(database)
        self.community = community or community_name(config)
        self.journal = log_path(detector.heads.root, community_key(self.community))
        self._next_check: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True when the schedule allows a check now; the next one is then scheduled."""
        if self.config.learning.after_decisions <= 0:
            return False
        if self._next_check is not None and now < self._next_check:
            return False
        self._next_check = now + self.config.learning.check_every
        return True

    def new_decisions(self, decided: Sequence[Decided]) -> int:
        """Labelled decisions newer than the last attempt's."""
        attempts = read_attempts(self.journal)
        watermark = attempts[-1].watermark if attempts else 0
        return sum(1 for item in decided if item.decision_id > watermark)

    def run(self, now: datetime) -> Attempt | None:
        """Retrain if enough new decisions exist; None when it did not try (blocking)."""
        decided = decided_cases(self.database)
        fresh = self.new_decisions(decided)
        if fresh < self.config.learning.after_decisions:
            _LOGGER.debug("learning: %d new decisions, waiting for more", fresh)
            return None
        check = [item.example for item in decided if held_out(item.case_id)]
        own = [item.example for item in decided if not held_out(item.case_id)]
        if len(check) < MIN_HELD_OUT or not own:
            _LOGGER.info(
                "learning: %d new decisions, but only %d held out to check a new head on; "
                "waiting for more",
                fresh,
                len(check),
            )
            return None
        encoder, rules, heads = self.detector.encoder, self.detector.rules, self.detector.heads
        examples = [*bundled_examples(), *own]
        weights = [1.0] * (len(examples) - len(own)) + [OWN_WEIGHT] * len(own)
        candidate = fit_on(
            encoder,
            sliced_features(encoder, rules, [e.text for e in examples]),
            examples,
            weights,
            meta={"source": "decisions", "own": str(len(own)), "learned_at": now.isoformat()},
        )
        texts = [example.text for example in check]
        x = sliced_features(encoder, rules, texts)
        rule_dets = rules.detect_batch(texts)
        threshold = self.config.detection.threshold
        before = errors(heads.for_community(self.community), x, rule_dets, check, threshold)
        after = errors(candidate, x, rule_dets, check, threshold)
        kept = after.total <= before.total
        if kept:
            candidate.save(heads.path_for(self.community))
        attempt = Attempt(
            at=now,
            watermark=max(item.decision_id for item in decided),
            learned=len(own),
            held_out=len(check),
            kept=kept,
            before=before,
            after=after,
        )
        append_attempt(self.journal, attempt)
        _LOGGER.warning(
            "learning: a head fitted on %d decisions %s (mistakes on %d held-out decisions: "
            "%d before, %d with the new head)",
            len(own),
            "replaces the old one" if kept else "was not kept",
            len(check),
            before.total,
            after.total,
        )
        return attempt


def learner_for(detector: object, config: Config, database: str | Path) -> Learner | None:
    """A learner for a detector that can learn (the model detector), unless learning is off."""
    if config.learning.after_decisions <= 0:
        return None
    if not all(hasattr(detector, name) for name in ("encoder", "rules", "heads")):
        _LOGGER.info("learning from decisions needs the model detector; it stays off")
        return None
    if str(database) == ":memory:":
        return None  # another connection would not see an in-memory database
    return Learner(detector, config, database)  # type: ignore[arg-type]
