"""The review channel, outbound: cards posted or edited in place, notices and the digest.

Cards carry persistent buttons (`CaseButton`): the custom id is all the state a button needs,
so a press after a restart is routed like any other, to the client's `route_press`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import Any, Protocol, runtime_checkable

from adapters.discord import ids, render
from adapters.discord.convert import PLATFORM, jump_url, split_text
from adapters.discord.sdk import discord
from adapters.discord.settings import DiscordSettings
from adapters.discord.texts import language_of, timestamp, tr
from bot.cards import CardRef
from bot.cardview import MEMBER_LABELS, CardView, MemberAction, member_text
from bot.models import Case, Notice, NoticeKind
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
_CARD_LOCKS = 64  # striped locks: one card is never posted twice by concurrent refreshes


@runtime_checkable
class RoutesPresses(Protocol):
    """A client that hands Huitaine's button presses to the adapter."""

    async def route_press(
        self, interaction: discord.Interaction[discord.Client], raw_custom_id: str
    ) -> None:
        """Handle the press of the button whose custom id is `raw_custom_id`."""
        ...


class CaseButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ids.TEMPLATE):
    """Any Huitaine button: its custom id is all the state it needs, so it survives restarts."""

    def __init__(self, spec: render.ButtonSpec) -> None:
        """A button from its spec (or rebuilt from a pressed custom id)."""
        super().__init__(
            discord.ui.Button(
                label=spec.label,
                style=spec.style,
                custom_id=spec.custom_id,
                disabled=spec.disabled,
                row=spec.row,
            )
        )
        self.raw_custom_id = spec.custom_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CaseButton:
        """Rebuild the pressed button; decoding (and refusing) happens in `callback`."""
        return cls(render.ButtonSpec(match.string, "·", discord.ButtonStyle.secondary))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Hand the press to the adapter."""
        client = interaction.client
        if isinstance(client, RoutesPresses):
            await client.route_press(interaction, self.raw_custom_id)


def member_view(case_id: int, language: str) -> discord.ui.View:
    """Under an approved reply: "solved" / "still need help" (only the asker's press counts)."""
    return view_of(
        [
            render.ButtonSpec(
                ids.make(action, case_id),
                member_text(MEMBER_LABELS, member, language),
                style,
            )
            for action, member, style in (
                (ids.Action.SOLVED, MemberAction.SOLVED, discord.ButtonStyle.success),
                (ids.Action.HELP, MemberAction.STILL_NEED_HELP, discord.ButtonStyle.secondary),
            )
        ]
    )


def view_of(specs: list[render.ButtonSpec]) -> discord.ui.View:
    """A persistent view (no timeout) made of DynamicItem buttons."""
    view = discord.ui.View(timeout=None)
    for spec in specs:
        view.add_item(CaseButton(spec))
    return view


class Cards:
    """Draws what the core says of each case in the review channel, and posts notices there."""

    def __init__(
        self,
        runtime: Runtime,
        settings: DiscordSettings,
        client: discord.Client,
        *,
        language: str,
    ) -> None:
        """Post with `client` in `settings.review_channel`."""
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self.client = client
        self.language = language  # the default; each card speaks its own community's language
        self._card_locks = [asyncio.Lock() for _ in range(_CARD_LOCKS)]

    def review(self, community: str = "") -> discord.PartialMessageable:
        """The community's review channel (its `review_place`, else the default), no fetch."""
        return self.client.get_partial_messageable(
            self.place_of(community), type=discord.ChannelType.text
        )

    def place_of(self, community: str) -> int:
        """Where a community's cards, notices and digest go: its own review channel if set."""
        place = self.core.config.for_community(PLATFORM, community).community.review_place
        # Parsed as a channel id where it is read: the config is platform-neutral text.
        return int(place) if place.isdigit() else int(self.settings.review_channel)

    def language_of(self, community: str) -> str:
        """The language of a community's moderators ([communities."discord:id"] language)."""
        return language_of(self.core.config, community)

    def _review_guild(self, fallback: str) -> str:
        channel = self.client.get_channel(self.place_of(fallback))
        guild = getattr(channel, "guild", None)
        return str(guild.id) if guild is not None else fallback

    def _escalation_role(self, community: str) -> str | None:
        """`escalation_role`, unless the notice goes to a server that has no such role.

        A role id belongs to one server: pinged in another server's review channel it reaches
        nobody, so the notice is posted there without the ping (and the log says why).
        """
        role = self.settings.escalation_role
        if role is None:
            return None
        guild = getattr(self.client.get_channel(self.place_of(community)), "guild", None)
        if guild is not None and guild.get_role(int(role)) is None:
            _LOGGER.info("escalation role %s is not in server %s: not pinged", role, guild.id)
            return None
        return role

    def card_state(self, case_id: int) -> tuple[CardRef | None, CardView]:
        """On the core's thread: where the card is, and what the core says it shows."""
        return self.core.cards.for_case(case_id, PLATFORM), self.core.card(case_id)

    async def show_case(self, card: CardView) -> None:
        """Post the case's card in the review channel, or edit it in place."""
        case = card.case
        async with self._card_locks[case.id % _CARD_LOCKS]:
            ref = await self.runtime.call(self.core.cards.for_case, case.id, PLATFORM)
            now = self.core.clock.now()
            language = self.language_of(case.community)
            embed = render.case_embed(card, language=language, now=now)
            view = view_of(render.case_buttons(card, language=language))
            channel = self.review(case.community)
            if ref is not None:
                try:
                    # Where the card is, even if the review place has changed since.
                    await (
                        self.client.get_partial_messageable(
                            int(ref.chat), type=discord.ChannelType.text
                        )
                        .get_partial_message(int(ref.message_id))
                        .edit(embed=embed, view=view)
                    )
                    return
                except discord.NotFound:
                    _LOGGER.info("card of case %d was deleted; posting it again", case.id)
            posted = await channel.send(
                embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
            )
            await self.runtime.call(
                self.core.cards.save,
                CardRef(case.id, PLATFORM, str(channel.id), str(posted.id)),
            )

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation in the review channel, linked to the card."""
        ref = await self.runtime.call(self.core.cards.for_case, case.id, PLATFORM)
        deadline = case.target_at if notice.kind is NoticeKind.REMINDER_TARGET else case.due_at
        content = f"{notice.text} ({timestamp(deadline)})"
        if ref is not None:
            link = jump_url(self._review_guild(case.community), ref.chat, ref.message_id)
            content += "\n" + tr("card_link", self.language_of(case.community), link=link)
        mentions = discord.AllowedMentions.none()
        role = self._escalation_role(case.community)
        if notice.kind is NoticeKind.ESCALATION and role is not None:
            content = f"<@&{role}> {content}"
            mentions = discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(int(role))]
            )
        # A nonce per notice and part (discord.py adds enforce_nonce): posted, then killed
        # before being marked delivered, the retry after a restart is dropped by Discord.
        for index, chunk in enumerate(split_text(content)):
            await self.review(case.community).send(
                chunk, allowed_mentions=mentions, nonce=f"huitaine-n{notice.id}-{index}"
            )

    async def post_digest(self, text: str, *, community: str) -> None:
        """Post a community's weekly digest in its review channel (the runtime decides when).

        The digest's text is recorded once per week, so its hash names it: the same nonce
        after a restart lets Discord drop a second post (nonces are 25 characters at most).
        """
        digest_id = hashlib.sha256(f"{community}\n{text}".encode()).hexdigest()[:12]
        for index, chunk in enumerate(split_text(text, 2000)):
            await self.review(community).send(
                chunk,
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=f"huitaine-d{digest_id}-{index}",
            )
