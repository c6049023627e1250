"""Discord adapter: gateway events in, review cards and approved replies out (discord.py 2.7).

The pure parts (`convert`, `ids`, `settings`, `texts`) import no SDK; `bot` and `render` hold the
discord.py glue. `build(config, runtime)` is the factory the runner calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.discord.bot import DiscordAdapter
    from bot.config import Config
    from bot.runtime import Runtime

__all__ = ["build"]


def build(config: Config, runtime: Runtime) -> DiscordAdapter:
    """Validate the `[discord]` options and return an adapter registered with `runtime`."""
    # Imported here so that `adapters.discord.convert` and friends load without discord.py.
    from adapters.discord.bot import build as _build

    return _build(config, runtime)
