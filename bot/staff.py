"""Who may moderate which community: the one place that turns platform facts into permission.

Adapters report facts (role names, the platform's admin flag, in a given guild or chat); the core
alone decides. A role in one Discord server says nothing of another, and a Telegram user id is not
a Discord user id, so every decision is weighed in the case's own platform and community.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Config, StaffConfig
from bot.models import Actor, Case

_LOGGER = logging.getLogger(__name__)


def operator_key(platform: str, user_id: str) -> str:
    """How `[staff] user_ids` names a person: `platform:id` (ids are only unique per platform)."""
    return f"{platform}:{user_id}"


@dataclass(frozen=True, slots=True)
class Scope:
    """The cases someone may see and act on: one platform, and all or some of its communities."""

    platform: str
    communities: frozenset[str] | None  # None: every community of the platform (an operator)

    def allows(self, platform: str, community: str) -> bool:
        """True when a case of `community` on `platform` is inside this scope."""
        if platform != self.platform:
            return False
        return self.communities is None or community in self.communities

    @property
    def empty(self) -> bool:
        """True when the scope holds no community at all (a member, or a stranger)."""
        return self.communities is not None and not self.communities


class StaffPolicy:
    """Decides "may moderate" from `[staff]` and the facts an adapter reports."""

    def __init__(self, config: StaffConfig | Config) -> None:
        """Judge with the configured operator ids, moderator and helper roles.

        Given the whole `Config`, each community's own `[communities."platform:id".staff]`
        applies there: its roles and ids count in that community and nowhere else.
        """
        self._config = config if isinstance(config, Config) else Config(staff=config)
        self._operators = self._config.staff.user_ids
        self._roles = self._config.staff.roles

    def _staff_of(self, platform: str, community: str) -> StaffConfig:
        return self._config.for_community(platform, community).staff

    def answers_as_helper(
        self, platform: str, community: str, user_id: str, roles: frozenset[str] = frozenset()
    ) -> bool:
        """A configured helper of `community`: their replies answer "by the community"."""
        own = self._staff_of(platform, community)
        if operator_key(platform, user_id) in own.helper_ids:
            return True
        return any(role.casefold() in own.helper_roles for role in roles)

    def is_operator(self, actor: Actor) -> bool:
        """Listed in `[staff] user_ids` for the actor's platform: moderates all of it."""
        return operator_key(actor.platform, actor.id) in self._operators

    def answers_as_staff(self, platform: str, user_id: str, community: str | None = None) -> bool:
        """An operator's message answers cases like any staff reply; so does one from a
        moderator listed by id in the community's own `[staff] user_ids`."""
        key = operator_key(platform, user_id)
        if key in self._operators:
            return True
        return community is not None and key in self._staff_of(platform, community).user_ids

    def may_moderate(self, actor: Actor, platform: str, community: str) -> bool:
        """True when `actor` may decide on a case of `community` on `platform`."""
        if actor.platform != platform:
            return False
        if self.is_operator(actor):
            return True
        own = self._staff_of(platform, community)
        if operator_key(actor.platform, actor.id) in own.user_ids:
            return True  # a moderator named by id in this community's own [staff]
        standing = actor.standing_in(community)
        if standing is None:
            return False
        return standing.admin or any(role.casefold() in own.roles for role in standing.roles)

    def may_decide(self, actor: Actor, case: Case) -> bool:
        """`may_moderate` for the case's own platform and community, with a log line if not."""
        allowed = self.may_moderate(actor, case.platform, case.community)
        if not allowed:
            _LOGGER.warning(
                "refused: %s (%s:%s) is not a moderator of %s:%s (case %d)",
                actor.name,
                actor.platform,
                actor.id,
                case.platform,
                case.community,
                case.id,
            )
        return allowed

    def scope(self, actor: Actor) -> Scope:
        """What `actor` may see: every community of the platform, those it moderates, or none."""
        if self.is_operator(actor):
            return Scope(actor.platform, None)
        by_role = {
            s.community
            for s in actor.standing
            if self.may_moderate(actor, actor.platform, s.community)
        }
        key = operator_key(actor.platform, actor.id)
        by_id = {
            name.partition(":")[2]
            for name, own in self._config.communities.items()
            if name.partition(":")[0] == actor.platform and key in own.staff.user_ids
        }
        return Scope(actor.platform, frozenset(by_role | by_id))

    def moderates_somewhere(self, actor: Actor) -> bool:
        """True when `actor` may moderate at least one community (gate for commands)."""
        return not self.scope(actor).empty
