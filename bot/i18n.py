"""Moderator-facing texts in French and English."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

_TEXTS: dict[str, dict[str, str]] = {
    "reminder_target": {
        "en": "⏰ Case #{case}: {member} has waited {waited} for an answer ({kind}); "
        "the target is {when}.",
        "fr": "⏰ Cas n°{case} : {member} attend une réponse depuis {waited} ({kind}) ; "
        "l'objectif est {when}.",
    },
    "reminder_limit": {
        "en": "⚠️ Case #{case}: {member} has waited {waited}; the one-week limit is {when}.",
        "fr": "⚠️ Cas n°{case} : {member} attend depuis {waited} ; la limite d'une semaine "
        "est {when}.",
    },
    "escalation": {
        "en": "🚨 {mention} Case #{case}: {member} has had no answer for a week ({kind}). "
        '"{excerpt}"',
        "fr": "🚨 {mention} Cas n°{case} : {member} n'a reçu aucune réponse depuis une "
        "semaine ({kind}). « {excerpt} »",
    },
    "question": {"en": "question", "fr": "question"},
    "complaint": {"en": "complaint", "fr": "réclamation"},
    "open": {"en": "open", "fr": "ouvert"},
    "suggested": {"en": "suggested", "fr": "suggestion prête"},
    "answered": {"en": "answered", "fr": "répondu"},
    "resolved": {"en": "resolved", "fr": "résolu"},
    "dismissed": {"en": "dismissed", "fr": "écarté"},
    "withdrawn": {"en": "withdrawn", "fr": "retiré"},
    "sending": {"en": "being sent", "fr": "en cours d'envoi"},
    "sent": {"en": "sent", "fr": "envoyée"},
    "unconfirmed": {"en": "unconfirmed", "fr": "non confirmée"},
    "failed": {"en": "failed", "fr": "en échec"},
    "overdue": {"en": "OVERDUE", "fr": "EN RETARD"},
    "late": {"en": "past target", "fr": "objectif dépassé"},
    # `huitaine replay` and `huitaine demo`
    "summary_read": {
        "en": "{lines} lines read: {outcomes}",
        "fr": "{lines} lignes lues : {outcomes}",
    },
    "summary_skipped": {
        "en": "{n} lines skipped ({reasons})",
        "fr": "{n} lignes ignorées ({reasons})",
    },
    "summary_fired": {
        "en": "reminders and escalations fired: {fired}",
        "fr": "rappels et escalades déclenchés : {fired}",
    },
    "summary_cases": {"en": "{n} cases in {path}", "fr": "{n} cas dans {path}"},
    "summary_cases_only": {"en": "{n} cases", "fr": "{n} cas"},
    "none": {"en": "none", "fr": "aucun"},
    "demo_replaying": {
        "en": "Replaying the invented example community {name} …",
        "fr": "Rejeu de la communauté d'exemple inventée {name} …",
    },
    "demo_waiting": {
        "en": "Still waiting for a human, soonest target first:",
        "fr": "Attendent encore un humain, objectif le plus proche d'abord :",
    },
    "demo_case": {
        "en": "#{case} {kind} ({lang}, {confidence}) by {name} in #{channel}{late}",
        "fr": "n°{case} {kind} ({lang}, {confidence}) par {name} dans #{channel}{late}",
    },
    "demo_deadlines": {
        "en": "target {target} · limit {limit}",
        "fr": "objectif {target} · limite {limit}",
    },
    "demo_suggested": {
        "en": "suggested reply ({source}):",
        "fr": "réponse suggérée ({source}) :",
    },
    "demo_signature": {"en": "(moderator)", "fr": "(modérateur)"},
    "demo_nothing_sent": {
        "en": "Nothing was sent: every reply waits for a moderator. "
        "Try it yourself with `huitaine console`.",
        "fr": "Rien n'a été envoyé : chaque réponse attend un modérateur. "
        "Essayez vous-même avec `huitaine console`.",
    },
    "demo_kept": {
        "en": "The database is kept in {path}.",
        "fr": "La base de données est conservée dans {path}.",
    },
    "demo_temporary": {
        "en": "The database was temporary (deleted now); keep one with --db FILE.",
        "fr": "La base de données était temporaire (supprimée) ; gardez-la avec --db FICHIER.",
    },
}


class Catalog:
    """A table of texts per key and language; English stands in for a missing language."""

    def __init__(self, texts: dict[str, dict[str, str]]) -> None:
        """Wrap `texts` ({key: {language: text}}); every key must have English."""
        missing = [key for key, variants in texts.items() if "en" not in variants]
        if missing:
            raise ValueError(f"texts without English: {missing}")
        self.texts = texts

    def __call__(self, key: str, language: str, **values: Any) -> str:
        """The text `key` in `language`, with `values` filled in."""
        variants = self.texts[key]
        text = variants.get(language, variants["en"])
        return text.format(**values) if values else text


t = Catalog(_TEXTS)


def human_duration(seconds: float, language: str) -> str:
    """'3 d 4 h', '2 h 5 min' or '12 min', short and the same in both languages but for 'j'."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    day = "j" if language == "fr" else "d"
    if days:
        return f"{days} {day} {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def format_time(when: datetime, tz: tzinfo) -> str:
    """A time as the community reads it: local date, hour and zone."""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
