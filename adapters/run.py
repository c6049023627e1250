"""`huitaine run`: the live bot, with every configured platform on one event loop."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
from typing import Any

import adapters.sections  # noqa: F401  (registers each platform's section of the file)
from bot import platforms
from bot.adapter import Adapter, PlatformSetupError
from bot.app import Huitaine
from bot.config import Config, ConfigError
from bot.metrics import HEARTBEAT_S, Metrics, MetricsServer, require_client
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)


def chosen_platforms(config: Config, requested: list[str]) -> list[str]:
    """The platforms to start: those asked for, else every one whose token is set."""
    known = tuple(platforms.tables())
    names = requested or [
        name for name in known if os.environ.get(config.platforms[name].token_env)
    ]
    if not names:
        variables = " or ".join(config.platforms[name].token_env for name in known)
        raise ConfigError(
            " / ".join(f"{name}.token_env" for name in known),
            f"no bot token in the environment ({variables} is unset)",
            "export the token, e.g. `export TELEGRAM_TOKEN=123:abc`, and run again; "
            "try `huitaine console` to use Huitaine without a platform",
        )
    for name in names:
        if name not in known:
            raise ConfigError(
                "--platform", f"unknown platform {name!r}", f"use {' or '.join(known)}"
            )
        if not os.environ.get(config.platforms[name].token_env):
            env = config.platforms[name].token_env
            raise ConfigError(f"{name}.token_env", f"${env} is not set", f"export {env}=…")
    return names


def load_platform(name: str) -> Any:
    """The adapter package of `name`; a clear error when its extra is not installed."""
    try:
        # The SDK glue itself: a missing extra shows here, before any database is opened.
        importlib.import_module(f"adapters.{name}.bot")
        return importlib.import_module(f"adapters.{name}")
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.startswith("adapters"):
            raise  # our own package is broken: a bug, not a missing extra
        raise PlatformSetupError(
            f"{name} needs the {exc.name!r} package, which is not installed. "
            f"Fix: pip install 'huitaine[{name}]' (from a clone: pip install -e '.[{name}]')"
        ) from None


async def run(
    config: Config,
    requested: list[str],
    *,
    database: str | None = None,
    tick_every: float = 60.0,
    metrics_address: tuple[str, int] | None = None,
) -> int:
    """Start the adapters, the scheduler and wait for a stop signal; then stop cleanly."""
    names = chosen_platforms(config, requested)
    # Imported before the database is opened: a missing extra stops start-up with nothing open.
    modules = [load_platform(name) for name in names]
    if metrics_address is not None:
        require_client()
    runtime = Runtime(Huitaine(config, database=database))
    try:
        server = _serve_metrics(runtime, metrics_address) if metrics_address else None
    except BaseException:
        await runtime.close()
        raise
    adapters: list[Adapter] = []
    for module in modules:
        adapter = module.build(config, runtime)
        runtime.register(adapter)
        adapters.append(adapter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    connected: list[Adapter] = []
    try:
        for adapter in adapters:
            await adapter.connect()
            connected.append(adapter)
            listener = runtime.spawn(f"{adapter.name}-listen", adapter.listen())
            # A platform whose listener dies takes the whole bot down, loudly, rather than
            # leaving it half deaf.
            listener.add_done_callback(lambda _task: stop.set())
        runtime.spawn("scheduler", runtime.run_scheduler(every=tick_every))
        _LOGGER.info("Huitaine is listening on %s", ", ".join(names))
        await stop.wait()
    finally:
        for adapter in connected:
            try:
                await adapter.disconnect()
            except Exception:
                _LOGGER.exception("%s did not disconnect cleanly", adapter.name)
        await runtime.close()
        if server is not None:
            server.stop()
    return 0


def _serve_metrics(runtime: Runtime, address: tuple[str, int]) -> MetricsServer:
    """Count, time and serve /metrics and /healthz; the loop's heartbeat is a named task."""
    metrics = Metrics(runtime.core.store.path, runtime.core.clock)
    metrics.instrument(runtime)
    try:
        server = MetricsServer(metrics, *address)
    except OSError as exc:
        raise PlatformSetupError(
            f"metrics cannot listen on {address[0]}:{address[1]} ({exc.strerror or exc}). "
            "Fix: choose another --metrics-port"
        ) from None
    server.start()

    async def heartbeat() -> None:
        while True:
            metrics.beat()
            await asyncio.sleep(HEARTBEAT_S)

    runtime.spawn("health-heartbeat", heartbeat())
    return server
