"""What a review card shows and which actions it allows now: decided once, drawn by every adapter.

Adapters used to decide their buttons themselves and drifted apart (one showed nothing while a
reply was being sent, the other showed Send; one counted a failed reply as pending, the other
not). The rule lives here; an adapter only draws `CardView.actions` in its own widgets.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

from bot.models import Case, Outgoing, SendState

if TYPE_CHECKING:
    from bot.retrieval_source import DraftSource


class CardAction(enum.StrEnum):
    """What a moderator may do from a card; every one is checked again by the core."""

    SEND = "send"  # approve the first suggestion and send it
    EDIT = "edit"  # write or correct the reply, then send it
    DISMISS = "dismiss"  # not a real request (with a reason)
    SNOOZE = "snooze"  # hold the reminders for a while
    MINE = "mine"  # assign the case to oneself
    CONFIRM = "confirm"  # a reply in doubt is on the platform: record it as sent
    RESEND = "resend"  # a reply in doubt is not on the platform: send it again


_DECIDE = (CardAction.EDIT, CardAction.DISMISS, CardAction.SNOOZE, CardAction.MINE)


class HelperAction(enum.StrEnum):
    """What a card offers on a case a helper answered ("answered by the community")."""

    CONFIRM_HELPER = "confirm_helper"  # the community's answer is good: answered for good
    TAKE_OVER = "take_over"  # a moderator takes the case back: it waits again, theirs


class MemberAction(enum.StrEnum):
    """The buttons under an approved reply, for the member who asked, and only them."""

    SOLVED = "solved"
    STILL_NEED_HELP = "still_need_help"


# What the member's buttons are labelled, in the reply's language.
MEMBER_LABELS = {
    MemberAction.SOLVED: {"en": "✅ Solved", "fr": "✅ Résolu"},
    MemberAction.STILL_NEED_HELP: {
        "en": "🙋 Still need help",
        "fr": "🙋 J'ai encore besoin d'aide",
    },
}
# What the member is told after pressing, in the reply's language.
MEMBER_THANKS = {
    MemberAction.SOLVED: {"en": "Thanks! Glad it helped.", "fr": "Merci ! Ravis d'avoir aidé."},
    MemberAction.STILL_NEED_HELP: {
        "en": "Thanks, the team will look at it again.",
        "fr": "Merci, l'équipe va s'en occuper à nouveau.",
    },
}


def member_text(table: dict[MemberAction, dict[str, str]], action: MemberAction, lang: str) -> str:
    """A member-facing text in `lang` (English when Huitaine does not speak it)."""
    return table[action].get(lang, table[action]["en"])


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything a card needs, read in one go on the core's thread."""

    case: Case
    in_flight: Outgoing | None = None  # being sent right now
    in_doubt: Outgoing | None = None  # may or may not be posted: a moderator must look
    failed: Outgoing | None = None  # the platform refused it: nothing was posted
    # The target as the community names it ("Monday 10:00 (business hours)"), and whether
    # business hours apply; "" where the caller did not work it out.
    target_label: str = ""
    business_hours: bool = False
    source: DraftSource | None = None  # where the first draft comes from

    def source_line(self, language: str, tz: tzinfo = UTC) -> str | None:
        """Where the first draft comes from, in `language`: one line every adapter can show."""
        return None if self.source is None else self.source.describe(language, tz)

    @property
    def actions(self) -> tuple[CardAction, ...]:
        """The actions the card offers now, in the order they are shown."""
        if not self.case.state.waiting:
            return ()
        if self.in_doubt is not None:
            return (CardAction.CONFIRM, CardAction.RESEND)
        if self.in_flight is not None:
            return ()  # nothing to press until the platform has answered
        send = (CardAction.SEND,) if self.case.suggestions else ()
        return send + _DECIDE

    @property
    def helper_actions(self) -> tuple[HelperAction, ...]:
        """Confirm or take over, while a helper's answer awaits a moderator's word.

        Apart from `actions` so that an adapter that does not draw them yet is not surprised.
        """
        if self.case.answered_by_community:
            return (HelperAction.CONFIRM_HELPER, HelperAction.TAKE_OVER)
        return ()


def card_view(case: Case, replies: list[Outgoing]) -> CardView:
    """The view of `case` given its approved replies, oldest first."""

    def latest(state: SendState) -> Outgoing | None:
        return next((r for r in reversed(replies) if r.state is state), None)

    last = replies[-1] if replies else None
    return CardView(
        case,
        in_flight=latest(SendState.SENDING),
        in_doubt=latest(SendState.UNCONFIRMED),
        # Only the last attempt's refusal matters: an older one was approved again since.
        failed=last if last is not None and last.state is SendState.FAILED else None,
    )
