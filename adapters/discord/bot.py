"""The Discord adapter's wiring and life cycle: one discord.py client, its events, four verbs.

The work is done by one object per concern, each in its own module: `inbound` (gateway events →
Messages, edits, deletions), `cards` (the review channel: cards, notices, digest), `actions`
(button presses and the reply editor → the core's decisions), `commands` (/cases, /case,
/report), `people` (who is who) and `sending` (an approved reply, once). This module builds
them, routes discord.py's events to them, and implements the core's `Adapter` protocol.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from adapters.discord.actions import Actions
from adapters.discord.cards import Cards, CaseButton, member_view
from adapters.discord.commands import Commands
from adapters.discord.convert import PLATFORM
from adapters.discord.inbound import Inbound
from adapters.discord.people import actor_of
from adapters.discord.sdk import app_commands, discord
from adapters.discord.sending import send_reply
from adapters.discord.settings import NAME, DiscordSettings, parse_settings
from bot.adapter import PlatformSetupError
from bot.cardview import CardView
from bot.config import Config
from bot.models import Actor, Case, Message, Notice, Outgoing
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)


class DiscordSetupError(PlatformSetupError):
    """Discord cannot be used as configured; the message says what to change, and where."""

    def __init__(self, problem: str, fix: str) -> None:
        """Build the error from what is wrong and how to fix it."""
        super().__init__(f"Discord: {problem}. Fix: {fix}")


MESSAGE_CONTENT_FIX = (
    "open https://discord.com/developers/applications → your application → Bot → Privileged "
    "Gateway Intents, and enable MESSAGE CONTENT INTENT (Huitaine reads what members write)"
)


def intents() -> discord.Intents:
    """The gateway intents Huitaine needs, and no more.

    guilds (channels, roles and threads in the cache), guild_messages (messages, edits and
    deletes in servers) and message_content — privileged: enable it in the Developer Portal.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


class HuitaineClient(discord.Client):
    """discord.py's client, wired to one DiscordAdapter."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        """Create the client with Huitaine's intents and no message cache.

        Edits and deletes come through raw events, so an uncached message counts as well as a
        cached one; the cache would only cost memory. By default nobody is ever pinged.
        """
        options.setdefault("max_messages", None)
        super().__init__(
            intents=intents(), allowed_mentions=discord.AllowedMentions.none(), **options
        )
        self.adapter = adapter
        self.tree: app_commands.CommandTree[HuitaineClient] = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        """Register the buttons (before any interaction arrives) and the slash commands."""
        self.add_dynamic_items(CaseButton)
        await self.adapter.setup_commands()

    async def on_ready(self) -> None:
        """The gateway session is up and guilds are cached (again, after a new session)."""
        _LOGGER.info("connected to Discord as %s (%s)", self.user, getattr(self.user, "id", "?"))
        first = not self.adapter.ready.is_set()
        self.adapter.ready.set()
        if first:
            await self.adapter.runtime.show_replies_in_doubt(PLATFORM)
        self.adapter.catch_up()

    async def on_resumed(self) -> None:
        """A dropped session was resumed; Discord replays what we missed."""
        _LOGGER.info("Discord session resumed")

    async def on_message(self, message: discord.Message) -> None:
        """A new message."""
        await self.adapter.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edit, cached or not."""
        await self.adapter.on_edit(payload.message)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A deletion, cached or not."""
        await self.adapter.on_delete(payload.guild_id, payload.channel_id, [payload.message_id])

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """A purge by a moderator."""
        await self.adapter.on_delete(payload.guild_id, payload.channel_id, payload.message_ids)

    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Modal submissions; buttons go through CaseButton, commands through the tree."""
        if interaction.type is discord.InteractionType.modal_submit:
            await self.adapter.on_modal(interaction)

    async def route_press(
        self, interaction: discord.Interaction[discord.Client], raw_custom_id: str
    ) -> None:
        """A CaseButton was pressed (see `cards.RoutesPresses`)."""
        await self.adapter.on_component(interaction, raw_custom_id)


class ShardedHuitaineClient(HuitaineClient, discord.AutoShardedClient):
    """The same client over several gateway shards ([discord] shard_count, shard_ids)."""


class DiscordAdapter:
    """Huitaine on Discord: the runtime's Adapter, with opsdroid's four verbs."""

    name = PLATFORM

    def __init__(
        self,
        config: Config,
        runtime: Runtime,
        settings: DiscordSettings,
        **client_options: Any,
    ) -> None:
        """Wire the adapter; nothing touches the network before `connect`."""
        self.config = config
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self.language = "fr" if config.community.language == "fr" else "en"
        self.tz = config.community.tz
        sharded = settings.client_options()
        client = ShardedHuitaineClient if sharded else HuitaineClient
        self.client = client(self, **sharded, **client_options)
        self.ready = asyncio.Event()
        # When this run's first gateway session was up: later sessions read back from then.
        self.listening_since: datetime | None = None
        self._catch_ups: set[asyncio.Task[Any]] = set()
        self.inbound = Inbound(runtime, settings, self._bot_id)
        self.cards = Cards(runtime, settings, self.client, language=self.language)
        self.actions = Actions(runtime, settings, self.actor_of, language=self.language)
        self.commands = Commands(
            runtime, settings, self.actions, self.cards, language=self.language
        )

    def _bot_id(self) -> str:
        return str(self.client.user.id) if self.client.user is not None else ""

    # ------------------------------------------------------------------ opsdroid's verbs

    def _token(self) -> str:
        return self.config.platforms[NAME].token(
            "discord", "the bot token from the Developer Portal → Bot → Reset Token"
        )

    async def connect(self) -> None:
        """Log in (REST), check the privileged intent, register commands; no gateway yet."""
        try:
            await self.client.login(self._token())
        except discord.LoginFailure:
            await self.client.close()
            raise DiscordSetupError(
                "the bot token was refused",
                "reset it in the Developer Portal (Bot → Reset Token) and put it in "
                "$" + self.config.platforms[NAME].token_env,
            ) from None
        except (OSError, TimeoutError) as exc:  # aiohttp's connection errors are OSErrors
            await self.client.close()
            raise DiscordSetupError(
                f"cannot reach Discord ({type(exc).__name__}: {exc})",
                "check the network (and any proxy), then start again",
            ) from None
        flags = self.client.application_flags
        if not (flags.gateway_message_content or flags.gateway_message_content_limited):
            await self.client.close()
            raise DiscordSetupError(
                "the Message Content intent is not enabled for this application",
                MESSAGE_CONTENT_FIX,
            )

    async def listen(self) -> None:
        """Run the gateway session until `disconnect`; reconnects and resumes on its own."""
        try:
            await self.client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            raise DiscordSetupError(
                "Discord refused the Message Content intent (close code 4014)", MESSAGE_CONTENT_FIX
            ) from None

    async def disconnect(self) -> None:
        """Stop reading history back, then close the gateway session and the HTTP session."""
        for task in list(self._catch_ups):
            task.cancel()
        await asyncio.gather(*self._catch_ups, return_exceptions=True)
        await self.client.close()

    def catch_up(self) -> None:
        """Read back what a new gateway session will not replay (see `Inbound.catch_up`)."""
        # A new session (after op 9, or a start after a stop) replays nothing of the old one.
        since = self.listening_since
        if since is None:
            self.listening_since = self.core.clock.now()
        task = self.runtime.spawn(
            "discord catch-up", self.inbound.catch_up(list(self.client.guilds), since=since)
        )
        self._catch_ups.add(task)
        task.add_done_callback(self._catch_ups.discard)

    async def start(self) -> None:
        """connect() then listen(): what the runner calls."""
        await self.connect()
        await self.listen()

    # ------------------------------------------------------------------ inbound

    def to_core(self, message: discord.Message, *, edited: bool = False) -> Message | None:
        """The core's Message for a member's message, or None when Huitaine ignores it."""
        return self.inbound.to_core(message, edited=edited)

    async def on_message(self, message: discord.Message) -> None:
        """Ingest a new message (the core stores it once, whatever the gateway replays)."""
        await self.inbound.on_message(message)

    async def on_edit(self, message: discord.Message) -> None:
        """Apply an edit: the new text is detected again."""
        await self.inbound.on_edit(message)

    async def on_delete(
        self, guild_id: int | None, channel_id: int, message_ids: Iterable[int]
    ) -> None:
        """Apply deletions; a case whose messages are all gone is withdrawn."""
        await self.inbound.on_delete(guild_id, channel_id, message_ids)

    # ------------------------------------------------------------------ moderators

    def actor_of(self, interaction: discord.Interaction[Any]) -> Actor:
        """The person pressing, with the facts the core judges (see `people.actor_of`)."""
        return actor_of(interaction, self.settings)

    async def on_component(
        self, interaction: discord.Interaction[discord.Client], raw_custom_id: str
    ) -> None:
        """A Huitaine button was pressed."""
        await self.actions.on_component(interaction, raw_custom_id)

    async def on_modal(self, interaction: discord.Interaction[discord.Client]) -> None:
        """A modal was submitted."""
        await self.actions.on_modal(interaction)

    async def setup_commands(self) -> None:
        """Declare /cases, /case and /report; sync them when configured (not in tests)."""
        await self.commands.setup(self.client.tree)

    # ------------------------------------------------------------------ outbound (Adapter)

    async def show_case(self, view: CardView) -> None:
        """Post the case's card in the review channel, or edit it in place."""
        await self.cards.show_case(view)

    async def send_reply(self, item: Outgoing) -> str:
        """Post an approved reply once, as a reply to the member's message; return its id."""
        # The member who asked gets "solved / still need help" under the reply, in their
        # language; the core alone decides whose press counts.
        case = await self.runtime.call(self.core.cases.get, item.case_id)
        return await send_reply(self.client, item, view=member_view(case.id, case.language))

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation in the review channel, linked to the card."""
        await self.cards.post_notice(notice, case)

    async def post_digest(self, text: str, *, community: str) -> None:
        """Post a community's weekly digest in its review channel (the runtime decides when)."""
        await self.cards.post_digest(text, community=community)


def build(config: Config, runtime: Runtime, **client_options: Any) -> DiscordAdapter:
    """Validate `[discord]`, create the adapter and register it with `runtime`."""
    adapter = DiscordAdapter(config, runtime, parse_settings(config), **client_options)
    runtime.register(adapter)
    return adapter
