"""Run Huitaine on Discord: `python -m adapters.discord --config config.toml`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from adapters.discord.bot import DiscordSetupError, build
from adapters.discord.settings import parse_settings
from bot.app import Huitaine
from bot.config import Config, ConfigError, load_config
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)


async def run(config: Config, *, database: str | None = None) -> None:
    """Connect, run the scheduler and the gateway until stopped; close everything after."""
    parse_settings(config)  # a wrong [discord] table stops us before the database is opened
    runtime = Runtime(Huitaine(config, database=database or config.storage.database))
    adapter = build(config, runtime)
    try:
        await adapter.connect()
        runtime.spawn("scheduler", runtime.run_scheduler())
        await adapter.listen()
    finally:
        await adapter.disconnect()
        await runtime.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit code 2 for a configuration or Discord set-up problem."""
    parser = argparse.ArgumentParser(prog="python -m adapters.discord", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the TOML configuration")
    parser.add_argument("--db", help="SQLite file (default: storage.database)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(run(load_config(args.config), database=args.db))
    except (ConfigError, DiscordSetupError) as exc:
        print(f"huitaine: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _LOGGER.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
