"""Texts posted to the moderators' chat: review cards, case lists and the edit prompt.

Everything is plain text (no parse_mode): names and excerpts written by members can hold any
character, and nothing needs escaping.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from adapters.telegram.convert import MAX_MESSAGE, utf16_len
from adapters.telegram.texts import tr
from bot.i18n import format_time, human_duration, t
from bot.models import Answerer, Case, CaseState, Outgoing
from bot.suggest import sign

_LOGGER = logging.getLogger(__name__)

_ICONS = {
    CaseState.OPEN: "🔔",
    CaseState.SUGGESTED: "🔔",
    CaseState.ANSWERED: "✅",
    CaseState.RESOLVED: "☑️",
    CaseState.DISMISSED: "🗑",
    CaseState.WITHDRAWN: "↩️",
}
_CLOSED = {
    CaseState.DISMISSED: "card_dismissed",
    CaseState.WITHDRAWN: "card_withdrawn",
    CaseState.RESOLVED: "card_resolved",
}
# The prompt starts with its case number so that a reply to it finds the case again, even
# after a restart; the bot wrote it, so it can be trusted.
PROMPT = re.compile(r"✏️ #([1-9][0-9]{0,14}) · ")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a case's message is, as moderators read it."""

    name: str
    link: str | None = None


def _cut(text: str, budget: int, note: str) -> str:
    if utf16_len(text) <= budget:
        return text
    keep = max(budget - utf16_len(note) - 2, 0)
    while utf16_len(text[:keep]) > keep:
        keep -= 1
    return text[:keep].rstrip() + "…\n" + note


def render_card(
    case: Case,
    *,
    language: str,
    tz: tzinfo,
    place: Place,
    unconfirmed: Outgoing | None = None,
    failed: Outgoing | None = None,
    target_label: str = "",
    source: str | None = None,
) -> str:
    """The review card of a case: who, where, what, how sure, by when, and the draft.

    `target_label` is the core's wording of the target ("Monday 10:00 (business hours)").
    """
    header = " · ".join(
        (
            f"{_ICONS[case.state]} {tr('card_title', language, case=case.id)}",
            t(case.kind.value, language),
            f"{case.confidence:.0%}",
            case.language,
            t(case.state.value, language),
        )
    )
    where = place.name
    if case.thread is not None:
        where += f" ({tr('topic', language, topic=case.thread)})"
    lines = [header, tr("card_who", language, member=case.author.name, place=where)]
    if place.link:
        lines.append(f"🔗 {place.link}")
    lines.append(
        tr(
            "card_deadlines",
            language,
            target=target_label or format_time(case.target_at, tz),
            limit=format_time(case.due_at, tz),
        )
    )
    lines.append(f"“{case.excerpt}”")
    status: list[str] = []
    if case.first_response_at is not None:
        delay = (case.first_response_at - case.opened_at).total_seconds()
        status.append(
            tr(
                "card_answered",
                language,
                who=case.answered_by or "?",
                when=format_time(case.first_response_at, tz),
                delay=human_duration(max(delay, 0.0), language),
            )
        )
    if case.answered_by_community:
        status.append(tr("card_by_community", language, who=case.answered_by or "?"))
    elif case.helper_confirmed and case.answered_as is Answerer.HELPER:
        status.append(tr("card_helper_confirmed", language))
    if case.state in _CLOSED:
        status.append(tr(_CLOSED[case.state], language))
    if case.state.waiting:
        if case.assignee:
            status.append(tr("card_assigned", language, who=case.assignee))
        if case.snoozed_until is not None:
            status.append(tr("card_snoozed", language, when=format_time(case.snoozed_until, tz)))
        if failed is not None and unconfirmed is None:
            status.append(tr("card_failed", language, reply=failed.id))
    if unconfirmed is not None:
        status.append(
            tr("card_unconfirmed", language, reply=unconfirmed.id, who=unconfirmed.approved_by)
        )
    draft = ""
    if case.state.waiting and unconfirmed is None:
        if case.suggestions:
            draft = (
                tr("card_suggestion", language)
                + "\n"
                + (f"({source})\n" if source else "")
                + sign(case.suggestions[0].text, tr("your_name", language))
            )
        else:
            draft = tr("card_no_suggestion", language)
    body = "\n".join(lines)
    tail = "\n".join(status)
    budget = MAX_MESSAGE - utf16_len(body) - utf16_len(tail) - 4
    draft = _cut(draft, budget, tr("truncated", language, case=case.id)) if draft else ""
    return "\n\n".join(part for part in (body, draft, tail) if part)


def render_case_list(cases: Sequence[Case], now: datetime, *, language: str, tz: tzinfo) -> str:
    """The /cases listing: waiting cases, soonest target first."""
    if not cases:
        return tr("cases_none", language)
    lines = [tr("cases_title", language, count=len(cases))]
    for case in cases:
        flag = ""
        if case.overdue(now):
            flag = f" 🚨 {t('overdue', language)}"
        elif case.late(now):
            flag = f" ⚠️ {t('late', language)}"
        excerpt = case.excerpt if len(case.excerpt) <= 80 else case.excerpt[:79] + "…"
        lines.append(
            tr(
                "case_line",
                language,
                case=case.id,
                kind=t(case.kind.value, language),
                member=case.author.name,
                target=format_time(case.target_at, tz),
                flag=flag,
                excerpt=excerpt,
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Prompt:
    """The edit prompt and where the moderator's name sits in it (UTF-16 units)."""

    text: str
    name_offset: int
    name_length: int


def render_prompt(case: Case, moderator: str, *, language: str) -> Prompt:
    """Ask a moderator for the new text; the current suggestion is there to copy and adapt."""
    head = tr("edit_prompt", language, case=case.id, name="\0", member=case.author.name)
    before, _, after = head.partition("\0")
    text = before + moderator + after
    if case.suggestions:
        text += "\n\n" + sign(case.suggestions[0].text, moderator)
    text = _cut(text, MAX_MESSAGE, "")
    return Prompt(text, utf16_len(before), utf16_len(moderator))


def prompt_case(text: str | None) -> int | None:
    """The case number at the start of an edit prompt, or None."""
    match = PROMPT.match(text or "")
    return int(match[1]) if match else None
