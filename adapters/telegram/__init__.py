"""Telegram adapter: python-telegram-bot in, review cards in the moderators' chat, replies out.

The pure parts (`links`, `settings`, `texts`) load without python-telegram-bot; `bot`, `convert`
and `keyboard` hold the SDK glue. `build(config, runtime)` is the factory the runner calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.telegram.bot import TelegramAdapter
    from bot.config import Config
    from bot.runtime import Runtime

__all__ = ["TelegramAdapter", "build"]


def build(config: Config, runtime: Runtime, **options: Any) -> TelegramAdapter:
    """Validate the `[telegram]` options and return an adapter registered with `runtime`."""
    # Imported here so that `adapters.telegram.links` and friends load without the SDK.
    from adapters.telegram.bot import build as _build

    return _build(config, runtime, **options)


def __getattr__(name: str) -> Any:
    if name == "TelegramAdapter":
        from adapters.telegram.bot import TelegramAdapter

        return TelegramAdapter
    raise AttributeError(name)
