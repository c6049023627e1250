"""Health and Prometheus metrics, scraped over a real HTTP GET on loopback."""

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.metrics import STALE_AFTER_S, Metrics, MetricsServer
from bot.runtime import Runtime
from huitaine.cli import build_parser
from tests.conftest import MessageFactory


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def served(core: Huitaine, clock: ManualClock) -> Iterator[tuple[Metrics, str, FakeMonotonic]]:
    monotonic = FakeMonotonic()
    metrics = Metrics(core.store.path, clock, monotonic=monotonic)
    server = MetricsServer(metrics, "127.0.0.1", 0)
    server.start()
    host, port = server.address
    yield metrics, f"http://{host}:{port}", monotonic
    server.stop()


def test_metrics_show_cases_overdue_and_first_responses(
    served: tuple[Metrics, str, FakeMonotonic],
    core: Huitaine,
    clock: ManualClock,
    msg: MessageFactory,
) -> None:
    _, base, _ = served
    core.ingest(msg("my order never arrived, still nothing", id="m1"))
    core.ingest(msg("how do I reset my password?", author="u-bob", name="Bob", id="m2"))
    clock.advance(timedelta(minutes=10))
    core.ingest(msg("sorted, check your inbox", author="s1", name="Sam", staff=True,
                    reply_to="m2", id="r1"))  # fmt: skip
    clock.advance(timedelta(days=8))
    status, body = get(f"{base}/metrics")
    assert status == 200
    assert 'huitaine_cases{kind="complaint",state="suggested"} 1.0' in body
    assert 'huitaine_cases{kind="question",state="answered"} 1.0' in body
    assert "huitaine_cases_overdue 1.0" in body
    assert 'huitaine_first_response_seconds_bucket{le="900"} 1.0' in body
    assert 'huitaine_first_response_seconds_bucket{le="300"} 0.0' in body
    assert "huitaine_first_response_seconds_count 1.0" in body
    assert "huitaine_detector_seconds_count 0.0" in body


def test_health_is_ok_then_503_when_the_loop_stops_beating(
    served: tuple[Metrics, str, FakeMonotonic],
) -> None:
    metrics, base, monotonic = served
    assert get(f"{base}/healthz") == (200, "ok")
    monotonic.now += STALE_AFTER_S + 1
    status, text = get(f"{base}/healthz")
    assert status == 503
    assert "event loop silent" in text
    metrics.beat()
    assert get(f"{base}/healthz") == (200, "ok")
    assert get(f"{base}/nothing")[0] == 404


class Sent:
    name = "discord"

    def __init__(self) -> None:
        self.cards: list[Any] = []

    async def send_reply(self, item: Any) -> str:
        return "p-1"

    async def show_case(self, view: Any) -> None:
        self.cards.append(view.case)

    async def post_notice(self, notice: Any, case: Any) -> None:
        return None


async def test_runtime_counts_ingested_messages_sends_and_detector_time(
    served: tuple[Metrics, str, FakeMonotonic], core: Huitaine, msg: MessageFactory
) -> None:
    metrics, base, _ = served
    runtime = Runtime(core)
    runtime.register(Sent())
    metrics.instrument(runtime)
    await runtime.ingest(msg("my order never arrived, still nothing", id="m1"))
    await runtime.ingest(msg("my order never arrived, still nothing", id="m1"))
    from tests.conftest import MOD

    await runtime.approve_and_send(MOD, 1)
    _, body = get(f"{base}/metrics")
    assert 'huitaine_messages_ingested_total{outcome="opened",platform="discord"} 1.0' in body
    assert 'huitaine_messages_ingested_total{outcome="duplicate",platform="discord"} 1.0' in body
    assert 'huitaine_sends_total{outcome="sent",platform="discord"} 1.0' in body
    assert 'huitaine_replies{state="sent"} 1.0' in body
    assert "huitaine_detector_seconds_count 1.0" in body
    await runtime.close()


def test_metrics_are_off_by_default_and_local_when_on() -> None:
    args = build_parser().parse_args(["run"])
    assert args.metrics_port is None
    args = build_parser().parse_args(["run", "--metrics-port", "9108"])
    assert (args.metrics_host, args.metrics_port) == ("127.0.0.1", 9108)


def test_metrics_without_the_package_name_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.metrics
    from huitaine.cli import main

    monkeypatch.setattr(bot.metrics, "HAVE_CLIENT", False)
    monkeypatch.setenv("TELEGRAM_TOKEN", "123456:abcdefghijklmnopqrstuvwxyzABCDEFGHI")
    code = main(["run", "--metrics-port", "9108", "--db", str(tmp_path / "h.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'huitaine[metrics]'" in err
    assert not (tmp_path / "h.db").exists()


async def test_run_serves_health_and_refuses_a_port_in_use_clearly(core: Huitaine) -> None:
    import asyncio

    from adapters.run import _serve_metrics
    from bot.adapter import PlatformSetupError

    runtime = Runtime(core)
    server = _serve_metrics(runtime, ("127.0.0.1", 0))
    host, port = server.address
    assert host == "127.0.0.1"
    status, text = await asyncio.to_thread(get, f"http://{host}:{port}/healthz")
    assert (status, text) == (200, "ok")
    with pytest.raises(PlatformSetupError, match=f"cannot listen on 127.0.0.1:{port}"):
        _serve_metrics(runtime, ("127.0.0.1", port))
    server.stop()
    await runtime.close()
