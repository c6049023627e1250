"""Who may moderate which community: the one place that turns platform facts into permission.

Adapters report facts (role names, the platform's admin flag, in a given guild or chat), for the
person pressing a button (`Actor`) and for the author of a message (`Author.standing`); the core
alone decides, with one policy for both questions. A role in one Discord server says nothing of
another, and a Telegram user id is not a Discord user id, so every decision is weighed in the
case's own platform and community.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Config, StaffConfig
from bot.models import Actor, Case, Message, Standing

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


def _holds(standing: Standing, roles: frozenset[str]) -> bool:
    # Role names are matched without regard to case: "Moderator" and "moderator" are one role.
    return any(role.casefold() in roles for role in standing.roles)


class StaffPolicy:
    """Decides "may moderate" and "answers as staff" from `[staff]` and an adapter's facts.

    One method per question, each judged on facts only (ids, role names, the platform's admin
    flag in one community): a new question (a community helper, say) is one more method here.
    """

    def __init__(self, config: StaffConfig | Config) -> None:
        """Judge with the configured operator ids, moderator and helper roles.

        Given the whole `Config`, each community's own `[communities."platform:id".staff]`
        applies there: its roles and ids count in that community and nowhere else.
        """
        self._config = config if isinstance(config, Config) else Config(staff=config)
        self._operators = self._config.staff.user_ids
        self._answer_roles = self._config.staff.answer_roles

    def _staff_of(self, platform: str, community: str) -> StaffConfig:
        return self._config.for_community(platform, community).staff

    def answers_as_helper(self, message: Message) -> bool:
        """A configured helper of the message's community: their replies answer "by the
        community" (by id in `helper_ids`, or a `helper_roles` role held there)."""
        author = message.author
        own = self._staff_of(message.platform, message.community)
        if operator_key(message.platform, author.id) in own.helper_ids:
            return True
        standing = author.standing
        if standing is None or standing.community != message.community:
            return False
        return _holds(standing, own.helper_roles)

    def is_operator(self, actor: Actor) -> bool:
        """Listed in `[staff] user_ids` for the actor's platform: moderates all of it."""
        return operator_key(actor.platform, actor.id) in self._operators

    def answers_as_staff(self, message: Message) -> bool:
        """True when `message` answers cases as staff: the same people who may moderate there.

        An operator of the platform, a moderator listed by id in the community's own
        `[staff] user_ids`, or an author whose facts in the message's own community (the
        platform's admin flag, a moderator role, or a role that answers for the platform:
        `answer_roles`) say so. A decision already taken and stored (`Author.is_staff`, read
        back from the database) stands.
        """
        author = message.author
        key = operator_key(message.platform, author.id)
        own = self._staff_of(message.platform, message.community)
        if author.is_staff or key in self._operators or key in own.user_ids:
            return True
        standing = author.standing
        if standing is None or standing.community != message.community:
            return False
        roles = own.roles | self._answer_roles.get(message.platform, frozenset())
        return standing.admin or _holds(standing, roles)

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
        return standing.admin or _holds(standing, own.roles)

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
