"""What the Telegram adapter says to moderators, in French and English."""

from __future__ import annotations

from bot.i18n import Catalog

_TEXTS: dict[str, dict[str, str]] = {
    # Buttons: short, so that three fit on a phone's width.
    "btn_send": {"en": "✅ Send", "fr": "✅ Envoyer"},
    "btn_edit": {"en": "✏️ Edit", "fr": "✏️ Modifier"},
    "btn_dismiss": {"en": "🗑 Dismiss", "fr": "🗑 Écarter"},
    "btn_snooze": {"en": "💤 Snooze", "fr": "💤 Plus tard"},
    "btn_mine": {"en": "✋ Mine", "fr": "✋ Pour moi"},
    "btn_back": {"en": "↩️ Back", "fr": "↩️ Retour"},
    "btn_final": {"en": "✅ Send this text", "fr": "✅ Envoyer ce texte"},
    "btn_cancel": {"en": "✖️ Cancel", "fr": "✖️ Annuler"},
    "btn_confirm": {"en": "👀 It is posted", "fr": "👀 Il est bien parti"},
    "btn_resend": {"en": "🔁 Send again", "fr": "🔁 Renvoyer"},
    "btn_confirm_helper": {
        "en": "🤝 Confirm the helper's answer",
        "fr": "🤝 Confirmer la réponse du membre",
    },
    "btn_take_over": {"en": "✋ Take over", "fr": "✋ Reprendre"},
    "reason_not_a_request": {"en": "Not a request", "fr": "Pas une demande"},
    "reason_spam": {"en": "Spam", "fr": "Spam"},
    "reason_duplicate": {"en": "Duplicate", "fr": "Doublon"},
    "reason_handled_elsewhere": {"en": "Handled elsewhere", "fr": "Traité ailleurs"},
    "reason_other": {"en": "Other", "fr": "Autre"},
    # The review card.
    "card_title": {"en": "Case #{case}", "fr": "Cas n°{case}"},
    "card_who": {"en": "👤 {member} · {place}", "fr": "👤 {member} · {place}"},
    "card_deadlines": {
        "en": "⏳ Target {target} · limit {limit}",
        "fr": "⏳ Objectif {target} · limite {limit}",
    },
    "card_suggestion": {"en": "💬 Suggested reply:", "fr": "💬 Réponse proposée :"},
    "card_no_suggestion": {
        "en": "💬 No suggested reply: write one with ✏️ Edit.",
        "fr": "💬 Aucune réponse proposée : rédigez-la avec ✏️ Modifier.",
    },
    "card_answered": {
        "en": "✅ Answered by {who} at {when} (first response after {delay})",
        "fr": "✅ Répondu par {who} le {when} (première réponse en {delay})",
    },
    "card_dismissed": {"en": "🗑 Dismissed", "fr": "🗑 Écarté"},
    "card_withdrawn": {"en": "↩️ Withdrawn by the member", "fr": "↩️ Retiré par le membre"},
    "card_resolved": {"en": "☑️ Resolved", "fr": "☑️ Résolu"},
    "card_by_community": {
        "en": "🤝 Answered by the community ({who}): confirm the answer, or take the case over.",
        "fr": "🤝 Répondu par la communauté ({who}) : confirmez la réponse, ou reprenez le cas.",
    },
    "card_helper_confirmed": {
        "en": "🤝 The community's answer is confirmed.",
        "fr": "🤝 La réponse de la communauté est confirmée.",
    },
    "card_assigned": {"en": "✋ Assigned to {who}", "fr": "✋ Pris en charge par {who}"},
    "card_snoozed": {
        "en": "💤 Reminders snoozed until {when}",
        "fr": "💤 Rappels suspendus jusqu'au {when}",
    },
    "card_unconfirmed": {
        "en": "⚠️ Send uncertain (reply #{reply} by {who}): check the chat, then confirm it "
        "or send it again.",
        "fr": "⚠️ Envoi incertain (réponse n°{reply} de {who}) : vérifiez la discussion, puis "
        "confirmez-le ou renvoyez-le.",
    },
    "card_failed": {
        "en": "❌ Telegram refused reply #{reply}: nothing was posted; it can be sent again.",
        "fr": "❌ Telegram a refusé la réponse n°{reply} : rien n'est parti ; renvoyez-la.",
    },
    "private_chat": {"en": "private message", "fr": "message privé"},
    "topic": {"en": "topic {topic}", "fr": "sujet {topic}"},
    "your_name": {"en": "[your name]", "fr": "[votre nom]"},
    "truncated": {"en": "[…cut, see /case {case}]", "fr": "[…coupé, voir /case {case}]"},
    # Answers to button presses (at most 200 characters: the Bot API's limit).
    "stale": {"en": "This button is no longer valid.", "fr": "Ce bouton n'est plus valable."},
    "not_allowed": {
        "en": "Only moderators can do this.",
        "fr": "Seuls les modérateurs peuvent faire cela.",
    },
    "not_done": {"en": "Not done: {why}", "fr": "Impossible : {why}"},
    "sending": {"en": "Sending…", "fr": "Envoi en cours…"},
    "edit_asked": {
        "en": "Reply to the ✏️ message with the new text.",
        "fr": "Répondez au message ✏️ avec le nouveau texte.",
    },
    "choose_reason": {"en": "Why dismiss it?", "fr": "Pourquoi l'écarter ?"},
    "dismissed": {"en": "Case dismissed.", "fr": "Cas écarté."},
    "snoozed": {"en": "Snoozed until {when}.", "fr": "Suspendu jusqu'au {when}."},
    "assigned": {"en": "The case is yours.", "fr": "Le cas est pour vous."},
    "confirmed": {"en": "Recorded as sent.", "fr": "Envoi enregistré."},
    "helper_confirmed": {
        "en": "The community's answer is confirmed.",
        "fr": "La réponse de la communauté est confirmée.",
    },
    "taken_over": {
        "en": "The case is yours again: it waits for your reply.",
        "fr": "Le cas vous revient : il attend votre réponse.",
    },
    "cancelled": {"en": "Draft dropped.", "fr": "Brouillon abandonné."},
    "ok": {"en": "OK", "fr": "OK"},
    "error": {
        "en": "Something went wrong; try again.",
        "fr": "Une erreur est survenue ; réessayez.",
    },
    # The edit flow.
    "edit_prompt": {
        "en": "✏️ #{case} · {name}: reply to this message with the new text for {member}. "
        "Current suggestion:",
        "fr": "✏️ #{case} · {name} : répondez à ce message avec le nouveau texte pour {member}. "
        "Proposition actuelle :",
    },
    "edit_placeholder": {"en": "New reply text", "fr": "Nouveau texte de la réponse"},
    # Commands.
    "cases_title": {
        "en": "📋 {count} waiting, soonest target first:",
        "fr": "📋 {count} en attente, objectif le plus proche d'abord :",
    },
    "cases_none": {
        "en": "📋 Nobody is waiting for an answer.",
        "fr": "📋 Personne n'attend de réponse.",
    },
    "case_line": {
        "en": "#{case} · {kind} · {member} · target {target}{flag}\n   “{excerpt}”",
        "fr": "#{case} · {kind} · {member} · objectif {target}{flag}\n   « {excerpt} »",
    },
    "case_usage": {
        "en": "Write /case and a number, e.g. /case 12.",
        "fr": "Écrivez /case et un numéro, par ex. /case 12.",
    },
    "case_unknown": {"en": "There is no case #{case}.", "fr": "Il n'y a pas de cas n°{case}."},
    # Telegram Business: customers' private chats with a business account.
    "business_place": {"en": "💼 {business}", "fr": "💼 {business}"},
    "business_ended": {
        "en": "🔌 {business} disconnected the bot: replies cannot be sent from here. Answer "
        "from the Telegram app, or connect the bot again (Settings → Telegram Business → "
        "Chatbots).",
        "fr": "🔌 {business} a déconnecté le bot : aucune réponse ne peut partir d'ici. "
        "Répondez depuis l'application Telegram, ou reconnectez le bot (Réglages → Telegram "
        "Business → Chatbots).",
    },
    "business_no_reply": {
        "en": "🔒 {business} took away the bot's right to reply: replies cannot be sent from "
        "here. Answer from the Telegram app, or allow the bot to reply again (Settings → "
        "Telegram Business → Chatbots).",
        "fr": "🔒 {business} a retiré au bot le droit de répondre : aucune réponse ne peut "
        "partir d'ici. Répondez depuis l'application Telegram, ou rendez-lui ce droit "
        "(Réglages → Telegram Business → Chatbots).",
    },
    "business_unknown": {
        "en": "🔌 The business account of this chat is not connected to the bot: replies "
        "cannot be sent from here.",
        "fr": "🔌 Le compte professionnel de cette discussion n'est pas connecté au bot : "
        "aucune réponse ne peut partir d'ici.",
    },
    "business_connected": {
        "en": "💼 {business} is connected: questions and complaints from your customers' "
        "chats will appear here for your approval. Nothing is sent without you.",
        "fr": "💼 {business} est connecté : les questions et réclamations de vos clients "
        "apparaîtront ici pour validation. Rien ne part sans vous.",
    },
    "business_read_only": {
        "en": "💼 {business} is connected without the right to reply: cards will appear "
        "here, but replies must be sent from the Telegram app until you allow the bot to "
        "reply (Settings → Telegram Business → Chatbots).",
        "fr": "💼 {business} est connecté sans le droit de répondre : les fiches "
        "apparaîtront ici, mais les réponses devront partir de l'application Telegram tant "
        "que le bot n'a pas ce droit (Réglages → Telegram Business → Chatbots).",
    },
}

# tr(key, language, **values): English stands in for a missing language.
tr = Catalog(_TEXTS)
