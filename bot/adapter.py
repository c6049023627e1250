"""The one contract between the core and every platform adapter (console, Telegram, Discord).

An adapter translates and nothing more: inbound, platform events become `Message`s and presses
become core calls; outbound, the runtime asks it to draw a card, post a notice, a digest or an
approved reply. opsdroid's four verbs (connect, listen, send, disconnect) plus the outbound calls
the core makes; a new platform is done when it implements this and passes tests/contract.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.cardview import CardView
from bot.errors import HuitaineError, UserError
from bot.models import Case, Notice, Outgoing


class SendFailed(HuitaineError):
    """The platform refused the reply outright: nothing was posted, it may be approved again."""


class PlatformSetupError(UserError, RuntimeError):
    """A platform cannot be used as configured; the message says what to change."""


@runtime_checkable
class Adapter(Protocol):
    """A platform, as the runtime drives it."""

    name: str  # the platform's name in messages, cases and ids ("telegram", "discord", …)

    async def connect(self) -> None:
        """Check the credentials and get ready; PlatformSetupError with the fix if impossible."""
        ...

    async def listen(self) -> None:
        """Receive events until `disconnect`; return (or raise) only when the platform is gone."""
        ...

    async def disconnect(self) -> None:
        """Stop receiving, finish what is in hand, close connections."""
        ...

    async def send_reply(self, item: Outgoing) -> str:
        """Post an approved reply once, as a reply to the member; return its platform id.

        Raise SendFailed when the platform surely did not post it; any other exception means
        "maybe posted", and the reply waits for a moderator to confirm it.
        """
        ...

    async def show_case(self, view: CardView) -> None:
        """Post or update the case's review card in the moderators' place.

        `view` is what the core says the card shows and allows now (`core.card`), read once by
        the runtime: an adapter draws it and reads the case no more.
        """
        ...

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation to the moderators."""
        ...

    async def post_digest(self, text: str, *, community: str) -> None:
        """Post one community's weekly digest to that community's moderators' place."""
        ...
