"""The contract between the core and an adapter, as a test driver every platform implements.

The contract suite (test_contract.py) speaks only this protocol: a member talks, a moderator or
a member presses what a card offers, and the test reads what people see on the platform (the
replies posted in the community, the cards and notices in the moderators' place). A new adapter
is done when a driver for it passes the suite; a driver reuses the adapter's own test fakes and
never calls the core to do what a person would do on the platform.

To put a new adapter under the contract: write a class with these methods over the adapter's
own fakes (see console_driver.py, the smallest), add its name to PLATFORMS and its start-up to
the `platform` fixture in conftest.py, and run test_contract.py. Where the platform really
cannot do something, raise NotImplementedError in the driver and list the test in GAPS (a
strict xfail, so the entry must go when the adapter learns it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.models import Case, DismissReason, Feedback, Outgoing


class CardAction(enum.StrEnum):
    """What a card can offer a moderator (a button, or a command naming the case)."""

    APPROVE = "approve"  # send the first suggestion as it stands
    EDIT = "edit"  # write another text, then send it
    DISMISS = "dismiss"  # not something to answer (with a reason)
    SNOOZE = "snooze"  # hold the reminders for a while
    MINE = "mine"  # take the case
    CONFIRM_POSTED = "confirm_posted"  # a reply in doubt: "it was posted"
    SEND_AGAIN = "send_again"  # a reply in doubt: "send again"
    CONFIRM_HELPER = "confirm_helper"  # a helper answered: "the community's answer is good"
    TAKE_OVER = "take_over"  # a helper answered: a moderator takes the case back


class Who(enum.StrEnum):
    """Who presses: someone the platform says may moderate, or an ordinary member."""

    MODERATOR = "moderator"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class MsgRef:
    """A member's message as the platform names it (the id a threaded reply points to)."""

    id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A message the bot posted in the community: its text and the message it replies to."""

    text: str
    reply_to: str | None


@dataclass(frozen=True, slots=True)
class CardShown:
    """A case's card as the moderators see it now.

    `actions` is None on a platform that draws no buttons (the console: every action is a
    typed command); otherwise it is exactly what the card offers. `ref` names the card's
    message where the platform has one, so a test can tell "edited in place" from "posted
    again". `snoozed` is the driver's reading of the card: it tells that reminders are held.
    """

    ref: str | None
    text: str
    actions: frozenset[CardAction] | None
    snoozed: bool


class PlatformDriver(Protocol):
    """One platform, driven as its people would use it. Every method waits until the bot
    has finished handling what it did, so the next line of a test sees the outcome."""

    name: str

    async def member_says(self, text: str) -> MsgRef:
        """A member posts `text` where the bot listens; return the message."""
        ...

    async def member_says_elsewhere(self, text: str) -> MsgRef:
        """A member posts `text` in the bot's second community (its world's other group)."""
        ...

    async def member_edits(self, ref: MsgRef, text: str) -> None:
        """The member edits their message to `text`."""
        ...

    async def member_deletes(self, ref: MsgRef) -> None:
        """The member deletes their message."""
        ...

    async def press(
        self,
        who: Who,
        action: CardAction,
        case_id: int,
        *,
        reason: DismissReason | None = None,
    ) -> str:
        """`who` takes `action` on the case's card; return what the presser was told.

        The action must be one the card offers (a driver fails the test otherwise). DISMISS
        goes through the reason the platform asks for (`reason`, "not a request" by default).
        """
        ...

    async def member_presses(self, feedback: Feedback, case_id: int, *, asker: bool) -> str:
        """A member presses "solved" / "still need help" under the case's approved reply:
        the member who asked (`asker`), or another member; return what they were told."""
        ...

    async def helper_answers(self, ref: MsgRef, text: str) -> None:
        """A configured helper (a volunteer, not staff) replies to the member's message."""
        ...

    async def edit_and_send(self, case_id: int, text: str) -> None:
        """A moderator replaces the suggestion with `text` and sends it."""
        ...

    def replies(self) -> list[Reply]:
        """Every message the bot posted in the community, oldest first."""
        ...

    async def card(self, case_id: int) -> CardShown:
        """The case's card in the moderators' place (it must exist)."""
        ...

    def moderator_place_texts(self) -> list[str]:
        """Everything the moderators' place shows now (cards, notices, digests), oldest first."""
        ...

    async def restart(self) -> None:
        """Stop the bot and start a new process on the same database."""
        ...

    async def tick(self, advance: timedelta) -> None:
        """Move the injected clock by `advance`, then run the scheduler once, as the bot does."""
        ...

    async def crash_after_approve(self, case_id: int) -> None:
        """A moderator's approval is recorded (the reply is *sending*) and the process dies
        before posting it; the bot is then started again."""
        ...

    # What the core recorded; read-only, for checks a person could make in the audit log.
    async def cases(self) -> list[Case]:
        """Every case the core holds."""
        ...

    async def case(self, case_id: int) -> Case:
        """The case as the core holds it."""
        ...

    async def audit(self, case_id: int) -> list[dict[str, Any]]:
        """The case's audit log, oldest first."""
        ...

    async def outbox(self) -> list[Outgoing]:
        """Every approved reply and where it stands."""
        ...
