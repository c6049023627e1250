"""The discord.py glue: gateway events to the runtime, review cards, buttons, replies, notices."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from datetime import datetime
from typing import Any

from adapters.discord import ids, render
from adapters.discord.convert import (
    MessageFacts,
    Place,
    admit,
    is_staff,
    jump_url,
    modal_values,
    split_text,
    to_message,
)
from adapters.discord.sdk import app_commands, discord
from adapters.discord.settings import DiscordSettings, parse_settings
from adapters.discord.texts import timestamp, tr
from bot.adapter import PlatformSetupError, SendFailed
from bot.cards import CardRef
from bot.cardview import CardView
from bot.config import Config
from bot.models import Actor, Case, Message, Notice, NoticeKind, Outgoing, SendState, Standing
from bot.review import NotAllowed, Refusal, ReviewError
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)

PLATFORM = "discord"
REPLY_INPUT = "reply"  # custom id of the modal's text input
_TEXT_INPUT_LIMIT = 4000  # Discord's limit for a modal text input
_CARD_LOCKS = 64  # striped locks: one card is never posted twice by concurrent refreshes
_THREAD_TYPES = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


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


def facts_from_discord(message: discord.Message) -> MessageFacts:
    """The same facts `convert.facts_from_payload` reads, taken off a discord.py Message."""
    author = message.author
    reference = message.reference
    reply_to = None
    if (
        reference is not None
        and reference.message_id is not None
        and reference.type is discord.MessageReferenceType.reply
    ):
        reply_to = str(reference.message_id)
    guild_id = message.guild.id if message.guild is not None else None
    if guild_id is None:  # a guild discord.py has not cached: the channel still knows it
        guild_id = getattr(message.channel, "guild_id", None)
    roles: frozenset[str] = frozenset()
    if isinstance(author, discord.Member):
        roles = frozenset(str(role.id) for role in author.roles if not role.is_default())
    return MessageFacts(
        id=str(message.id),
        channel_id=str(message.channel.id),
        guild_id=None if guild_id is None else str(guild_id),
        author_id=str(author.id),
        author_name=author.display_name,
        author_is_bot=author.bot or author.system or message.webhook_id is not None,
        content=message.content,
        type=message.type.value,
        reply_to=reply_to,
        mentions=tuple(dict.fromkeys(str(user.id) for user in message.mentions)),
        role_ids=roles,
    )


def place_of(channel: Any) -> Place:
    """Where a message was posted; a thread (or forum post) knows its parent when cached."""
    if isinstance(channel, discord.Thread):
        return Place(str(channel.id), str(channel.parent_id), True)
    if getattr(channel, "type", None) in _THREAD_TYPES:
        return Place(str(channel.id), None, True)
    return Place(str(channel.id))


def member_roles(user: discord.abc.User) -> tuple[frozenset[str], bool]:
    """Role names (as written) and guild-wide Manage Messages of a member; none for a user."""
    if not isinstance(user, discord.Member):
        return frozenset(), False
    names = frozenset(role.name for role in user.roles if not role.is_default())
    return names, user.guild_permissions.manage_messages


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
        if isinstance(client, HuitaineClient):
            await client.adapter.on_component(interaction, self.raw_custom_id)


def view_of(specs: list[render.ButtonSpec]) -> discord.ui.View:
    """A persistent view (no timeout) made of DynamicItem buttons."""
    view = discord.ui.View(timeout=None)
    for spec in specs:
        view.add_item(CaseButton(spec))
    return view


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


class ShardedHuitaineClient(HuitaineClient, discord.AutoShardedClient):
    """The same client over several gateway shards ([discord] shard_count, shard_ids)."""


class DiscordAdapter:
    """Huitaine on Discord: the runtime's Platform, with opsdroid's four verbs."""

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
        self._card_locks = [asyncio.Lock() for _ in range(_CARD_LOCKS)]

    # ------------------------------------------------------------------ opsdroid's verbs

    def _token(self) -> str:
        return self.config.discord.token(
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
                f"${self.config.discord.token_env}",
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
        """Close the gateway session and the HTTP session."""
        await self.client.close()

    async def start(self) -> None:
        """connect() then listen(): what the runner calls."""
        await self.connect()
        await self.listen()

    # ------------------------------------------------------------------ inbound

    def to_core(self, message: discord.Message, *, edited: bool = False) -> Message | None:
        """The core's Message for a member's message, or None when Huitaine ignores it."""
        facts = facts_from_discord(message)
        place = place_of(message.channel)
        bot_id = str(self.client.user.id) if self.client.user is not None else ""
        if not admit(facts, place, self.settings, bot_id=bot_id):
            return None
        names, manage = member_roles(message.author)
        return to_message(
            facts, place, staff=is_staff(names, manage, self.settings), edited=edited
        )

    async def on_message(self, message: discord.Message) -> None:
        """Ingest a new message (the core stores it once, whatever the gateway replays)."""
        converted = self.to_core(message)
        if converted is None:
            return
        try:
            await self.runtime.ingest(converted)
        except Exception:
            # Stored before detection, so nothing is lost; the card follows the next change.
            _LOGGER.exception("message %s: ingestion or its card failed", message.id)

    async def on_edit(self, message: discord.Message) -> None:
        """Apply an edit: the new text is detected again."""
        converted = self.to_core(message, edited=True)
        if converted is not None:
            await self.runtime.edit(converted)

    async def on_delete(self, guild_id: int | None, channel_id: int, message_ids: Any) -> None:
        """Apply deletions; a case whose messages are all gone is withdrawn."""
        if guild_id is None or not self.settings.watches_guild(str(guild_id)):
            return
        for message_id in message_ids:
            await self.runtime.delete(PLATFORM, str(guild_id), str(channel_id), str(message_id))

    # ------------------------------------------------------------------ outbound (Platform)

    def _review(self) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(
            int(self.settings.review_channel), type=discord.ChannelType.text
        )

    def _review_guild(self, fallback: str) -> str:
        channel = self.client.get_channel(int(self.settings.review_channel))
        guild = getattr(channel, "guild", None)
        return str(guild.id) if guild is not None else fallback

    def _card_state(self, case_id: int) -> tuple[CardRef | None, CardView]:
        """On the core's thread: where the card is, and what the core says it shows."""
        return self.core.cards.for_case(case_id, PLATFORM), self.core.card(case_id)

    async def show_case(self, case: Case) -> None:
        """Post the case's card in the review channel, or edit it in place."""
        async with self._card_locks[case.id % _CARD_LOCKS]:
            ref, card = await self.runtime.call(self._card_state, case.id)
            now = self.core.clock.now()
            embed = render.case_embed(card, language=self.language, now=now)
            view = view_of(render.case_buttons(card, language=self.language))
            channel = self._review()
            if ref is not None:
                try:
                    await channel.get_partial_message(int(ref.message_id)).edit(
                        embed=embed, view=view
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

    async def send_reply(self, item: Outgoing) -> str:
        """Post an approved reply once, as a reply to the member's message; return its id.

        Only the member answered can be pinged, whatever the text says. A nonce with
        enforce_nonce makes Discord drop a duplicate if discord.py retries after a 5xx.
        """
        channel = self.client.get_partial_messageable(
            int(item.thread or item.channel), guild_id=int(item.community)
        )
        mentions = discord.AllowedMentions(
            everyone=False,
            roles=False,
            users=[discord.Object(int(item.member_id))],
            replied_user=True,
        )
        reference = None
        if item.reply_to:
            reference = discord.MessageReference(
                message_id=int(item.reply_to),
                channel_id=channel.id,
                guild_id=int(item.community),
                fail_if_not_exists=False,
            )
        first: str | None = None
        for index, chunk in enumerate(split_text(item.text)):
            # Only the first part replies to the member's message; the rest follows it.
            extra: dict[str, Any] = {"reference": reference} if index == 0 and reference else {}
            try:
                posted = await channel.send(
                    chunk,
                    **extra,
                    allowed_mentions=mentions,
                    nonce=f"huitaine-{item.id}-{index}",
                )
            except discord.HTTPException as exc:
                # A 4xx answer means Discord rejected the request: nothing was posted. Only the
                # first part can be "surely not posted"; a later failure leaves a partial reply.
                if first is None and 400 <= exc.status < 500:
                    raise SendFailed(f"{exc.status} {exc.text}".strip()) from exc
                raise
            first = first or str(posted.id)
        if first is None:
            raise SendFailed("the reply is empty")
        return first

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation in the review channel, linked to the card."""
        ref = await self.runtime.call(self.core.cards.for_case, case.id, PLATFORM)
        deadline = case.target_at if notice.kind is NoticeKind.REMINDER_TARGET else case.due_at
        content = f"{notice.text} ({timestamp(deadline)})"
        if ref is not None:
            link = jump_url(self._review_guild(case.community), ref.chat, ref.message_id)
            content += "\n" + tr("card_link", self.language, link=link)
        mentions = discord.AllowedMentions.none()
        role = self.settings.escalation_role
        if notice.kind is NoticeKind.ESCALATION and role is not None:
            content = f"<@&{role}> {content}"
            mentions = discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(int(role))]
            )
        # A nonce per notice and part (discord.py adds enforce_nonce): posted, then killed
        # before being marked delivered, the retry after a restart is dropped by Discord.
        for index, chunk in enumerate(split_text(content)):
            await self._review().send(
                chunk, allowed_mentions=mentions, nonce=f"huitaine-n{notice.id}-{index}"
            )

    # ------------------------------------------------------------------ moderators' actions

    def actor_of(self, interaction: discord.Interaction[discord.Client]) -> Actor:
        """The person pressing, with the facts the core judges, in the server pressed from.

        Role names and the Manage Messages permission hold only in that server: the core
        never lets them act on another server's cases.
        """
        user = interaction.user
        names, _ = member_roles(user)
        admin = (
            self.settings.manage_messages_is_staff
            and isinstance(user, discord.Member)
            and interaction.permissions.manage_messages
        )
        standing: tuple[Standing, ...] = ()
        if interaction.guild_id is not None:
            standing = (Standing(str(interaction.guild_id), frozenset(names), admin),)
        return Actor(PLATFORM, str(user.id), user.display_name, standing)

    def _precheck(self, actor: Actor, case_id: int) -> tuple[str | None, Case | None]:
        """On the core's thread: the core says whether this actor may act on this case."""
        try:
            return None, self.core.review.case_for(actor, case_id)
        except NotAllowed:
            return tr("not_staff", self.language), None
        except ReviewError:
            return tr("no_case", self.language, case=case_id), None

    async def _refuse(self, interaction: discord.Interaction[discord.Client], text: str) -> None:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    async def on_component(
        self, interaction: discord.Interaction[discord.Client], raw_custom_id: str
    ) -> None:
        """A Huitaine button was pressed."""
        try:
            custom_id = ids.decode(raw_custom_id)
        except ids.InvalidCustomId as exc:
            _LOGGER.warning(
                "refused custom id %r from %s: %s", raw_custom_id, interaction.user.id, exc
            )
            await self._refuse(interaction, tr("invalid", self.language))
            return
        if custom_id.action is ids.Action.SUBMIT:  # a modal id on a button: forged
            await self._refuse(interaction, tr("invalid", self.language))
            return
        await self._act(interaction, custom_id)

    async def on_modal(self, interaction: discord.Interaction[discord.Client]) -> None:
        """A modal was submitted; ours are routed here even after a restart."""
        data: Any = interaction.data or {}
        raw = str(data.get("custom_id", ""))
        if not ids.is_ours(raw):
            return
        try:
            custom_id = ids.decode(raw)
        except ids.InvalidCustomId:
            custom_id = None
        if custom_id is None or custom_id.action is not ids.Action.SUBMIT:
            await self._refuse(interaction, tr("invalid", self.language))
            return
        await self._act(interaction, custom_id, text=modal_values(data).get(REPLY_INPUT, ""))

    def _guild_ok(self, interaction: discord.Interaction[discord.Client]) -> bool:
        guild = None if interaction.guild_id is None else str(interaction.guild_id)
        return self.settings.watches_guild(guild)

    async def _act(
        self,
        interaction: discord.Interaction[discord.Client],
        custom_id: ids.CustomId,
        *,
        text: str | None = None,
    ) -> None:
        if not self._guild_ok(interaction):
            await self._refuse(interaction, tr("wrong_guild", self.language))
            return
        actor = self.actor_of(interaction)
        refusal, case = await self.runtime.call(self._precheck, actor, custom_id.case_id)
        if refusal is not None or case is None:
            _LOGGER.info(
                "refused %s on case %d to %s", custom_id.action, custom_id.case_id, actor.id
            )
            await self._refuse(interaction, refusal or tr("invalid", self.language))
            return
        if custom_id.action in (ids.Action.EDIT, ids.Action.DISMISS) and not case.state.waiting:
            reason = f"case {case.id} is {case.state.value}"
            await self._refuse(interaction, tr("refused", self.language, reason=reason))
            return
        if custom_id.action is ids.Action.EDIT:
            await self._open_editor(interaction, case, actor)
            return
        if custom_id.action is ids.Action.DISMISS:
            await interaction.response.send_message(
                tr("why_dismiss", self.language, case=case.id),
                view=view_of(render.reason_buttons(case.id, language=self.language)),
                ephemeral=True,
            )
            return
        # Sending may wait on Discord's rate limits: answer within 3 s, report when done.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            result = await self._perform(actor, custom_id, text)
        except NotAllowed:
            result = tr("not_staff", self.language)
        except ReviewError as exc:
            result = tr("refused", self.language, reason=exc.explain(self.language))
        except Exception:
            # Never leave the moderator on "thinking…"; the card shows what really happened.
            _LOGGER.exception("%s on case %d failed", custom_id.action, custom_id.case_id)
            result = tr("error", self.language)
        await interaction.edit_original_response(content=result)

    async def _open_editor(
        self, interaction: discord.Interaction[discord.Client], case: Case, actor: Actor
    ) -> None:
        draft = (
            case.suggestions[0].text.replace("{moderator}", actor.name) if case.suggestions else ""
        )
        modal = discord.ui.Modal(
            title=tr("modal_title", self.language, member=case.author.name)[:45],
            custom_id=ids.make(ids.Action.SUBMIT, case.id),
            timeout=None,
        )
        modal.add_item(
            discord.ui.TextInput(
                label=tr("modal_label", self.language)[:45],
                style=discord.TextStyle.paragraph,
                custom_id=REPLY_INPUT,
                default=draft[:_TEXT_INPUT_LIMIT],
                max_length=_TEXT_INPUT_LIMIT,
                required=True,
            )
        )
        # Stopped before sending: discord.py then keeps no in-memory copy, and the submission is
        # handled from its custom id alone (on_modal), so a restart in between changes nothing.
        modal.stop()
        await interaction.response.send_modal(modal)

    async def _perform(self, actor: Actor, custom_id: ids.CustomId, text: str | None) -> str:
        case_id = custom_id.case_id
        action = custom_id.action
        if action in (ids.Action.SEND, ids.Action.SUBMIT):
            item = await self.runtime.approve_and_send(
                actor, case_id, text=text if action is ids.Action.SUBMIT else None
            )
            return self._outcome(item)
        if action is ids.Action.REASON:
            await self.runtime.call(self.core.review.dismiss, actor, case_id, custom_id.reason)
            await self.runtime.refresh(case_id)
            return tr(
                "dismissed",
                self.language,
                case=case_id,
                reason=tr(custom_id.reason.value, self.language),
            )
        if action is ids.Action.SNOOZE:
            case = await self.runtime.call(self.core.review.snooze, actor, case_id)
            await self.runtime.refresh(case_id)
            until = case.snoozed_until or self.core.clock.now()
            return tr("snoozed_ok", self.language, case=case_id, when=timestamp(until))
        if action is ids.Action.MINE:
            await self.runtime.call(self.core.review.assign, actor, case_id)
            await self.runtime.refresh(case_id)
            return tr("assigned", self.language, case=case_id)
        outgoing = await self.runtime.call(self.core.review.outgoing, custom_id.reply_id)
        if outgoing.case_id != case_id:
            raise ReviewError(Refusal.NO_REPLY, reply=outgoing.id)
        if action is ids.Action.CONFIRM:
            await self.runtime.call(self.core.review.confirm_sent, actor, outgoing.id)
            await self.runtime.refresh(case_id)
            return tr("confirmed", self.language, case=case_id)
        queued = await self.runtime.call(self.core.review.retry_send, actor, outgoing.id)
        return self._outcome(await self.runtime.send(queued))

    def _outcome(self, item: Outgoing) -> str:
        if item.state is SendState.SENT and item.platform_message_id:
            link = jump_url(item.community, item.thread or item.channel, item.platform_message_id)
            return tr("sent", self.language, link=link)
        if item.state is SendState.FAILED:
            return tr("send_failed", self.language)
        return tr("unconfirmed", self.language, channel=item.thread or item.channel)

    # ------------------------------------------------------------------ slash commands

    async def _staff_only(self, interaction: discord.Interaction[Any]) -> Actor | None:
        actor = self.actor_of(interaction)
        if self._guild_ok(interaction) and await self.runtime.call(
            self.core.review.is_moderator, actor
        ):
            return actor
        await self._refuse(interaction, tr("not_staff", self.language))
        return None

    def waiting_text(self, now: datetime, actor: Actor, limit: int = 15) -> str:
        """The /cases listing of the cases `actor` moderates, soonest target first, linked."""
        waiting = self.core.waiting(self.core.review.scope(actor))
        if not waiting:
            return tr("nobody", self.language)
        lines = [f"**{tr('waiting_title', self.language, count=len(waiting))}**"]
        for case in waiting[:limit]:
            flag = " ⚠️" if case.late(now) else ""
            link = (
                jump_url(case.community, case.channel, case.message_ids[0])
                if case.message_ids
                else ""
            )
            lines.append(
                f"#{case.id} · {render.state_label(case, now, self.language)} · "
                f"{case.author.name} · {timestamp(case.target_at)}{flag} · {link}"
            )
        if len(waiting) > limit:
            lines.append(tr("more", self.language, count=len(waiting) - limit))
        return "\n".join(lines)[:2000]

    async def setup_commands(self) -> None:
        """Declare /cases, /case and /report; sync them when configured (not in tests)."""
        tree = self.client.tree
        hidden = discord.Permissions(manage_messages=True)  # the core still checks every use

        @app_commands.command(name="cases", description=tr("cmd_cases", self.language))
        @app_commands.default_permissions(hidden)
        @app_commands.guild_only()
        async def cases(interaction: discord.Interaction[HuitaineClient]) -> None:
            actor = await self._staff_only(interaction)
            if actor is not None:
                text = await self.runtime.call(self.waiting_text, self.core.clock.now(), actor)
                await interaction.response.send_message(text, ephemeral=True)

        @app_commands.command(name="case", description=tr("cmd_case", self.language))
        @app_commands.describe(number=tr("cmd_case_id", self.language))
        @app_commands.default_permissions(hidden)
        @app_commands.guild_only()
        async def case(
            interaction: discord.Interaction[HuitaineClient],
            number: app_commands.Range[int, 1, 2**53],
        ) -> None:
            actor = await self._staff_only(interaction)
            if actor is None:
                return
            refusal, found = await self.runtime.call(self._precheck, actor, number)
            if refusal is not None or found is None:
                await self._refuse(interaction, refusal or tr("invalid", self.language))
                return
            _ref, card = await self.runtime.call(self._card_state, found.id)
            now = self.core.clock.now()
            await interaction.response.send_message(
                embed=render.case_embed(card, language=self.language, now=now),
                view=view_of(render.case_buttons(card, language=self.language)),
                ephemeral=True,
            )

        @app_commands.command(name="report", description=tr("cmd_report", self.language))
        @app_commands.default_permissions(hidden)
        @app_commands.guild_only()
        async def report(interaction: discord.Interaction[HuitaineClient]) -> None:
            actor = await self._staff_only(interaction)
            if actor is not None:
                scope = self.core.review.scope(actor)
                text = await self.runtime.call(self.core.report_text, scope=scope)
                await interaction.response.send_message(f"```\n{text[:1980]}\n```", ephemeral=True)

        commands: list[app_commands.Command[Any, ..., None]] = [cases, case, report]
        for command in commands:
            tree.add_command(command)
        if not self.settings.sync_commands:
            return
        if self.settings.guild_ids:
            # Per-guild commands appear at once; global ones can take an hour to propagate.
            for guild_id in sorted(self.settings.guild_ids):
                guild = discord.Object(int(guild_id))
                tree.copy_global_to(guild=guild)
                await tree.sync(guild=guild)
        else:
            await tree.sync()

    # ------------------------------------------------------------------ weekly digest

    async def post_digest(self, text: str) -> None:
        """Post the core's weekly digest in the review channel (the runtime decides when).

        The digest's text is recorded once per week, so its hash names it: the same nonce
        after a restart lets Discord drop a second post (nonces are 25 characters at most).
        """
        digest_id = hashlib.sha256(text.encode()).hexdigest()[:12]
        for index, chunk in enumerate(split_text(text, 2000)):
            await self._review().send(
                chunk,
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=f"huitaine-d{digest_id}-{index}",
            )


def build(config: Config, runtime: Runtime, **client_options: Any) -> DiscordAdapter:
    """Validate `[discord]`, create the adapter and register it with `runtime`."""
    adapter = DiscordAdapter(config, runtime, parse_settings(config), **client_options)
    runtime.register(adapter)
    return adapter
