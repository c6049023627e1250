"""The custom-id codec: which case and which action a button or a modal stands for.

A custom id is the only state a button carries, so buttons keep working after a restart: the case
lives in the database and its id travels in the button. Every id is parsed strictly; anything
else (a forged or outdated id) is refused, never guessed.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass

from bot.models import DismissReason

_LOGGER = logging.getLogger(__name__)

PREFIX = "huitaine"
VERSION = "v1"
MAX_CUSTOM_ID = 100  # Discord's limit for components and modals
# Case and reply ids are SQLite rowids: positive 64-bit integers, written without leading zeros.
_MAX_ROWID = 2**63 - 1
# What discord.py's DynamicItem matches: everything under our prefix, so that a malformed id
# still reaches the codec and gets an explicit refusal instead of a silent "interaction failed".
TEMPLATE = rf"{PREFIX}:(?P<body>[^\s]{{1,{MAX_CUSTOM_ID - len(PREFIX) - 1}}})"
_BODY = re.compile(
    rf"{VERSION}:(?P<action>[a-z]+):(?P<case>[1-9][0-9]{{0,18}})(?::(?P<arg>[a-z0-9_]+))?"
)


class Action(enum.StrEnum):
    """What pressing a Huitaine component asks for."""

    SEND = "send"  # approve the first suggestion as it stands
    EDIT = "edit"  # open the modal prefilled with the suggestion
    SUBMIT = "submit"  # the modal's own id: approve the edited text
    DISMISS = "dismiss"  # offer the reasons
    REASON = "reason"  # dismiss with the reason in `arg`
    SNOOZE = "snooze"
    MINE = "mine"
    CONFIRM = "confirm"  # an unconfirmed reply is on Discord after all (`arg`: reply id)
    RETRY = "retry"  # an unconfirmed reply is not on Discord: send it again (`arg`: reply id)
    SOLVED = "solved"  # under a reply, the member who asked: solved
    HELP = "help"  # under a reply, the member who asked: still need help
    HELPER_OK = "helperok"  # a helper answered: a moderator confirms that answer
    TAKE_OVER = "takeover"  # a helper answered: a moderator takes the case back


_REASONS = frozenset(reason.value for reason in DismissReason)
_NEEDS_REPLY_ID = frozenset({Action.CONFIRM, Action.RETRY})


class InvalidCustomId(ValueError):
    """A custom id that Huitaine did not produce (or no longer understands)."""


@dataclass(frozen=True, slots=True)
class CustomId:
    """A decoded custom id."""

    action: Action
    case_id: int
    arg: str | None = None

    def __post_init__(self) -> None:
        """Refuse combinations `decode` would refuse, so `encode` never writes a bad id."""
        _check(self.action, self.case_id, self.arg)

    @property
    def reason(self) -> DismissReason:
        """The dismiss reason of a REASON id."""
        if self.action is not Action.REASON or self.arg is None:
            raise InvalidCustomId(f"{self.action} carries no reason")
        return DismissReason(self.arg)

    @property
    def reply_id(self) -> int:
        """The outgoing reply of a CONFIRM or RETRY id."""
        if self.action not in _NEEDS_REPLY_ID or self.arg is None:
            raise InvalidCustomId(f"{self.action} carries no reply id")
        return int(self.arg)


def _check(action: Action, case_id: int, arg: str | None) -> None:
    if not 0 < case_id <= _MAX_ROWID:
        raise InvalidCustomId(f"case id {case_id} out of range")
    if action is Action.REASON:
        if arg not in _REASONS:
            raise InvalidCustomId(f"unknown dismiss reason {arg!r}")
    elif action in _NEEDS_REPLY_ID:
        if arg is None or not re.fullmatch(r"[1-9][0-9]{0,18}", arg) or int(arg) > _MAX_ROWID:
            raise InvalidCustomId(f"bad reply id {arg!r}")
    elif arg is not None:
        raise InvalidCustomId(f"{action} takes no argument")


def encode(custom_id: CustomId) -> str:
    """The custom id string for `custom_id` (at most 100 characters)."""
    parts = [PREFIX, VERSION, custom_id.action.value, str(custom_id.case_id)]
    if custom_id.arg is not None:
        parts.append(custom_id.arg)
    text = ":".join(parts)
    assert len(text) <= MAX_CUSTOM_ID  # longest possible: ~60 characters
    return text


def is_ours(text: str) -> bool:
    """True when `text` claims to be a Huitaine custom id (it may still be invalid)."""
    return text.startswith(f"{PREFIX}:")


def decode(text: str) -> CustomId:
    """Parse a custom id; InvalidCustomId for anything `encode` would not have produced."""
    if len(text) > MAX_CUSTOM_ID or not is_ours(text):
        raise InvalidCustomId("not a Huitaine custom id")
    match = _BODY.fullmatch(text[len(PREFIX) + 1 :])
    if match is None:
        raise InvalidCustomId("malformed Huitaine custom id")
    try:
        action = Action(match["action"])
    except ValueError:
        raise InvalidCustomId(f"unknown action {match['action']!r}") from None
    return CustomId(action, int(match["case"]), match["arg"])


def make(action: Action, case_id: int, arg: str | None = None) -> str:
    """Shorthand: encode `action` on `case_id`."""
    return encode(CustomId(action, case_id, arg))
