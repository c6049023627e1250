"""Who is who on Discord: the facts about a member that the core's StaffPolicy judges."""

from __future__ import annotations

from adapters.discord.convert import PLATFORM
from adapters.discord.sdk import discord
from adapters.discord.settings import DiscordSettings
from bot.models import Actor, Standing


def member_roles(user: discord.abc.User) -> tuple[frozenset[str], bool]:
    """Role names (as written) and guild-wide Manage Messages of a member; none for a user."""
    if not isinstance(user, discord.Member):
        return frozenset(), False
    names = frozenset(role.name for role in user.roles if not role.is_default())
    return names, user.guild_permissions.manage_messages


def actor_of(interaction: discord.Interaction[discord.Client], settings: DiscordSettings) -> Actor:
    """The person pressing, with the facts the core judges, in the server pressed from.

    Role names and the Manage Messages permission hold only in that server: the core
    never lets them act on another server's cases.
    """
    user = interaction.user
    names, _ = member_roles(user)
    admin = (
        settings.manage_messages_is_staff
        and isinstance(user, discord.Member)
        and interaction.permissions.manage_messages
    )
    standing: tuple[Standing, ...] = ()
    if interaction.guild_id is not None:
        standing = (Standing(str(interaction.guild_id), frozenset(names), admin),)
    return Actor(PLATFORM, str(user.id), user.display_name, standing)
