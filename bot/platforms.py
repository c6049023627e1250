"""The platforms the configuration knows: each adapter registers its own section here.

The core names no platform. An adapter registers a `PlatformSection` when its settings module is
imported (the CLI and the runner import them all through `adapters.sections`), so `[discord]` or
`[telegram]` is a known table of the file only once its adapter said so, and is then checked at
load by that adapter's own validator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

# An adapter's check of its section's options (every key but `token_env`); it raises the
# core's ConfigError naming the key and the fix, and its result is not kept.
Validator = Callable[[Mapping[str, Any]], object]
# token → (URL, headers) of the request the platform answers with the bot's own account.
Identify = Callable[[str], tuple[str, dict[str, str]]]


@dataclass(frozen=True, slots=True)
class PlatformSection:
    """What the configuration needs to know about one platform.

    `token_env` is the environment variable read for the token when the file names none;
    `answer_roles` the key of the section whose role names answer as staff on this platform
    without making a moderator; `table` is False for a platform without a section of the file
    (the console), which still names people in `staff.user_ids`. For `huitaine check`: `sdk`
    is the module the adapter needs installed, `token_shape` what a token looks like (with
    `token_hint` saying where to copy one), `identify` the request that names the bot.
    """

    name: str
    token_env: str = ""
    validate: Validator | None = None
    answer_roles: str | None = None
    table: bool = True
    sdk: str = ""
    token_shape: re.Pattern[str] | None = None
    token_hint: str = ""
    identify: Identify | None = None


_SECTIONS: dict[str, PlatformSection] = {}


def register(section: PlatformSection) -> None:
    """Make `section` known; registering the same section again changes nothing."""
    known = _SECTIONS.get(section.name)
    if known is not None and known != section:
        # Two adapters claiming one name would silently validate one's keys with the other's
        # rules: a programming error, refused at import.
        raise RuntimeError(f"platform {section.name!r} is registered twice, differently")
    _SECTIONS[section.name] = section


def sections() -> Mapping[str, PlatformSection]:
    """Every registered platform, by name, in the order they were registered."""
    return MappingProxyType(dict(_SECTIONS))


def tables() -> Mapping[str, PlatformSection]:
    """The registered platforms that have a section of the file."""
    return MappingProxyType({name: s for name, s in _SECTIONS.items() if s.table})
