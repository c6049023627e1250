"""Moderator-facing texts of the Discord adapter, in French and English."""

from __future__ import annotations

from datetime import datetime

from bot.config import Config
from bot.i18n import Catalog

_TEXTS: dict[str, dict[str, str]] = {
    # The review card
    "card_title": {
        "en": "{icon} {kind} #{case} · {state}",
        "fr": "{icon} {kind} n°{case} · {state}",
    },
    "member": {"en": "Member", "fr": "Membre"},
    "channel": {"en": "Channel", "fr": "Salon"},
    "kind": {"en": "Kind", "fr": "Type"},
    "confidence": {"en": "Confidence", "fr": "Confiance"},
    "language": {"en": "Language", "fr": "Langue"},
    "target": {"en": "Target", "fr": "Objectif"},
    "limit": {"en": "One-week limit", "fr": "Limite d'une semaine"},
    "assignee": {"en": "Assigned to", "fr": "Pris en charge par"},
    "snoozed": {"en": "Reminders paused until", "fr": "Rappels en pause jusqu'à"},
    "answered_by": {"en": "Answered by", "fr": "Répondu par"},
    "reply": {"en": "Reply", "fr": "Réponse"},
    "by_community": {"en": "Answered by the community", "fr": "Répondu par la communauté"},
    "by_community_what": {
        "en": "A helper answered: confirm their answer, or take the case over.",
        "fr": "Un membre aidant a répondu : confirmez sa réponse, ou reprenez le cas.",
    },
    "reply_sending": {"en": "being sent", "fr": "en cours d'envoi"},
    "reply_unconfirmed": {
        "en": "not confirmed by Discord: check the channel, then confirm or send again",
        "fr": "non confirmée par Discord : vérifiez le salon, puis confirmez ou renvoyez",
    },
    "suggestion": {"en": "Suggested reply", "fr": "Réponse suggérée"},
    "no_suggestion": {
        "en": "No suggestion: press Edit to write the reply.",
        "fr": "Pas de suggestion : appuyez sur Modifier pour écrire la réponse.",
    },
    "you": {"en": "[your name]", "fr": "[votre nom]"},
    "jump": {"en": "Go to the message", "fr": "Voir le message"},
    "footer": {"en": "Huitaine · case #{case}", "fr": "Huitaine · cas n°{case}"},
    # Buttons
    "send": {"en": "Send", "fr": "Envoyer"},
    "edit": {"en": "Edit", "fr": "Modifier"},
    "dismiss": {"en": "Dismiss", "fr": "Écarter"},
    "snooze": {"en": "Snooze", "fr": "Reporter"},
    "mine": {"en": "Mine", "fr": "Je m'en occupe"},
    "confirm": {"en": "It was posted", "fr": "Elle est publiée"},
    "retry": {"en": "Send again", "fr": "Renvoyer"},
    "helper_ok": {"en": "Confirm the helper's answer", "fr": "Confirmer la réponse de l'aidant"},
    "take_over": {"en": "Take over", "fr": "Reprendre le cas"},
    "not_a_request": {"en": "Not a request", "fr": "Pas une demande"},
    "spam": {"en": "Spam", "fr": "Spam"},
    "duplicate": {"en": "Duplicate", "fr": "Doublon"},
    "handled_elsewhere": {"en": "Handled elsewhere", "fr": "Traité ailleurs"},
    "other": {"en": "Other", "fr": "Autre"},
    # Answers to moderators (ephemeral)
    "not_staff": {
        "en": "Only moderators can act on cases. Nothing was changed.",
        "fr": "Seuls les modérateurs peuvent agir sur les cas. Rien n'a été modifié.",
    },
    "no_case": {
        "en": "Case #{case} does not exist. Nothing was changed.",
        "fr": "Le cas n°{case} n'existe pas. Rien n'a été modifié.",
    },
    "invalid": {
        "en": "This button is not one Huitaine understands. Nothing was changed.",
        "fr": "Huitaine ne reconnaît pas ce bouton. Rien n'a été modifié.",
    },
    "wrong_guild": {
        "en": "Huitaine does not work in this server.",
        "fr": "Huitaine n'est pas actif sur ce serveur.",
    },
    "refused": {
        "en": "Refused: {reason}. Nothing was changed.",
        "fr": "Refusé : {reason}. Rien n'a été modifié.",
    },
    "case_is": {"en": "case {case} is {state}", "fr": "le cas n°{case} est {state}"},
    "error": {
        "en": "Something went wrong; the card shows where the case stands. Try again.",
        "fr": "Un problème est survenu ; la fiche montre où en est le cas. Réessayez.",
    },
    "sent": {"en": "✅ Reply posted: {link}", "fr": "✅ Réponse publiée : {link}"},
    "send_failed": {
        "en": "❌ Discord refused the reply; nothing was posted. You can send it again.",
        "fr": "❌ Discord a refusé la réponse ; rien n'a été publié. Vous pouvez la renvoyer.",
    },
    "unconfirmed": {
        "en": "⚠️ Discord did not confirm the reply. Check <#{channel}>, then press "
        "“It was posted” or “Send again” on the card.",
        "fr": "⚠️ Discord n'a pas confirmé la réponse. Vérifiez <#{channel}>, puis appuyez sur "
        "« Elle est publiée » ou « Renvoyer » sur la fiche.",
    },
    "why_dismiss": {
        "en": "Why dismiss case #{case}?",
        "fr": "Pourquoi écarter le cas n°{case} ?",
    },
    "dismissed": {
        "en": "Case #{case} dismissed ({reason}).",
        "fr": "Cas n°{case} écarté ({reason}).",
    },
    "snoozed_ok": {
        "en": "Case #{case}: reminders paused until {when}.",
        "fr": "Cas n°{case} : rappels en pause jusqu'à {when}.",
    },
    "assigned": {"en": "Case #{case} is yours.", "fr": "Le cas n°{case} est pour vous."},
    "confirmed": {
        "en": "Case #{case}: reply recorded as posted.",
        "fr": "Cas n°{case} : réponse enregistrée comme publiée.",
    },
    "helper_confirmed": {
        "en": "Case #{case}: the helper's answer is confirmed.",
        "fr": "Cas n°{case} : la réponse de l'aidant est confirmée.",
    },
    "taken_over": {
        "en": "Case #{case} is yours again: it waits for your reply.",
        "fr": "Le cas n°{case} est à nouveau le vôtre : il attend votre réponse.",
    },
    "modal_title": {"en": "Reply to {member}", "fr": "Répondre à {member}"},
    "modal_label": {
        "en": "Your reply (sent as you see it)",
        "fr": "Votre réponse (envoyée telle quelle)",
    },
    # Notices, commands and digest
    "card_link": {"en": "Case card: {link}", "fr": "Fiche du cas : {link}"},
    "digest_title": {"en": "📊 Weekly digest", "fr": "📊 Bilan de la semaine"},
    "nobody": {"en": "Nobody is waiting. 🎉", "fr": "Personne n'attend. 🎉"},
    "waiting_title": {
        "en": "Waiting for an answer ({count})",
        "fr": "En attente de réponse ({count})",
    },
    "more": {"en": "…and {count} more.", "fr": "…et {count} de plus."},
    "cmd_cases": {
        "en": "Cases still waiting for an answer",
        "fr": "Cas qui attendent une réponse",
    },
    "cmd_case": {"en": "Show one case and its buttons", "fr": "Afficher un cas et ses boutons"},
    "cmd_case_id": {"en": "The case number", "fr": "Le numéro du cas"},
    "cmd_report": {
        "en": "Response times and the one-week rule",
        "fr": "Délais et règle de la semaine",
    },
}


tr = Catalog(_TEXTS)


def for_locale(key: str, locale: str) -> str | None:
    """The text `key` for a Discord client's locale ("fr", "en-US", "en-GB"...), or None when
    it is not written in that language (Discord then shows the registered default)."""
    return tr.texts[key].get(locale.partition("-")[0])


def timestamp(when: datetime, style: str = "R") -> str:
    """A Discord timestamp tag: each reader sees it in their own time zone and language."""
    return f"<t:{int(when.timestamp())}:{style}>"


def language_of(config: Config, community: str | None) -> str:
    """The language a community's moderators read: its `[communities."discord:id"]` language,
    else `[community]`'s; Huitaine's own texts are French or English."""
    if community is None:
        chosen = config.community.language
    else:
        chosen = config.for_community("discord", community).community.language
    return "fr" if chosen == "fr" else "en"
