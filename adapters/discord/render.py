"""The review card of a case: a discord.py Embed and the buttons it carries (no network)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from adapters.discord import ids
from adapters.discord.convert import jump_url
from adapters.discord.sdk import discord
from adapters.discord.texts import timestamp, tr
from bot.cardview import CardAction, CardView, HelperAction
from bot.i18n import t
from bot.models import Case, CaseState, DismissReason, Kind, SendState
from bot.suggest import sign

_LOGGER = logging.getLogger(__name__)

_ICONS = {Kind.QUESTION: "❓", Kind.COMPLAINT: "😠", Kind.OTHER: "💬"}
_COLOURS = {
    "waiting_question": 0x3B82F6,
    "waiting_complaint": 0xF59E0B,
    "late": 0xEF4444,
    "answered": 0x22C55E,
    "closed": 0x6B7280,
}
# Embed limits are 4096 for the description and 1024 per field; keep cards readable too.
_SUGGESTION_CHARS = 1500
_EXCERPT_CHARS = 600


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """One button on a card, before it becomes a discord.py DynamicItem."""

    custom_id: str
    label: str
    style: discord.ButtonStyle
    row: int = 0
    disabled: bool = False


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _colour(case: Case, now: datetime) -> int:
    if case.state is CaseState.ANSWERED or case.state is CaseState.RESOLVED:
        return _COLOURS["answered"]
    if not case.state.waiting:
        return _COLOURS["closed"]
    if case.late(now):
        return _COLOURS["late"]
    return _COLOURS["waiting_complaint" if case.kind is Kind.COMPLAINT else "waiting_question"]


def state_label(case: Case, now: datetime, language: str) -> str:
    """The state as moderators read it, flagging cases past their target or their week."""
    label = t(case.state.value, language)
    if case.overdue(now):
        return f"{label} · {t('overdue', language)}"
    if case.late(now):
        return f"{label} · {t('late', language)}"
    return label


def case_embed(view: CardView, *, language: str, now: datetime) -> discord.Embed:
    """The card: who, where (with a jump link), what, how sure, the deadlines, the draft."""
    case = view.case
    pending = view.in_flight or view.in_doubt
    link = (
        jump_url(case.community, case.channel, case.message_ids[0]) if case.message_ids else None
    )
    kind = t(case.kind.value, language) if case.kind is not Kind.OTHER else case.kind.value
    title = tr(
        "card_title",
        language,
        icon=_ICONS.get(case.kind, "💬"),
        kind=kind.capitalize(),
        case=case.id,
        state=state_label(case, now, language),
    )
    quote = "\n".join(f"> {line}" for line in _cut(case.excerpt, _EXCERPT_CHARS).splitlines())
    description = quote + (f"\n[{tr('jump', language)}]({link})" if link else "")
    if case.state.waiting:
        if case.suggestions:
            draft = sign(case.suggestions[0].text, tr("you", language))
            source = view.source_line(language) or case.suggestions[0].source
            description += (
                f"\n\n**{tr('suggestion', language)}** ({source})\n"
                f"{_cut(draft, _SUGGESTION_CHARS)}"
            )
        else:
            description += f"\n\n{tr('no_suggestion', language)}"
    embed = discord.Embed(
        title=_cut(title, 256),
        url=link,
        description=_cut(description, 4096),
        colour=_colour(case, now),
        timestamp=case.opened_at,
    )
    embed.set_author(name=_cut(case.author.name, 256))
    embed.add_field(name=tr("member", language), value=f"<@{case.author.id}>")
    embed.add_field(name=tr("channel", language), value=f"<#{case.channel}>")
    embed.add_field(name=tr("kind", language), value=kind)
    embed.add_field(name=tr("confidence", language), value=f"{case.confidence:.0%}")
    embed.add_field(name=tr("language", language), value=case.language)
    if case.state.waiting:
        embed.add_field(
            name=tr("target", language),
            value=f"{timestamp(case.target_at)} ({timestamp(case.target_at, 'f')})"
            + (f"\n{view.target_label}" if view.business_hours else ""),
        )
        embed.add_field(
            name=tr("limit", language),
            value=f"{timestamp(case.due_at)} ({timestamp(case.due_at, 'f')})",
        )
    if case.assignee:
        embed.add_field(name=tr("assignee", language), value=_cut(case.assignee, 1024))
    if case.state.waiting and case.snoozed_until is not None and case.snoozed_until > now:
        embed.add_field(name=tr("snoozed", language), value=timestamp(case.snoozed_until))
    if case.answered_by and case.first_response_at is not None:
        embed.add_field(
            name=tr("answered_by", language),
            value=f"{_cut(case.answered_by, 200)} · {timestamp(case.first_response_at)}",
        )
    if view.helper_actions:
        what = tr("by_community_what", language)
        embed.add_field(name=tr("by_community", language), value=what, inline=False)
    if pending is not None:
        key = "reply_sending" if pending.state is SendState.SENDING else "reply_unconfirmed"
        embed.add_field(name=tr("reply", language), value=tr(key, language), inline=False)
    embed.set_footer(text=tr("footer", language, case=case.id))
    return embed


_BUTTONS: dict[CardAction, tuple[ids.Action, str, discord.ButtonStyle]] = {
    CardAction.SEND: (ids.Action.SEND, "send", discord.ButtonStyle.success),
    CardAction.EDIT: (ids.Action.EDIT, "edit", discord.ButtonStyle.primary),
    CardAction.DISMISS: (ids.Action.DISMISS, "dismiss", discord.ButtonStyle.danger),
    CardAction.SNOOZE: (ids.Action.SNOOZE, "snooze", discord.ButtonStyle.secondary),
    CardAction.MINE: (ids.Action.MINE, "mine", discord.ButtonStyle.secondary),
    CardAction.CONFIRM: (ids.Action.CONFIRM, "confirm", discord.ButtonStyle.success),
    CardAction.RESEND: (ids.Action.RETRY, "retry", discord.ButtonStyle.danger),
}

# A helper answered ("answered by the community"): the moderator confirms or takes over.
_HELPER_BUTTONS: dict[HelperAction, tuple[ids.Action, str, discord.ButtonStyle]] = {
    HelperAction.CONFIRM_HELPER: (ids.Action.HELPER_OK, "helper_ok", discord.ButtonStyle.success),
    HelperAction.TAKE_OVER: (ids.Action.TAKE_OVER, "take_over", discord.ButtonStyle.secondary),
}


def case_buttons(view: CardView, *, language: str) -> list[ButtonSpec]:
    """The buttons for the actions the core allows now (a closed case offers none), then
    confirm / take over while a helper's answer awaits a moderator's word."""
    # The reply in doubt travels in the button, so the press names exactly that reply.
    arg = str(view.in_doubt.id) if view.in_doubt is not None else None
    buttons = []
    for action in view.actions:
        kind, label, style = _BUTTONS[action]
        reply = arg if action in (CardAction.CONFIRM, CardAction.RESEND) else None
        buttons.append(ButtonSpec(ids.make(kind, view.case.id, reply), tr(label, language), style))
    for helper in view.helper_actions:
        kind, label, style = _HELPER_BUTTONS[helper]
        buttons.append(ButtonSpec(ids.make(kind, view.case.id), tr(label, language), style))
    return buttons


def reason_buttons(case_id: int, *, language: str) -> list[ButtonSpec]:
    """One button per dismiss reason, for the ephemeral "why?" question."""
    return [
        ButtonSpec(
            ids.make(ids.Action.REASON, case_id, reason.value),
            tr(reason.value, language),
            discord.ButtonStyle.secondary,
        )
        for reason in DismissReason
    ]
