"""Importing this module registers every platform's section of the configuration file.

The CLI and the runner import it before reading the file, so `[discord]` and `[telegram]` are
known tables checked by their adapters' own validators (`bot.platforms`). The settings modules
load without any platform SDK.
"""

from __future__ import annotations

from bot import platforms

# Imported for their registration alone, in the order `huitaine run` starts the platforms and
# `huitaine check` lists them.
# isort: off
from adapters.telegram import settings as _telegram_settings  # noqa: F401
from adapters.discord import settings as _discord_settings  # noqa: F401

# isort: on

# The console has no section of the file, but its people are named `console:id` in
# `staff.user_ids` like any platform's.
platforms.register(platforms.PlatformSection("console", table=False))
