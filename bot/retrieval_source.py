"""Where a draft comes from, in words a moderator reads on the card, in French and English.

"answered like this by Sam on 12 March, case #41", "FAQ: refunds", "template: delivery".
A suggestion's stored `source` is a short key (`approved:case-41`, `faq:refunds`,
`template:en-refund`); the details (who answered, when, the topic) are read when the card is
drawn, so a name erased since is never shown.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.clock import from_db
from bot.faq import FaqEntry
from bot.models import Suggestion
from bot.storage import Store
from bot.suggest import Suggester

_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
}  # fmt: skip
_LINES = {
    "answered": {
        "en": "answered like this by {who} on {when}",
        "fr": "répondu ainsi par {who} le {when}",
    },
    "answered_case": {
        "en": "answered like this by {who} on {when}, case #{case}",
        "fr": "répondu ainsi par {who} le {when}, cas #{case}",
    },
    "faq": {"en": "FAQ: {topic}", "fr": "FAQ : {topic}"},
    "template": {"en": "template: {topic}", "fr": "modèle : {topic}"},
    "other": {"en": "source: {topic}", "fr": "source : {topic}"},
}


class SourceKind(enum.StrEnum):
    """What kind of source a draft came from."""

    ANSWER = "answer"  # an earlier reply: approved through Huitaine or a staff answer
    FAQ = "faq"
    TEMPLATE = "template"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DraftSource:
    """A draft's origin, with what a moderator needs to trust it."""

    kind: SourceKind
    topic: str
    who: str | None = None
    when: datetime | None = None
    case: int | None = None

    def describe(self, language: str, tz: tzinfo = UTC) -> str:
        """One line for the card, in `language` (English for any other)."""
        lang = language if language in _MONTHS else "en"
        if self.kind is SourceKind.ANSWER and self.who and self.when is not None:
            local = self.when.astimezone(tz)
            when = f"{local.day} {_MONTHS[lang][local.month - 1]}"
            key = "answered_case" if self.case is not None else "answered"
            return _LINES[key][lang].format(who=self.who, when=when, case=self.case)
        key = self.kind.value if self.kind is not SourceKind.ANSWER else "other"
        return _LINES[key][lang].format(topic=self.topic)


def draft_source(
    store: Store, suggestion: Suggestion, *, suggester: Suggester, faq: list[FaqEntry]
) -> DraftSource:
    """Read the details behind `suggestion.source`."""
    kind, _, ref = suggestion.source.partition(":")
    if kind == "template":
        template = suggester.template(ref)
        return DraftSource(SourceKind.TEMPLATE, template.topic if template else ref)
    if kind == "faq":
        entry = next(
            (e for e in faq if e.id == ref and e.language == suggestion.language),
            next((e for e in faq if e.id == ref), None),
        )
        return DraftSource(SourceKind.FAQ, entry.topic if entry else ref)
    if kind == "approved" and ref.startswith("case-") and ref[5:].isdigit():
        case_id = int(ref[5:])
        row = store.row(
            "SELECT answered_by, first_response_at FROM cases WHERE id = ?", (case_id,)
        )
        if row and row["answered_by"] and row["first_response_at"]:
            return DraftSource(
                SourceKind.ANSWER,
                ref,
                who=str(row["answered_by"]),
                when=from_db(str(row["first_response_at"])),
                case=case_id,
            )
        return DraftSource(SourceKind.ANSWER, ref, case=case_id)
    if kind == "history":
        row = store.row("SELECT author_name, created_at FROM messages WHERE key = ?", (ref,))
        if row:
            return DraftSource(
                SourceKind.ANSWER,
                ref,
                who=str(row["author_name"]),
                when=from_db(str(row["created_at"])),
            )
    return DraftSource(SourceKind.OTHER, suggestion.source)
