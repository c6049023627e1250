"""What a community manager asks of a history: weekly trends, load, recurring questions, tone."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from bot.config import ONE_WEEK
from bot.models import Case, CaseState, Kind
from bot.storage import Store
from bot.suggest import fold

_WORD = re.compile(r"[a-z0-9]{3,}")
# Words that say nothing about what is asked, in both languages (accents already folded).
_STOPWORD_TEXT = """
    the and for you your are but not can how what when where why who which with this that have
    has had does did was were will would could should there their them they any anyone anybody
    someone please thanks thank hello from about just get got into out all also les des une
    pour pas que qui quoi est sont avec dans sur par vous nous mon mes mon ton son ses leur
    comment quand pourquoi quel quelle quels quelles est-ce bonjour merci svp plait fait faire
    peut peux pouvez savoir sait quelqu toujours encore deja tres bien aussi moi toi elle ils
    elles ete etre avoir ont cette ces mais donc alors car comme plus
    like know need want use using used one way something anything thing things way work works
    working trying try tried make does doing done see seems seem think good new now still really
    here well way else other some more much many than then only even help problem question
    guys hey yes yeah ok okay able sure possible people better best look looking http https
    www com org net html github wonder wondering sorry lol don didn doesn isn aren wasn cant dont
    voila truc chose marche fonctionne besoin veux voudrais essaye probleme question aide
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def week_start(when: datetime, tz: tzinfo) -> date:
    """The Monday of the week `when` falls in, in the community's time zone."""
    local = when.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


@dataclass(frozen=True, slots=True)
class WeekFigures:
    """One week of cases, by the week they were opened."""

    week: date
    questions: int
    complaints: int
    median_response_h: float | None
    within_target: float | None
    within_week: float | None


@dataclass(frozen=True, slots=True)
class FaqCandidate:
    """Questions that recur: a label, how many times, and a few examples."""

    label: str
    count: int
    examples: tuple[str, ...]


@dataclass
class Insights:
    """Everything the full report shows beyond the headline figures."""

    weeks: list[WeekFigures] = field(default_factory=list)
    response_hours: list[float] = field(default_factory=list)
    load: list[tuple[str, int]] = field(default_factory=list)
    faq: list[FaqCandidate] = field(default_factory=list)
    staff_replies: int = 0
    staff_broadcasts: int = 0

    @property
    def share_with(self) -> float | None:
        """Share of staff messages that talk with members (replies, mentions) not at them."""
        total = self.staff_replies + self.staff_broadcasts
        return self.staff_replies / total if total else None


def report_title(store: Store, configured: str, default: str, *, found: Sequence[str] = ()) -> str:
    """The configured community name, else the names the history gives its communities.

    `found` are names an import read from its exports' headers (their messages keep only ids).
    Ids (Discord guild and Telegram chat numbers) are not names: they are left out, and with
    nothing else the default stays.
    """
    if configured != default:
        return configured
    if found:
        return " · ".join(sorted(found)[:4])
    rows = store.rows(
        "SELECT community, COUNT(*) AS n FROM messages GROUP BY community ORDER BY n DESC LIMIT 4"
    )
    names = [str(row["community"]) for row in rows if not _is_id(str(row["community"]))]
    return " · ".join(names[:3]) or default


def _is_id(value: str) -> bool:
    return value.lstrip("-").isdigit() or not value.strip()


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def weekly(cases: list[Case], now: datetime, tz: tzinfo) -> list[WeekFigures]:
    """Cases per week by kind, with the week's median first response and kept promises."""
    buckets: dict[date, list[Case]] = defaultdict(list)
    for case in cases:
        if case.state not in (CaseState.DISMISSED, CaseState.WITHDRAWN):
            buckets[week_start(case.opened_at, tz)].append(case)
    figures = []
    for week in sorted(buckets):
        group = buckets[week]
        delays = [
            (c.first_response_at - c.opened_at).total_seconds() / 3600
            for c in group
            if c.first_response_at is not None
        ]
        judged_target = [c for c in group if c.first_response_at or now > c.target_at]
        judged_week = [c for c in group if c.first_response_at or now > c.opened_at + ONE_WEEK]
        in_target = sum(
            1 for c in judged_target if c.first_response_at and c.first_response_at <= c.target_at
        )
        in_week = sum(
            1
            for c in judged_week
            if c.first_response_at and c.first_response_at <= c.opened_at + ONE_WEEK
        )
        figures.append(
            WeekFigures(
                week=week,
                questions=sum(1 for c in group if c.kind is Kind.QUESTION),
                complaints=sum(1 for c in group if c.kind is Kind.COMPLAINT),
                median_response_h=statistics.median(delays) if delays else None,
                within_target=_share(in_target, len(judged_target)),
                within_week=_share(in_week, len(judged_week)),
            )
        )
    return figures


def content_words(text: str) -> set[str]:
    """The words of `text` that say what it is about (folded, no stop words)."""
    return {w for w in _WORD.findall(fold(text)) if w not in _STOPWORDS}


def faq_candidates(
    texts: list[str],
    *,
    top: int = 10,
    min_size: int = 2,
    names: frozenset[str] = frozenset(),
) -> list[FaqCandidate]:
    """Group questions that share their content words; the largest groups are FAQ candidates.

    Greedy single pass: a question joins the first group whose first question it overlaps
    enough (Jaccard ≥ 0.25, or two shared content words). Comparing with the first question,
    not with every word the group gathered, keeps one group from swallowing the history.
    Words found in more than a tenth of the questions (the community's topic: "racket",
    "ubuntu") and people's names (`names`, folded) neither group nor label. Cheap, explainable
    and good enough to point a community manager at what comes back every week.
    """
    documents = [content_words(text) - names for text in texts]
    frequency: Counter[str] = Counter()
    for words in documents:
        frequency.update(words)
    # A floor of 5 keeps small histories (a handful of questions) groupable at all.
    common = {w for w, n in frequency.items() if n > max(5, len(documents) // 10)}
    groups: list[tuple[set[str], Counter[str], list[str]]] = []
    for text, all_words in zip(texts, documents, strict=True):
        words = all_words - common
        if not words:
            continue
        for seed, counts, members in groups:
            shared = len(words & seed)
            if shared >= 2 or shared / len(words | seed) >= 0.25:
                counts.update(words)
                members.append(text)
                break
        else:
            groups.append((set(words), Counter(words), [text]))
    groups.sort(key=lambda group: -len(group[2]))
    return [
        FaqCandidate(
            # Words most members share first; among equals, the rarer in the whole history.
            label=" · ".join(sorted(counts, key=lambda w: (-counts[w], frequency[w], w))[:3]),
            count=len(members),
            examples=tuple(members[:3]),
        )
        for _, counts, members in groups[:top]
        if len(members) >= min_size
    ]


def staff_tone(store: Store) -> tuple[int, int]:
    """Staff messages that reply to or mention a member, and those that talk to no one."""
    row = store.row(
        "SELECT"
        " SUM(CASE WHEN reply_to IS NOT NULL OR mentions != '[]' OR thread IS NOT NULL"
        " THEN 1 ELSE 0 END) AS replies,"
        " SUM(CASE WHEN reply_to IS NULL AND mentions = '[]' AND thread IS NULL"
        " THEN 1 ELSE 0 END) AS broadcasts"
        " FROM messages WHERE author_staff = 1 AND author_bot = 0 AND deleted_at IS NULL"
    )
    if row is None:
        return 0, 0
    return int(row["replies"] or 0), int(row["broadcasts"] or 0)


def _people(store: Store) -> frozenset[str]:
    """Authors' names and ids, folded: in chat, people address each other by name."""
    rows = store.rows("SELECT DISTINCT author_id, author_name FROM messages")
    return frozenset(
        word
        for row in rows
        for value in row.values()
        if value is not None
        for word in _WORD.findall(fold(str(value)))
    )


def build_insights(store: Store, cases: list[Case], now: datetime, tz: tzinfo) -> Insights:
    """Compute every insight of the full report."""
    questions = store.rows(
        "SELECT m.text FROM cases c JOIN messages m ON m.case_id = c.id"
        " WHERE c.kind = 'question' AND c.state NOT IN ('dismissed', 'withdrawn')"
        " AND m.created_at = c.opened_at"
    )
    replies, broadcasts = staff_tone(store)
    return Insights(
        weeks=weekly(cases, now, tz),
        response_hours=[
            (c.first_response_at - c.opened_at).total_seconds() / 3600
            for c in cases
            if c.first_response_at is not None
        ],
        load=Counter(c.answered_by for c in cases if c.answered_by).most_common(),
        faq=faq_candidates([row["text"] for row in questions], names=_people(store)),
        staff_replies=replies,
        staff_broadcasts=broadcasts,
    )
