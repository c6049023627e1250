"""What the detector learned from the moderators: a journal per community, and its digest line.

Each retraining attempt (kept or not) is one entry: when, how many decisions it learned from,
and the errors of the old and the new head on the held-out decisions. The journal lives next
to the community's head (same folder, no member text in it) and is written atomically, so a
crash leaves the previous journal whole. The weekly digest reads it to say, in the community's
words, what changed ("learned from 23 decisions: 4 fewer false complaints").

The journal also records which cases the community's head was fitted on (ids only). When a
member is forgotten, a message deleted or old texts purged, `forget_cases` removes at once every
head fitted on one of those cases (the detector falls back to the default head) and marks the
community for a refit without them at the next learning check.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.i18n import Catalog

_LOGGER = logging.getLogger(__name__)

# Enough for years of daily attempts; older ones teach nothing a digest would show.
KEEP_ATTEMPTS = 200
# The learner's thread and the core's (erasures) both rewrite journals: one at a time.
_WRITING = threading.Lock()


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
    # Decisions the previous head was fitted on whose texts were erased since: this attempt
    # refitted the head without them (0 for an attempt prompted by new decisions).
    erased: int = 0

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
            erased=int(data.get("erased", 0)),
        )


@dataclass(frozen=True, slots=True)
class Journal:
    """A community's learning journal: its attempts and what its head was fitted on."""

    attempts: tuple[Attempt, ...] = ()
    community: str = ""  # as `[communities."platform:id"]` names it
    trained_on: tuple[int, ...] = ()  # case ids the community's head file was fitted on
    erased: int = 0  # of those, erased since: the head was removed and waits for a refit
    database: str = ""  # the SQLite file those case ids belong to (resolved)


def log_path(root: Path, key: str) -> Path:
    """The journal of the community whose file-safe key is `key` (see `community_key`)."""
    return root / f"{key}.learning.json"


def heads_root() -> Path:
    """Where heads and journals live unless told otherwise (`HeadStore`'s default)."""
    from bot.detect.encoders import data_dir

    return data_dir() / "heads"


def read_journal(path: Path) -> Journal:
    """The whole journal; an unreadable journal is reported and read as empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Journal(
            attempts=tuple(Attempt.from_json(item) for item in data["attempts"]),
            community=str(data.get("community", "")),
            trained_on=tuple(int(case_id) for case_id in data.get("trained_on", ())),
            erased=int(data.get("erased", 0)),
            database=str(data.get("database", "")),
        )
    except FileNotFoundError:
        return Journal()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _LOGGER.warning("ignoring unreadable learning journal %s: %s", path, exc)
        return Journal()


def read_attempts(path: Path) -> list[Attempt]:
    """The journal's attempts, oldest first; an unreadable journal is reported and ignored."""
    return list(read_journal(path).attempts)


def append_attempt(
    path: Path,
    attempt: Attempt,
    *,
    community: str | None = None,
    trained_on: Sequence[int] | None = None,
    database: str | None = None,
) -> None:
    """Add `attempt` to the journal, atomically (readers see the old or the new file).

    `trained_on`, when given, is what the community's head file is now fitted on (empty: there
    is no head of its own); it also settles any pending refit. None keeps the record as it is.
    """
    with _WRITING:
        journal = read_journal(path)
        attempts = (*journal.attempts, attempt)[-KEEP_ATTEMPTS:]
        changes: dict[str, Any] = {"attempts": attempts}
        if community is not None:
            changes["community"] = community
        if database is not None:
            changes["database"] = same_file(database)
        if trained_on is not None:
            changes |= {"trained_on": tuple(sorted(trained_on)), "erased": 0}
        _write(path, replace(journal, **changes))


def same_file(database: str) -> str:
    """`database` as journals record it, so that two spellings of one file compare equal."""
    try:
        return str(Path(database).resolve())
    except (OSError, ValueError):
        return database


def record_fit(path: Path, trained_on: Sequence[int], database: str) -> None:
    """Record what a head saved outside the learner (`huitaine train`) was fitted on.

    Only the erasure hook reads it (`forget_cases`): the learner neither refits nor checks a
    head it did not make. Empty for a head fitted on a CSV file (no member's stored text).
    """
    with _WRITING:
        journal = read_journal(path)
        if not trained_on and not journal.trained_on and not path.exists():
            return  # nothing to record, and no journal to create for it
        _write(
            path,
            replace(
                journal,
                trained_on=tuple(sorted(trained_on)),
                erased=0,
                database=same_file(database),
            ),
        )


def forget_cases(root: Path, case_ids: Iterable[int], database: str | None = None) -> list[str]:
    """Remove at once every head of `root` fitted on one of `case_ids` (their texts are gone).

    `database` is the file the ids belong to: heads learned from another file are left alone
    (ids repeat across databases). A journal that names no file is taken to be this one's.

    The community's journal keeps the count (no ids of the erased cases) and asks for a refit
    without them at the next learning check; until then the detector uses the default head.
    Returns the communities whose head was removed. Safe to call for cases no head knows.
    """
    wanted = set(case_ids)
    removed: list[str] = []
    if not wanted or not root.is_dir():
        return removed
    mine = same_file(database) if database is not None else None
    with _WRITING:
        for path in sorted(root.glob("*.learning.json")):
            journal = read_journal(path)
            gone = wanted.intersection(journal.trained_on)
            if not gone or (mine and journal.database and journal.database != mine):
                continue
            # The head files of every encoder: `<key>.<encoder>.npz` beside `<key>.learning.json`.
            key = path.name.removesuffix(".learning.json")
            for head in root.glob(f"{key}.*.npz"):
                head.unlink(missing_ok=True)
            # The rest stays recorded until the refit, so that later erasures add to the count.
            left = tuple(case_id for case_id in journal.trained_on if case_id not in gone)
            _write(path, replace(journal, trained_on=left, erased=journal.erased + len(gone)))
            removed.append(journal.community or key)
            # Counts only: which cases were erased says something about whom.
            _LOGGER.warning(
                "learning: %d decisions the head of %s was fitted on were erased; the head is "
                "removed (the default head detects there) until it is refitted without them",
                len(gone),
                journal.community or key,
            )
    return removed


def _write(path: Path, journal: Journal) -> None:
    data = {
        "community": journal.community,
        "database": journal.database,
        "trained_on": list(journal.trained_on),
        "erased": journal.erased,
        "attempts": [a.to_json() for a in journal.attempts],
    }
    text = json.dumps(data, indent=1)
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
        "relearned": {
            "en": "🧠 Relearned from {n} of your decisions without the {e} whose texts were "
            "erased: {changes} (checked on {k} held-out decisions).",
            "fr": "🧠 Réappris de {n} de vos décisions sans les {e} dont les textes ont été "
            "effacés : {changes} (vérifié sur {k} décisions mises de côté).",
        },
        "dropped": {
            "en": "🧠 Texts of {e} decisions the detector had learned from were erased: it "
            "uses the default detector until it has learned again.",
            "fr": "🧠 Les textes de {e} décisions dont le détecteur avait appris ont été "
            "effacés : il utilise le détecteur par défaut jusqu'à un nouvel apprentissage.",
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
        if attempt.erased:
            return _x("dropped", language, e=attempt.erased)
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
        "relearned" if attempt.erased else "learned",
        language,
        e=attempt.erased,
        n=attempt.learned,
        changes=", ".join(changes) or _x("same", language),
        k=attempt.held_out,
    )


def weekly_line(
    attempts: Sequence[Attempt], since: datetime, until: datetime, language: str
) -> str | None:
    """The digest's line for attempts in [since, until): the latest kept one, else a refusal.

    A head removed with erased texts and not refitted yet is news over any earlier gain.
    """
    week = [a for a in attempts if since <= a.at < until]
    if not week:
        return None
    kept = [a for a in week if a.kept]
    if week[-1].erased and not week[-1].kept:
        return describe(week[-1], language)  # the head went with erased texts: say so
    return describe(kept[-1] if kept else week[-1], language)
