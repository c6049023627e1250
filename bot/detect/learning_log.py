"""What the detector learned from the moderators: a journal per community, and its digest line.

Each retraining attempt (kept or not) is one entry: when, how many decisions it learned from,
and the errors of the old and the new head on the held-out decisions. The journal lives next
to the community's head (same folder, no member text in it) and is written atomically, so a
crash leaves the previous journal whole. The weekly digest reads it to say, in the community's
words, what changed ("learned from 23 decisions: 4 fewer false complaints").
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.i18n import Catalog

_LOGGER = logging.getLogger(__name__)

# Enough for years of daily attempts; older ones teach nothing a digest would show.
KEEP_ATTEMPTS = 200


@dataclass(frozen=True, slots=True)
class Errors:
    """A head's mistakes on the held-out decisions, at the configured threshold."""

    false_questions: int = 0
    missed_questions: int = 0
    false_complaints: int = 0
    missed_complaints: int = 0

    @property
    def total(self) -> int:
        """Every mistake counts the same: a card for chatter or a member left unseen."""
        return (
            self.false_questions
            + self.missed_questions
            + self.false_complaints
            + self.missed_complaints
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """One retraining: what it learned from and how both heads did on held-out decisions."""

    at: datetime
    watermark: int  # the newest decision id it saw; the next attempt waits for newer ones
    learned: int  # the community's decisions it was fitted on (held-out ones excluded)
    held_out: int  # decisions it was checked on
    kept: bool
    before: Errors
    after: Errors

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attempt:
        """Read what `to_json` wrote."""
        return cls(
            at=datetime.fromisoformat(data["at"]),
            watermark=int(data["watermark"]),
            learned=int(data["learned"]),
            held_out=int(data["held_out"]),
            kept=bool(data["kept"]),
            before=Errors(**data["before"]),
            after=Errors(**data["after"]),
        )


def log_path(root: Path, key: str) -> Path:
    """The journal of the community whose file-safe key is `key` (see `community_key`)."""
    return root / f"{key}.learning.json"


def read_attempts(path: Path) -> list[Attempt]:
    """The journal's attempts, oldest first; an unreadable journal is reported and ignored."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Attempt.from_json(item) for item in data["attempts"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _LOGGER.warning("ignoring unreadable learning journal %s: %s", path, exc)
        return []


def append_attempt(path: Path, attempt: Attempt) -> None:
    """Add `attempt` to the journal, atomically (readers see the old or the new file)."""
    attempts = [*read_attempts(path), attempt][-KEEP_ATTEMPTS:]
    text = json.dumps({"attempts": [a.to_json() for a in attempts]}, indent=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".learning-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_x = Catalog(
    {
        "learned": {
            "en": "🧠 Learned from {n} of your decisions: {changes} (checked on {k} held-out "
            "decisions).",
            "fr": "🧠 Appris de {n} de vos décisions : {changes} (vérifié sur {k} décisions "
            "mises de côté).",
        },
        "same": {"en": "as accurate as before", "fr": "aussi juste qu'avant"},
        "not_kept": {
            "en": "🧠 A detector retrained on {n} of your decisions was not kept: it did worse "
            "on {k} held-out decisions.",
            "fr": "🧠 Un détecteur réentraîné sur {n} de vos décisions n'a pas été gardé : il "
            "se trompait davantage sur {k} décisions mises de côté.",
        },
        "false_complaints": {
            "en": "{d} {more} false complaint{s}",
            "fr": "{d} fausse{s} réclamation{s} en {more}",
        },
        "false_questions": {
            "en": "{d} {more} false question{s}",
            "fr": "{d} fausse{s} question{s} en {more}",
        },
        "missed_complaints": {
            "en": "{d} {more} missed complaint{s}",
            "fr": "{d} réclamation{s} manquée{s} en {more}",
        },
        "missed_questions": {
            "en": "{d} {more} missed question{s}",
            "fr": "{d} question{s} manquée{s} en {more}",
        },
        "fewer": {"en": "fewer", "fr": "moins"},
        "more": {"en": "more", "fr": "plus"},
    }
)
_KINDS = ("false_complaints", "false_questions", "missed_complaints", "missed_questions")


def describe(attempt: Attempt, language: str) -> str:
    """One line saying what `attempt` changed, in `language` (English when not fr)."""
    if not attempt.kept:
        return _x("not_kept", language, n=attempt.learned, k=attempt.held_out)
    changes = []
    for kind in _KINDS:
        delta = getattr(attempt.after, kind) - getattr(attempt.before, kind)
        if delta:
            changes.append(
                _x(
                    kind,
                    language,
                    d=abs(delta),
                    more=_x("more" if delta > 0 else "fewer", language),
                    s="s" if abs(delta) > 1 else "",
                )
            )
    return _x(
        "learned",
        language,
        n=attempt.learned,
        changes=", ".join(changes) or _x("same", language),
        k=attempt.held_out,
    )


def weekly_line(
    attempts: Sequence[Attempt], since: datetime, until: datetime, language: str
) -> str | None:
    """The digest's line for attempts in [since, until): the latest kept one, else a refusal."""
    week = [a for a in attempts if since <= a.at < until]
    if not week:
        return None
    kept = [a for a in week if a.kept]
    return describe(kept[-1] if kept else week[-1], language)
