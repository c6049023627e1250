"""The transformer detector: sentence embeddings, a per-community head, and the rules' signals.

`ModelDetector` implements the `Detector` protocol. Texts go through a `MicroBatcher`, so calls
from several threads share forward passes and the model runs on the batcher's thread, never on
the event loop (`detect_async` awaits it). The head is the community's own when `huitaine train`
wrote one, else the default head fitted on the project's own examples; a head file written by
`train` is picked up from the next message on.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from bot.detect.base import Detector
from bot.detect.batcher import MicroBatcher
from bot.detect.encoders import Encoder, EncoderOptions, data_dir, load_encoder
from bot.detect.head import TASKS, FloatArray, Head, features, fit_task, rule_features
from bot.detect.language import LanguageIdentifier
from bot.detect.rules import RuleDetector
from bot.models import Detection

_LOGGER = logging.getLogger(__name__)

EXAMPLES_FILE = "examples.csv"
PRAISE_FILE = "praise.csv"
# 4: the default head carries a praise classifier beside its question and complaint ones.
DEFAULT_HEAD_VERSION = "4"
# How the default head's scores meet the rule detector's. A community's trained head is used
# alone: it learned when its moderators overrule the rules.
# "max" (heads written before version 3): the higher of the two. A rule hit alone then opened a
# case even where the model read chatter ("which driver are you using?" to someone else).
COMBINE_MAX = "max"
# "gated": the rules raise a score only where the head already gives it some support, so their
# precise cues ("est-ce que", "never arrived") add recall without overruling the model on
# chatter. The head sees the rules' scores as features, so a strong cue still counts through it.
COMBINE_GATED = "gated"
# The head's least score for the rules to raise it. Questions: only a head that is sure (98 %)
# a text asks nothing overrules a "?" (helpers' "which driver are you using?"); a higher gate
# lost real requests of the demo ("what file format does the laser cutter take?", head 0.03).
# Complaints need more support: a negative word in chat is mostly banter or a technical remark.
GATE = {"question": 0.02, "complaint": 0.2}
# Praise, thanks and enthusiasm are feedback, not complaints (DESIGN.md: "praise may be
# recognised so that it never becomes a complaint"). The default head carries a third classifier,
# fitted on the project's written praise (`data/praise.csv`) against the bundled requests, so
# sarcasm ("merci pour rien", "trop bien, on m'a encore débité deux fois") stays a complaint.
# Where it reads praise, the complaint score is held below it: praise p > 0.5 caps a complaint
# at 1 - p, under the threshold. A head without it (older files, communities' heads) is unchanged.
PRAISE = "praise"
PRAISE_GATE = 0.5
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message; a label of None means "not known for this task"."""

    text: str
    question: int | None
    complaint: int | None
    lang: str = ""


def bundled_examples() -> list[Example]:
    """The project's own written training examples (FR and EN), shipped with the package."""
    source = resources.files("bot.detect").joinpath("data", EXAMPLES_FILE)
    with source.open("r", encoding="utf-8") as handle:
        return [
            Example(
                row["text"],
                int(row["label_question"]),
                int(row["label_complaint"]),
                row.get("lang", ""),
            )
            for row in csv.DictReader(handle)
        ]


def bundled_praise() -> list[str]:
    """The project's own written praise and thanks (FR and EN), shipped with the package."""
    source = resources.files("bot.detect").joinpath("data", PRAISE_FILE)
    with source.open("r", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]


def _rules_fingerprint() -> str:
    # The head reads the rule detector's scores: when the rules change, heads are refitted.
    from bot.detect import rules

    return _fingerprint(Path(rules.__file__).read_text(encoding="utf-8"))


def community_key(community: str) -> str:
    """A file-system-safe name for a community id."""
    cleaned = _UNSAFE.sub("_", community).strip("._") or "community"
    return f"{cleaned[:60]}-{_fingerprint(community)[:6]}"


def fit_head(
    encoder: Encoder,
    rules: RuleDetector,
    examples: Sequence[Example],
    *,
    weights: Sequence[float] | None = None,
    meta: dict[str, str] | None = None,
) -> Head:
    """Fit question and complaint classifiers on `examples` (unknown labels are skipped)."""
    texts = [example.text for example in examples]
    x = embed_features(encoder, rules, texts)
    return _fit_tasks(encoder, x, examples, weights, meta)


def fit_default_head(
    encoder: Encoder,
    rules: RuleDetector,
    examples: Sequence[Example],
    praise: Sequence[str],
    *,
    meta: dict[str, str] | None = None,
) -> Head:
    """The default head: question and complaint as `fit_head`, plus the praise classifier.

    Praise is fitted against the examples that are requests (questions or complaints), so that
    it learns what tells thanks from a complaint; chatter that is neither is left out.
    """
    texts = [example.text for example in examples]
    x = embed_features(encoder, rules, [*texts, *praise])
    head = _fit_tasks(encoder, x[: len(texts)], examples, None, meta)
    requests = [i for i, e in enumerate(examples) if e.question == 1 or e.complaint == 1]
    if praise and requests:
        rows = [*range(len(texts), len(texts) + len(praise)), *requests]
        y = np.asarray([1.0] * len(praise) + [0.0] * len(requests))
        tasks = {**head.tasks, PRAISE: fit_task(x[rows], y)}
        head = Head(encoder=head.encoder, dim=head.dim, tasks=tasks, meta=head.meta)
    return head


def _fit_tasks(
    encoder: Encoder,
    x: FloatArray,
    examples: Sequence[Example],
    weights: Sequence[float] | None,
    meta: dict[str, str] | None,
) -> Head:
    w = np.asarray(weights if weights is not None else [1.0] * len(examples), dtype=np.float64)
    tasks = {}
    for task in TASKS:
        labels = [getattr(example, task) for example in examples]
        known = np.asarray([label is not None for label in labels])
        y = np.asarray([label or 0 for label in labels], dtype=np.float64)
        if known.sum() == 0 or len(set(y[known].tolist())) < 2:
            _LOGGER.warning("no %s head: examples of both classes are needed", task)
            continue
        tasks[task] = fit_task(x[known], y[known], w[known])
    return Head(encoder=encoder.name, dim=encoder.dim, tasks=tasks, meta=dict(meta or {}))


def embed_features(encoder: Encoder, rules: RuleDetector, texts: Sequence[str]) -> FloatArray:
    """The head's features for `texts`: embeddings then rule signals."""
    detections = rules.detect_batch(texts)
    return features(encoder.encode(texts), rule_features(texts, detections))


class HeadStore:
    """Finds the head for a community: its own if trained, else the default one."""

    def __init__(self, encoder: Encoder, rules: RuleDetector, root: Path | None = None) -> None:
        """Heads live under `root` (the data directory's heads/ by default)."""
        self._encoder = encoder
        self._rules = rules
        self.root = root or data_dir() / "heads"
        self._encoder_key = _fingerprint(encoder.name, str(encoder.dim))
        self._cache: dict[Path, tuple[float, Head]] = {}
        self._lock = threading.Lock()
        self._default: Head | None = None

    def path_for(self, community: str) -> Path:
        """Where `huitaine train` saves the head of `community` for this encoder."""
        return self.root / f"{community_key(community)}.{self._encoder_key}.npz"

    def default(self) -> Head:
        """The head fitted on the bundled examples, cached on disk after the first fit."""
        with self._lock:
            if self._default is not None:
                return self._default
            examples = bundled_examples()
            praise = bundled_praise()
            key = _fingerprint(
                DEFAULT_HEAD_VERSION,
                self._encoder_key,
                # Engines of one model agree closely but not bit for bit: one default each.
                str(getattr(self._encoder, "engine", "torch")),
                _rules_fingerprint(),
                *(f"{e.text}\t{e.question}\t{e.complaint}" for e in examples),
                *(f"{text}\tpraise" for text in praise),
            )
            path = self.root / f"default.{key}.npz"
            head = self._read(path)
            if head is None:
                _LOGGER.info("fitting the default head on %d bundled examples", len(examples))
                meta = {"source": "bundled", "combine": COMBINE_GATED}
                head = fit_default_head(self._encoder, self._rules, examples, praise, meta=meta)
                head.save(path)
            self._default = head
            return head

    def for_community(self, community: str | None, fallback: str | None = None) -> Head:
        """The community's trained head if there is one (re-read when the file changes).

        Else `fallback`'s (the deployment's head written by `huitaine train`), else the default.
        """
        for name in (community, fallback):
            if name:
                head = self._read(self.path_for(name))
                if head is not None:
                    return head
        return self.default()

    def _read(self, path: Path) -> Head | None:
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return None
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            head = Head.load(path)
        except (OSError, ValueError, KeyError) as exc:
            _LOGGER.warning("ignoring unreadable head %s: %s", path, exc)
            return None
        if head.dim != self._encoder.dim:
            _LOGGER.warning("ignoring head %s: made for another encoder", path)
            return None
        self._cache[path] = (mtime, head)
        return head


def combine_scores(
    combine: object,
    question: float,
    complaint: float,
    rules: Detection,
    praise: float | None = None,
) -> tuple[float, float]:
    """The (question, complaint) scores of a head combined with the rules' as `combine` says.

    `praise`, the head's praise score when it has one, holds a complaint below it (see PRAISE).
    """
    if combine == COMBINE_MAX:
        question, complaint = max(question, rules.question), max(complaint, rules.complaint)
    elif combine == COMBINE_GATED:
        if question >= GATE["question"]:
            question = max(question, rules.question)
        if complaint >= GATE["complaint"]:
            complaint = max(complaint, rules.complaint)
    if praise is not None and praise > PRAISE_GATE:
        complaint = min(complaint, 1.0 - praise)
    return question, complaint


class ModelDetector:
    """Scores messages with a transformer encoder and a trained head, in micro-batches."""

    name = "model"

    def __init__(
        self,
        encoder: Encoder,
        *,
        rules: RuleDetector | None = None,
        community: str | None = None,
        heads: HeadStore | None = None,
        max_batch: int = 32,
        max_wait: float = 0.002,
        max_queue: int = 1024,
    ) -> None:
        """Wrap `encoder`; `community` picks the head that `detect_batch` uses."""
        self.encoder = encoder
        self.rules = rules or RuleDetector()
        self.community = community
        self.heads = heads or HeadStore(encoder, self.rules)
        self.heads.default()  # fitted now, not on the first member's message
        self._batcher: MicroBatcher[tuple[str | None, str], Detection] = MicroBatcher(
            self._score,
            max_batch=max_batch,
            max_wait=max_wait,
            max_queue=max_queue,
            name="huitaine-detect",
        )

    def detect_batch(self, texts: Sequence[str]) -> list[Detection]:
        """Return one detection per text, in the same order (blocks the calling thread)."""
        return self.detect_for(self.community, texts)

    def detect_for(self, community: str | None, texts: Sequence[str]) -> list[Detection]:
        """Like `detect_batch`, with the head of `community`."""
        return self._batcher.run([(community, text) for text in texts])

    async def detect_async(
        self, texts: Sequence[str], community: str | None = None
    ) -> list[Detection]:
        """Await detections without blocking the event loop."""
        return await self._batcher.run_async([(community or self.community, t) for t in texts])

    def close(self) -> None:
        """Finish queued work and stop the inference thread."""
        self._batcher.close()

    def _score(self, items: list[tuple[str | None, str]]) -> list[Detection]:
        texts = [text for _, text in items]
        rule_dets = self.rules.detect_batch(texts)
        x = features(self.encoder.encode(texts), rule_features(texts, rule_dets))
        results: list[Detection | None] = [None] * len(items)
        # Usually one community per batch; heads are looked up once per community.
        for community in {community for community, _ in items}:
            rows = [i for i, (c, _) in enumerate(items) if c == community]
            # A community's own head (learned from its decisions), else the deployment's.
            head = self.heads.for_community(community, fallback=self.community)
            scores = head.predict(x[rows])
            praise_head = head.tasks.get(PRAISE)
            praise = None if praise_head is None else praise_head.predict(x[rows])
            combine = head.meta.get("combine")
            for position, row in enumerate(rows):
                question, complaint = combine_scores(
                    combine,
                    float(scores["question"][position]),
                    float(scores["complaint"][position]),
                    rule_dets[row],
                    None if praise is None else float(praise[position]),
                )
                results[row] = self._detection(texts[row], rule_dets[row], question, complaint)
        return [r for r in results if r is not None]

    @staticmethod
    def _detection(text: str, rules: Detection, question: float, complaint: float) -> Detection:
        if not text.strip():
            return Detection(0.0, 0.0, rules.language, ())
        reasons = (f"model: question {question:.2f}, complaint {complaint:.2f}", *rules.reasons)
        return Detection(
            round(min(1.0, max(0.0, question)), 4),
            round(min(1.0, max(0.0, complaint)), 4),
            rules.language,
            reasons,
        )


def build_model_detector(
    options: EncoderOptions,
    *,
    language: LanguageIdentifier | None = None,
    community: str | None = None,
) -> Detector:
    """The model detector, or the rule detector (with a log line) if the model cannot load."""
    rules = RuleDetector(language)
    try:
        encoder = load_encoder(options)
        _LOGGER.info(
            "transformer detector: %s, %s engine",
            encoder.name,
            getattr(encoder, "engine", "torch"),
        )
        return ModelDetector(
            encoder, rules=rules, community=community, max_batch=options.batch_size
        )
    except Exception as exc:  # any failure to load must leave the bot working on rules
        _LOGGER.warning(
            "model detector unavailable (%s: %s); using the rule detector instead",
            type(exc).__name__,
            exc,
        )
        return rules
