"""Slash commands for moderators: /cases, /case and /report (the core checks every use).

Their descriptions are registered in the community's language and localised for each Discord
client's own (a French client reads French), from the adapter's texts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.discord import render
from adapters.discord.actions import Actions, refuse
from adapters.discord.cards import Cards, view_of
from adapters.discord.convert import jump_url
from adapters.discord.sdk import app_commands, discord
from adapters.discord.settings import DiscordSettings
from adapters.discord.texts import for_locale, timestamp, tr
from bot.models import Actor
from bot.runtime import Runtime


class CommandTexts(app_commands.Translator):
    """Gives discord.py each command text in the client's language, when it is synced."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The text in `locale`'s language; None for command names, which stay as typed."""
        key = string.extras.get("key")
        return for_locale(key, locale.value) if isinstance(key, str) else None


def described(key: str, language: str) -> app_commands.locale_str:
    """A command text in the default `language`, marked with its key for `CommandTexts`."""
    return app_commands.locale_str(tr(key, language), key=key)


class Commands:
    """Declares the slash commands and answers them, only to the moderator who asked."""

    def __init__(
        self,
        runtime: Runtime,
        settings: DiscordSettings,
        actions: Actions,
        cards: Cards,
        *,
        language: str,
    ) -> None:
        """Read through `runtime`; who may ask is decided by the core (through `actions`)."""
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self.actions = actions
        self.cards = cards
        self.language = language

    async def _staff_only(self, interaction: discord.Interaction[Any]) -> Actor | None:
        actor = self.actions.actor_of(interaction)
        if self.actions.guild_ok(interaction) and await self.runtime.call(
            self.core.review.is_moderator, actor
        ):
            return actor
        await refuse(interaction, tr("not_staff", self.actions.pressed_in(interaction)))
        return None

    def waiting_text(
        self, now: datetime, actor: Actor, limit: int = 15, *, language: str | None = None
    ) -> str:
        """The /cases listing of the cases `actor` moderates, soonest target first, linked."""
        language = language or self.language
        waiting = self.core.waiting(self.core.review.scope(actor))
        if not waiting:
            return tr("nobody", language)
        lines = [f"**{tr('waiting_title', language, count=len(waiting))}**"]
        for case in waiting[:limit]:
            flag = " ⚠️" if case.late(now) else ""
            link = (
                jump_url(case.community, case.channel, case.message_ids[0])
                if case.message_ids
                else ""
            )
            lines.append(
                f"#{case.id} · {render.state_label(case, now, language)} · "
                f"{case.author.name} · {timestamp(case.target_at)}{flag} · {link}"
            )
        if len(waiting) > limit:
            lines.append(tr("more", language, count=len(waiting) - limit))
        return "\n".join(lines)[:2000]

    async def setup(self, tree: app_commands.CommandTree[Any]) -> None:
        """Declare /cases, /case and /report; sync them when configured (not in tests)."""
        hidden = discord.Permissions(manage_messages=True)  # the core still checks every use
        await tree.set_translator(CommandTexts())

        @app_commands.command(name="cases", description=described("cmd_cases", self.language))
        @app_commands.default_permissions(hidden)
        @app_commands.guild_only()
        async def cases(interaction: discord.Interaction[Any]) -> None:
            actor = await self._staff_only(interaction)
            if actor is not None:
                text = await self.runtime.call(
                    self.waiting_text,
                    self.core.clock.now(),
                    actor,
                    language=self.actions.pressed_in(interaction),
                )
                await interaction.response.send_message(text, ephemeral=True)

        @app_commands.command(name="case", description=described("cmd_case", self.language))
        @app_commands.describe(number=described("cmd_case_id", self.language))
        @app_commands.default_permissions(hidden)
        @app_commands.guild_only()
        async def case(
            interaction: discord.Interaction[Any],
            number: app_commands.Range[int, 1, 2**53],
        ) -> None:
            actor = await self._staff_only(interaction)
            if actor is None:
                return
            here = self.actions.pressed_in(interaction)
            refusal, found = await self.runtime.call(self.actions.precheck, actor, number, here)
            if refusal is not None or found is None:
                await refuse(interaction, refusal or tr("invalid", here))
                return
            _ref, card = await self.runtime.call(self.cards.card_state, found.id)
            now = self.core.clock.now()
            language = self.cards.language_of(found.community)  # as its card in the channel
            await interaction.response.send_message(
                embed=render.case_embed(card, language=language, now=now),
                view=view_of(render.case_buttons(card, language=language)),
                ephemeral=True,
            )

        @app_commands.command(name="report", description=described("cmd_report", self.language))
        @app_commands.default_permissions(hidden)
        @app_commands.guild_only()
        async def report(interaction: discord.Interaction[Any]) -> None:
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
