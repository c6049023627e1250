"""Callback data of the review buttons: a compact, versioned codec that refuses anything odd.

Anyone can send any callback data for a message that carries an inline keyboard (a modified
client is enough), so what comes back is parsed strictly here and then checked against the
database: the data names a case, and the pressed message must be that case's card.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.texts import tr
from bot.cardview import MEMBER_LABELS, CardAction, HelperAction, MemberAction, member_text
from bot.models import DismissReason

_LOGGER = logging.getLogger(__name__)

VERSION = "h1"
MAX_BYTES = 64  # the Bot API's limit on callback_data
MAX_CASE_ID = 10**15 - 1


class Act(enum.StrEnum):
    """What a button asks for; the values are what travels in the callback data."""

    SEND = "send"  # approve the first suggestion and send it
    EDIT = "edit"  # ask the moderator for a new text
    DISMISS = "dis"  # show the reasons to dismiss
    REASON = "why"  # dismiss with the reason in `arg`
    BACK = "back"  # back from the reasons to the card's buttons
    SNOOZE = "snz"
    MINE = "mine"
    FINAL = "final"  # send the edited draft the button is attached to
    CANCEL = "drop"  # drop that draft
    CONFIRM = "ok"  # an uncertain send was seen in the group: record it as sent
    RESEND = "again"  # an uncertain send is not in the group: send it again
    SOLVED = "solv"  # under a reply, the member who asked: solved
    HELP = "help"  # under a reply, the member who asked: still need help
    HELPER_OK = "hok"  # a helper answered: a moderator confirms the community's answer
    TAKE_OVER = "take"  # a helper answered: a moderator takes the case back


REASONS: dict[str, DismissReason] = {
    "nr": DismissReason.NOT_A_REQUEST,
    "sp": DismissReason.SPAM,
    "du": DismissReason.DUPLICATE,
    "he": DismissReason.HANDLED_ELSEWHERE,
    "ot": DismissReason.OTHER,
}
_CODES = {reason: code for code, reason in REASONS.items()}
_PATTERN = re.compile(
    rf"{VERSION}:(?P<act>[a-z]{{2,5}}):(?P<case>[1-9][0-9]{{0,14}})(?::(?P<arg>[a-z]{{2}}))?"
)


class BadCallback(ValueError):
    """Callback data that Huitaine did not write, or wrote in another version."""


@dataclass(frozen=True, slots=True)
class Callback:
    """One decoded button press."""

    action: Act
    case_id: int
    arg: str | None = None

    @property
    def reason(self) -> DismissReason:
        """The dismiss reason of a REASON press."""
        if self.arg is None:
            raise BadCallback("no reason")
        return REASONS[self.arg]


def encode(callback: Callback) -> str:
    """The callback data for `callback`; never longer than 64 bytes."""
    if not 0 < callback.case_id <= MAX_CASE_ID:
        raise ValueError(f"case id {callback.case_id} out of range")
    if (callback.action is Act.REASON) != (callback.arg is not None):
        raise ValueError("only a dismiss reason carries an argument")
    if callback.arg is not None and callback.arg not in REASONS:
        raise ValueError(f"unknown reason code {callback.arg!r}")
    data = f"{VERSION}:{callback.action.value}:{callback.case_id}"
    if callback.arg is not None:
        data += f":{callback.arg}"
    assert len(data.encode()) <= MAX_BYTES
    return data


def decode(data: object) -> Callback:
    """Parse callback data; raise BadCallback (with a reason fit for a log line) if forged."""
    if not isinstance(data, str):
        raise BadCallback(f"not text: {type(data).__name__}")
    if len(data.encode("utf-8", "replace")) > MAX_BYTES:
        raise BadCallback("longer than 64 bytes")
    if not data.startswith(f"{VERSION}:"):
        raise BadCallback(f"unknown version in {data[:16]!r}")
    # fullmatch, not match with "$": "$" would let a trailing newline through.
    match = _PATTERN.fullmatch(data)
    if match is None:
        raise BadCallback(f"malformed {data!r}")
    try:
        action = Act(match["act"])
    except ValueError:
        raise BadCallback(f"unknown action {match['act']!r}") from None
    arg = match["arg"]
    if (action is Act.REASON) != (arg is not None):
        raise BadCallback(f"argument mismatch in {data!r}")
    if arg is not None and arg not in REASONS:
        raise BadCallback(f"unknown reason {arg!r}")
    return Callback(action, int(match["case"]), arg)


def reason_code(reason: DismissReason) -> str:
    """The two-letter code of a dismiss reason."""
    return _CODES[reason]


def _button(label: str, action: Act, case_id: int, arg: str | None = None) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=encode(Callback(action, case_id, arg)))


_ACTS: dict[CardAction, tuple[Act, str]] = {
    CardAction.SEND: (Act.SEND, "btn_send"),
    CardAction.EDIT: (Act.EDIT, "btn_edit"),
    CardAction.DISMISS: (Act.DISMISS, "btn_dismiss"),
    CardAction.SNOOZE: (Act.SNOOZE, "btn_snooze"),
    CardAction.MINE: (Act.MINE, "btn_mine"),
    CardAction.CONFIRM: (Act.CONFIRM, "btn_confirm"),
    CardAction.RESEND: (Act.RESEND, "btn_resend"),
}
# Rows of a phone-sized keyboard: the reply first, then the rest of the decisions.
_ROWS = (
    (CardAction.CONFIRM, CardAction.RESEND),
    (CardAction.SEND, CardAction.EDIT),
    (CardAction.DISMISS, CardAction.SNOOZE, CardAction.MINE),
)


# A case a helper answered: confirm the community's answer, or take the case back.
HELPER_ACTS: dict[HelperAction, tuple[Act, str]] = {
    HelperAction.CONFIRM_HELPER: (Act.HELPER_OK, "btn_confirm_helper"),
    HelperAction.TAKE_OVER: (Act.TAKE_OVER, "btn_take_over"),
}


def case_keyboard(
    case_id: int,
    language: str,
    actions: Sequence[CardAction],
    helper_actions: Sequence[HelperAction] = (),
) -> InlineKeyboardMarkup | None:
    """Buttons for the actions the core allows now; none once nothing is left to decide."""
    rows = [
        [
            _button(tr(_ACTS[action][1], language), _ACTS[action][0], case_id)
            for action in row
            if action in actions
        ]
        for row in _ROWS
    ]
    rows.insert(
        0,
        [
            _button(tr(label, language), act, case_id)
            for action, (act, label) in HELPER_ACTS.items()
            if action in helper_actions
        ],
    )
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def reasons_keyboard(case_id: int, language: str) -> InlineKeyboardMarkup:
    """Why dismiss: one button per reason, and a way back."""
    rows = [
        [_button(tr(f"reason_{reason.value}", language), Act.REASON, case_id, code)]
        for code, reason in REASONS.items()
    ]
    rows.append([_button(tr("btn_back", language), Act.BACK, case_id)])
    return InlineKeyboardMarkup(rows)


def draft_keyboard(case_id: int, language: str) -> InlineKeyboardMarkup:
    """Under an edited draft: send it, or drop it."""
    return InlineKeyboardMarkup(
        [
            [
                _button(tr("btn_final", language), Act.FINAL, case_id),
                _button(tr("btn_cancel", language), Act.CANCEL, case_id),
            ]
        ]
    )


# The member's buttons under an approved reply, and what each tells the core.
MEMBER_ACTS: dict[Act, MemberAction] = {
    Act.SOLVED: MemberAction.SOLVED,
    Act.HELP: MemberAction.STILL_NEED_HELP,
}


def feedback_keyboard(case_id: int, language: str) -> InlineKeyboardMarkup:
    """Under an approved reply: "solved" / "still need help" (only the asker's press counts)."""
    return InlineKeyboardMarkup(
        [
            [
                _button(member_text(MEMBER_LABELS, action, language), act, case_id)
                for act, action in MEMBER_ACTS.items()
            ]
        ]
    )
