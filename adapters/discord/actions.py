"""Moderators' presses in: buttons and the reply editor become the core's decisions.

A custom id is decoded (forged ones refused) and the server checked here; whether the presser
may act on the case is the core's decision, asked before anything is shown or sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from adapters.discord import ids, render
from adapters.discord.cards import view_of
from adapters.discord.convert import PLATFORM, jump_url, modal_values
from adapters.discord.sdk import discord
from adapters.discord.settings import DiscordSettings
from adapters.discord.texts import language_of, timestamp, tr
from bot.cardview import MEMBER_THANKS, MemberAction, member_text
from bot.i18n import t
from bot.models import Actor, Case, Feedback, Outgoing, SendState
from bot.review import NotAllowed, Refusal, ReviewError
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)

REPLY_INPUT = "reply"  # custom id of the modal's text input
_TEXT_INPUT_LIMIT = 4000  # Discord's limit for a modal text input

# The member's buttons under an approved reply, and what each tells the core.
_MEMBER = {ids.Action.SOLVED: MemberAction.SOLVED, ids.Action.HELP: MemberAction.STILL_NEED_HELP}
# Presses that first ask the moderator something else (the reply editor, the reasons) need a
# case still waiting; the core checks every other press itself.
_ON_WAITING = (ids.Action.EDIT, ids.Action.DISMISS)

ActorOf = Callable[[discord.Interaction[discord.Client]], Actor]


async def refuse(interaction: discord.Interaction[Any], text: str) -> None:
    """Tell the presser why nothing happened, only to them."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


class Actions:
    """Button presses and modal submissions on cards."""

    def __init__(
        self,
        runtime: Runtime,
        settings: DiscordSettings,
        actor_of: ActorOf,
        *,
        language: str,
    ) -> None:
        """Decide through `runtime`; `actor_of` reports who pressed, with their facts."""
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self.actor_of = actor_of
        self.language = language  # the default; a press is answered in its community's language

    def language_of(self, community: str | None) -> str:
        """The language of a community's moderators ([communities."discord:id"] language)."""
        return language_of(self.core.config, community)

    def pressed_in(self, interaction: discord.Interaction[Any]) -> str:
        """The language of the server pressed in, for answers given before a case is known."""
        guild = interaction.guild_id
        return self.language_of(None if guild is None else str(guild))

    def guild_ok(self, interaction: discord.Interaction[Any]) -> bool:
        """True when the interaction comes from a server Huitaine watches."""
        guild = None if interaction.guild_id is None else str(interaction.guild_id)
        return self.settings.watches_guild(guild)

    def precheck(
        self, actor: Actor, case_id: int, language: str
    ) -> tuple[str | None, Case | None]:
        """On the core's thread: the core says whether this actor may act on this case."""
        try:
            return None, self.core.review.case_for(actor, case_id)
        except NotAllowed:
            return tr("not_staff", language), None
        except ReviewError:
            return tr("no_case", language, case=case_id), None

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
            await refuse(interaction, tr("invalid", self.pressed_in(interaction)))
            return
        if custom_id.action is ids.Action.SUBMIT:  # a modal id on a button: forged
            await refuse(interaction, tr("invalid", self.pressed_in(interaction)))
            return
        if custom_id.action in _MEMBER:
            await self._member_press(interaction, custom_id)
            return
        await self._act(interaction, custom_id)

    async def _member_press(
        self, interaction: discord.Interaction[discord.Client], custom_id: ids.CustomId
    ) -> None:
        """A member pressed "solved" / "still need help" under an approved reply.

        The pressed message must be the reply the bot posted for that case; the core then
        checks that the presser is the member who asked. The answer is for the presser only.
        """
        replies = await self.runtime.call(self.core.review.replies_of, custom_id.case_id)
        pressed = None if interaction.message is None else str(interaction.message.id)
        if pressed is None or pressed not in {r.platform_message_id for r in replies}:
            _LOGGER.warning(
                "refused %s from %s: not that case's reply", custom_id, interaction.user.id
            )
            await refuse(interaction, tr("invalid", self.pressed_in(interaction)))
            return
        case = await self.runtime.call(self.core.cases.get, custom_id.case_id)
        member = Actor(PLATFORM, str(interaction.user.id), interaction.user.display_name)
        action = _MEMBER[custom_id.action]
        try:
            await self.runtime.call(
                self.core.review.member_feedback, member, case.id, Feedback(action.value)
            )
        except ReviewError as exc:
            await refuse(interaction, exc.explain(case.language))
            return
        await interaction.response.send_message(
            member_text(MEMBER_THANKS, action, case.language), ephemeral=True
        )
        await self.runtime.refresh(case.id)

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
            await refuse(interaction, tr("invalid", self.pressed_in(interaction)))
            return
        await self._act(interaction, custom_id, text=modal_values(data).get(REPLY_INPUT, ""))

    async def _act(
        self,
        interaction: discord.Interaction[discord.Client],
        custom_id: ids.CustomId,
        *,
        text: str | None = None,
    ) -> None:
        here = self.pressed_in(interaction)
        if not self.guild_ok(interaction):
            await refuse(interaction, tr("wrong_guild", here))
            return
        actor = self.actor_of(interaction)
        refusal, case = await self.runtime.call(self.precheck, actor, custom_id.case_id, here)
        if refusal is not None or case is None:
            _LOGGER.info(
                "refused %s on case %d to %s", custom_id.action, custom_id.case_id, actor.id
            )
            await refuse(interaction, refusal or tr("invalid", here))
            return
        # From here on, the words of the card's own community.
        language = self.language_of(case.community)
        if custom_id.action in _ON_WAITING and not case.state.waiting:
            state = t(case.state.value, language)
            reason = tr("case_is", language, case=case.id, state=state)
            await refuse(interaction, tr("refused", language, reason=reason))
            return
        if custom_id.action is ids.Action.EDIT:
            await self._open_editor(interaction, case, actor, language)
            return
        if custom_id.action is ids.Action.DISMISS:
            await interaction.response.send_message(
                tr("why_dismiss", language, case=case.id),
                view=view_of(render.reason_buttons(case.id, language=language)),
                ephemeral=True,
            )
            return
        # Sending may wait on Discord's rate limits: answer within 3 s, report when done.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            result = await self._perform(actor, custom_id, text, language)
        except NotAllowed:
            result = tr("not_staff", language)
        except ReviewError as exc:
            result = tr("refused", language, reason=exc.explain(language))
        except Exception:
            # Never leave the moderator on "thinking…"; the card shows what really happened.
            _LOGGER.exception("%s on case %d failed", custom_id.action, custom_id.case_id)
            result = tr("error", language)
        await interaction.edit_original_response(content=result)

    async def _open_editor(
        self,
        interaction: discord.Interaction[discord.Client],
        case: Case,
        actor: Actor,
        language: str,
    ) -> None:
        draft = (
            case.suggestions[0].text.replace("{moderator}", actor.name) if case.suggestions else ""
        )
        modal = discord.ui.Modal(
            title=tr("modal_title", language, member=case.author.name)[:45],
            custom_id=ids.make(ids.Action.SUBMIT, case.id),
            timeout=None,
        )
        modal.add_item(
            discord.ui.TextInput(
                label=tr("modal_label", language)[:45],
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

    async def _perform(
        self, actor: Actor, custom_id: ids.CustomId, text: str | None, language: str
    ) -> str:
        case_id = custom_id.case_id
        action = custom_id.action
        if action in (ids.Action.SEND, ids.Action.SUBMIT):
            item = await self.runtime.approve_and_send(
                actor, case_id, text=text if action is ids.Action.SUBMIT else None
            )
            return self._outcome(item, language)
        if action is ids.Action.REASON:
            await self.runtime.call(self.core.review.dismiss, actor, case_id, custom_id.reason)
            await self.runtime.refresh(case_id)
            return tr(
                "dismissed",
                language,
                case=case_id,
                reason=tr(custom_id.reason.value, language),
            )
        if action is ids.Action.SNOOZE:
            case = await self.runtime.call(self.core.review.snooze, actor, case_id)
            await self.runtime.refresh(case_id)
            until = case.snoozed_until or self.core.clock.now()
            return tr("snoozed_ok", language, case=case_id, when=timestamp(until))
        if action is ids.Action.MINE:
            await self.runtime.call(self.core.review.assign, actor, case_id)
            await self.runtime.refresh(case_id)
            return tr("assigned", language, case=case_id)
        if action is ids.Action.HELPER_OK:
            # The core refuses a case no helper answered, or one already confirmed (a replay).
            await self.runtime.call(self.core.review.confirm_helper, actor, case_id)
            await self.runtime.refresh(case_id)
            return tr("helper_confirmed", language, case=case_id)
        if action is ids.Action.TAKE_OVER:
            await self.runtime.call(self.core.review.take_over, actor, case_id)
            await self.runtime.refresh(case_id)
            return tr("taken_over", language, case=case_id)
        outgoing = await self.runtime.call(self.core.review.outgoing, custom_id.reply_id)
        if outgoing.case_id != case_id:
            raise ReviewError(Refusal.NO_REPLY, reply=outgoing.id)
        if action is ids.Action.CONFIRM:
            await self.runtime.call(self.core.review.confirm_sent, actor, outgoing.id)
            await self.runtime.refresh(case_id)
            return tr("confirmed", language, case=case_id)
        queued = await self.runtime.call(self.core.review.retry_send, actor, outgoing.id)
        return self._outcome(await self.runtime.send(queued), language)

    def _outcome(self, item: Outgoing, language: str) -> str:
        if item.state is SendState.SENT and item.platform_message_id:
            link = jump_url(item.community, item.thread or item.channel, item.platform_message_id)
            return tr("sent", language, link=link)
        if item.state is SendState.FAILED:
            return tr("send_failed", language)
        return tr("unconfirmed", language, channel=item.thread or item.channel)
