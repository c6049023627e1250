"""The detector keeps learning: the running bot refits each community's head from its decisions.

Moderators' decisions are labels (`bot.detect.train.decided_cases`): an approved or edited
reply says the case was a request, a dismissal as "not a request" or spam says it was not.
Every `learning.check_every`, each community with `learning.after_decisions` new decisions of
its own gets a new head, fitted on the bundled examples plus that community's decisions, and
compared with the head it uses now on a fixed share of its decisions it never trains on (one
case in five, chosen by a hash of the case id, so a case stays on the same side forever). It
replaces the old head only if it makes no more mistakes there. Every attempt goes to that
community's learning journal, which its weekly digest reads. One community's decisions never
reach another's head.

The journal records the cases a head was fitted on. When their texts are erased (a member
forgotten, a message deleted, retention), the head is removed at once and refitted without
them at the next check (`huitaine forget` refits at once: `refit_erased`).

`Learner.run` is blocking (embedding a few thousand texts, a few seconds): the runtime calls it
on its own thread. A crash mid-way leaves the old head: heads are written atomically.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.config import Config
from bot.detect.encoders import Encoder
from bot.detect.head import RULE_FEATURES, TASKS, FloatArray, Head, fit_task
from bot.detect.learning_log import (
    Attempt,
    Errors,
    append_attempt,
    forget_cases,
    heads_root,
    log_path,
    read_attempts,
    read_journal,
    same_file,
)
from bot.detect.model import (
    Example,
    HeadStore,
    bundled_examples,
    combine_scores,
    community_key,
    embed_features,
)
from bot.detect.rules import RuleDetector
from bot.detect.train import Decided, decided_cases
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
    """Retrains each community's head from that community's own moderators' decisions.

    Every community (`[communities."platform:id"]`, or any community the bot has cases in)
    has its own head file, its own held-out decisions and its own journal: one community's
    decisions never change another's head. A community without a head of its own is detected
    with the deployment's head (`huitaine train`), else the default one.
    """

    def __init__(self, detector: _Learns, config: Config, database: str | Path) -> None:
        """Learn from `database`'s decisions, into `detector`'s head store."""
        self.detector = detector
        self.config = config
        self.database = str(database)
        # The deployment's head (`huitaine train`): what a community falls back to.
        self.fallback: str | None = getattr(detector, "community", None)
        self._next_check: datetime | None = None
        self._checked_legacy = False

    def journal(self, community: str) -> Path:
        """The learning journal of `community` (a `platform:id` key)."""
        return log_path(self.detector.heads.root, community_key(community))

    def due(self, now: datetime) -> bool:
        """True when the schedule allows a check now; the next one is then scheduled."""
        if self.config.learning.after_decisions <= 0:
            return False
        if self._next_check is not None and now < self._next_check:
            return False
        self._next_check = now + self.config.learning.check_every
        return True

    def new_decisions(self, community: str, decided: Sequence[Decided]) -> int:
        """`community`'s labelled decisions newer than its last attempt's."""
        attempts = read_attempts(self.journal(community))
        watermark = attempts[-1].watermark if attempts else 0
        return sum(1 for item in decided if item.decision_id > watermark)

    def recorded(self) -> list[str]:
        """Communities whose journal records a head's cases or a refit after an erasure."""
        found = []
        mine = same_file(self.database)
        for path in sorted(self.detector.heads.root.glob("*.learning.json")):
            journal = read_journal(path)
            if journal.database not in ("", mine):
                continue  # learned from another bot's database sharing this data directory
            if journal.community and (journal.erased or journal.trained_on):
                found.append(journal.community)
        return found

    def run(self, now: datetime, *, only: Sequence[str] | None = None) -> list[Attempt]:
        """Retrain each community with enough new decisions, or whose head lost erased cases.

        Blocking: the runtime calls it on its own thread. `only` limits it to these communities
        (`huitaine forget` refits at once the heads an erasure removed). Returns the attempts.
        """
        self._drop_legacy_head()
        by_community: dict[str, list[Decided]] = {}
        for item in decided_cases(self.database):
            by_community.setdefault(item.community, []).append(item)
        communities = sorted(set(by_community) | set(self.recorded()))
        attempts = []
        for community in communities:
            if only is not None and community not in only:
                continue
            attempt = self.run_for(community, by_community.get(community, []), now)
            if attempt is not None:
                attempts.append(attempt)
        return attempts

    def run_for(self, community: str, decided: Sequence[Decided], now: datetime) -> Attempt | None:
        """Retrain `community`'s head from its `decided` cases if due; None when it did not try."""
        path = self.journal(community)
        journal = read_journal(path)
        # An erasure made while no hook could see it (another process, a race with a fit): a
        # case the head was fitted on is no longer a decision with a text.
        gone = set(journal.trained_on) - {item.case_id for item in decided}
        if gone:
            forget_cases(self.detector.heads.root, gone, self.database)
            journal = read_journal(path)
        erased = journal.erased
        fresh = self.new_decisions(community, decided)
        if not erased and fresh < self.config.learning.after_decisions:
            _LOGGER.debug("learning %s: %d new decisions, waiting for more", community, fresh)
            return None
        check = [item.example for item in decided if held_out(item.case_id)]
        own = [item for item in decided if not held_out(item.case_id)]
        watermark = max((item.decision_id for item in decided), default=0)
        if len(check) < MIN_HELD_OUT or not own:
            _LOGGER.info(
                "learning %s: %d new decisions, but only %d held out to check a new head on; "
                "waiting for more",
                community,
                fresh,
                len(check),
            )
            if erased:
                # The head went with the erased texts; the journal says it stays gone for now.
                nothing = Attempt(now, watermark, len(own), len(check), False, Errors(), Errors())
                append_attempt(
                    path,
                    replace(nothing, erased=erased),
                    community=community,
                    trained_on=(),
                    database=self.database,
                )
            return None
        encoder, rules, heads = self.detector.encoder, self.detector.rules, self.detector.heads
        examples = [*bundled_examples(), *(item.example for item in own)]
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
        in_use = heads.for_community(community, fallback=self.fallback)
        before = errors(in_use, x, rule_dets, check, threshold)
        after = errors(candidate, x, rule_dets, check, threshold)
        kept = after.total <= before.total
        if kept:
            candidate.save(heads.path_for(community))
        attempt = Attempt(
            at=now,
            watermark=watermark,
            learned=len(own),
            held_out=len(check),
            kept=kept,
            before=before,
            after=after,
            erased=erased,
        )
        # What the head on disk is fitted on: the new cases, the old record, or nothing (the
        # head that knew erased texts is gone and no new one replaced it).
        trained_on = [item.case_id for item in own] if kept else None if not erased else []
        append_attempt(
            path, attempt, community=community, trained_on=trained_on, database=self.database
        )
        if kept:
            # A case erased while the head was being fitted: the erasure found no record of it
            # yet, so the head goes now rather than at the next check.
            still = {d.case_id for d in decided_cases(self.database) if d.community == community}
            forget_cases(heads.root, {item.case_id for item in own} - still, self.database)
        _LOGGER.warning(
            "learning %s: a head fitted on %d decisions%s %s (mistakes on %d held-out "
            "decisions: %d before, %d with the new head)",
            community,
            len(own),
            f" (without {erased} whose texts were erased)" if erased else "",
            "replaces the old one" if kept else "was not kept",
            len(check),
            before.total,
            after.total,
        )
        return attempt

    def _drop_legacy_head(self) -> None:
        """Remove a head an earlier version learned from every community's decisions at once.

        It mixed communities and kept no record of its cases, so an erasure could not reach it;
        each community now learns its own (`huitaine train` heads are left alone).
        """
        if self._checked_legacy or not self.fallback:
            return
        self._checked_legacy = True
        path = self.detector.heads.path_for(self.fallback)
        try:
            source = Head.load(path).meta.get("source")
        except (OSError, ValueError, KeyError):
            return
        if source == "decisions":
            path.unlink(missing_ok=True)
            _LOGGER.warning(
                "learning: removed %s, learned by an earlier version from every community's "
                "decisions at once; each community now learns its own head",
                path,
            )


def learner_for(detector: object, config: Config, database: str | Path) -> Learner | None:
    """A learner for a detector that can learn (the model detector), unless learning is off."""
    if config.learning.after_decisions <= 0:
        return None
    if not all(hasattr(detector, name) for name in ("encoder", "rules", "heads")):
        _LOGGER.info("learning from decisions needs the model detector; it stays off")
        return None
    if str(database) == ":memory:":
        return None  # another connection would not see an in-memory database
    if not Path(database).is_file():
        # Decisions are read from the SQLite file (read-only, on the learner's thread).
        _LOGGER.info("learning from decisions reads a SQLite file; it stays off here")
        return None
    return Learner(detector, config, database)  # type: ignore[arg-type]


def refit_erased(
    config: Config, database: str | Path, now: datetime, *, detector: object | None = None
) -> list[Attempt]:
    """Refit at once the heads an erasure removed (`huitaine forget`); blocking.

    Loads the configured model detector unless `detector` is given. Nothing to refit, or
    learning off: returns at once without loading anything.
    """
    if config.learning.after_decisions <= 0 or not Path(database).is_file():
        return []
    heads = getattr(detector, "heads", None)
    root: Path = heads.root if isinstance(heads, HeadStore) else heads_root()
    waiting = [
        journal.community
        for journal in map(read_journal, sorted(root.glob("*.learning.json")))
        if journal.erased
        and journal.community
        and journal.database in ("", same_file(str(database)))
    ]
    if not waiting:
        return []
    own = detector is None
    if detector is None:
        from bot.detect.train import detector_from_config

        detector = detector_from_config(config, "model")
    try:
        learner = learner_for(detector, config, database)
        return learner.run(now, only=waiting) if learner is not None else []
    finally:
        close = getattr(detector, "close", None)
        if own and callable(close):
            close()
