"""Health and Prometheus metrics for `huitaine run`: off by default, on 127.0.0.1 when on.

Figures that must survive a restart (cases by state, overdue cases, first-response times, the
outcome of every reply) are read from the database at each scrape, through a read-only
connection of the HTTP thread: the event loop and the core's worker never wait for a scrape.
Figures of this process (messages ingested, detector latency, sends) are counted as they happen.
Needs the `metrics` extra (prometheus-client).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.clock import Clock, to_db
from bot.deadlines import WAITING_STATES
from bot.errors import UserError

try:
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    HAVE_CLIENT = True
except ImportError:  # reported by require_client() when metrics are asked for
    HAVE_CLIENT = False

_LOGGER = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
# First-response buckets in seconds: 5 min, 15 min, 1 h, 4 h, 24 h, 48 h, 7 days.
RESPONSE_BUCKETS = (300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0, 2 * 86400.0, 7 * 86400.0)
DETECT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# The event loop beats every HEARTBEAT_S; three beats missed and /healthz says so.
HEARTBEAT_S = 15.0
STALE_AFTER_S = 3 * HEARTBEAT_S


class MetricsUnavailable(UserError, ValueError):
    """Metrics were asked for but prometheus-client is not installed."""


def require_client() -> None:
    """Fail with the install command when prometheus-client is missing."""
    if not HAVE_CLIENT:
        raise MetricsUnavailable(
            "metrics need the prometheus-client package. Fix: pip install 'huitaine[metrics]'"
        )


class StoreCollector:
    """Reads the durable figures from the SQLite file at each scrape."""

    def __init__(self, database: str, clock: Clock) -> None:
        """Read `database` (a file path); `clock` says what "overdue" means now."""
        self.database = database
        self.clock = clock

    def _connect(self) -> sqlite3.Connection:
        # Read-only, and opened per scrape in the scraping thread: nothing is shared with the
        # core's connection and a scrape can never write.
        if self.database.startswith(("postgresql://", "postgres://")):
            from bot.storage_pg import read_only

            return read_only(self.database)  # type: ignore[return-value]  # sqlite3's methods
        return sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)

    def ping(self) -> None:
        """Raise sqlite3.Error when the database cannot be read."""
        with _closing(self._connect()) as conn:
            conn.execute("SELECT COUNT(*) FROM cases").fetchone()

    def collect(self) -> Iterator[Metric]:
        """The Prometheus families: cases by state and kind, overdue, first response, replies."""
        try:
            with _closing(self._connect()) as conn:
                yield from self._families(conn)
        except sqlite3.Error as exc:
            # A scrape during a migration or on a missing file: say so, do not crash the server.
            _LOGGER.warning("metrics: database not readable: %s", exc)

    def _families(self, conn: sqlite3.Connection) -> Iterator[Metric]:
        cases = GaugeMetricFamily(
            "huitaine_cases", "Cases by state and kind.", labels=["state", "kind"]
        )
        for state, kind, count in conn.execute(
            "SELECT state, kind, COUNT(*) FROM cases GROUP BY state, kind"
        ):
            cases.add_metric([state, kind], count)
        yield cases
        now = to_db(self.clock.now())
        waiting = ", ".join("?" for _ in WAITING_STATES)
        (overdue,) = conn.execute(
            f"SELECT COUNT(*) FROM cases WHERE state IN ({waiting}) AND due_at < ?",
            (*WAITING_STATES, now),
        ).fetchone()
        yield GaugeMetricFamily(
            "huitaine_cases_overdue",
            "Cases still waiting past the one-week limit.",
            value=overdue,
        )
        yield self._first_response(conn)
        replies = GaugeMetricFamily(
            "huitaine_replies", "Approved replies by send state.", labels=["state"]
        )
        for state, count in conn.execute("SELECT state, COUNT(*) FROM outgoing GROUP BY state"):
            replies.add_metric([state], count)
        yield replies

    def _first_response(self, conn: sqlite3.Connection) -> Metric:
        # Buckets counted in SQL: one pass over the answered cases, whatever their number.
        columns = ", ".join(
            f"SUM(CASE WHEN seconds <= {bound} THEN 1 ELSE 0 END)" for bound in RESPONSE_BUCKETS
        )
        row = conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(seconds), 0), {columns} FROM ("
            " SELECT (julianday(first_response_at) - julianday(opened_at)) * 86400 AS seconds"
            " FROM cases WHERE first_response_at IS NOT NULL) AS answered"
        ).fetchone()
        total, seconds, *within = row
        buckets = [(_bound(b), n or 0) for b, n in zip(RESPONSE_BUCKETS, within, strict=True)]
        buckets.append(("+Inf", total))
        return HistogramMetricFamily(
            "huitaine_first_response_seconds",
            "Time from a case's opening to its first answer.",
            buckets=buckets,
            sum_value=seconds,
        )


def _bound(value: float) -> str:
    return f"{value:g}"


class _closing:
    """`contextlib.closing` for a connection, typed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


class Metrics:
    """The registry, the process counters, and the health state of one `huitaine run`."""

    def __init__(
        self,
        database: str,
        clock: Clock,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Collect from `database`; `monotonic` is injected so tests move time."""
        require_client()
        self.registry = CollectorRegistry()
        self.store = StoreCollector(database, clock)
        self.registry.register(self.store)
        self.monotonic = monotonic
        self.last_beat = monotonic()
        self.ingested = Counter(
            "huitaine_messages_ingested",
            "Messages received from the platforms, by outcome.",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.detect_seconds = Histogram(
            "huitaine_detector_seconds",
            "Time the detector took per batch.",
            buckets=DETECT_BUCKETS,
            registry=self.registry,
        )
        self.sends = Counter(
            "huitaine_sends",
            "Approved replies handed to a platform, by outcome (sent, failed, unconfirmed).",
            ["platform", "outcome"],
            registry=self.registry,
        )

    def beat(self) -> None:
        """The event loop is alive (called by a background task every HEARTBEAT_S)."""
        self.last_beat = self.monotonic()

    def health(self) -> tuple[bool, str]:
        """Whether the bot is healthy, and why not."""
        silent = self.monotonic() - self.last_beat
        if silent > STALE_AFTER_S:
            return False, f"event loop silent for {silent:.0f} s"
        try:
            self.store.ping()
        except sqlite3.Error as exc:
            return False, f"database not readable: {exc}"
        return True, "ok"

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return bytes(generate_latest(self.registry))

    def instrument(self, runtime: Any) -> None:
        """Count what `runtime` ingests and sends, and time its detector, from now on."""
        ingest = runtime.ingest
        send = runtime.send

        @functools.wraps(ingest)
        async def counted_ingest(message: Any) -> Any:
            result = await ingest(message)
            self.ingested.labels(message.platform, result.outcome.value).inc()
            return result

        @functools.wraps(send)
        async def counted_send(item: Any) -> Any:
            result = await send(item)
            self.sends.labels(item.platform, result.state.value).inc()
            return result

        runtime.ingest = counted_ingest
        runtime.send = counted_send
        self._time_detector(runtime.core.detector)

    def _time_detector(self, detector: Any) -> None:
        batch = detector.detect_batch

        @functools.wraps(batch)
        def timed_batch(texts: Iterable[str]) -> Any:
            with self.detect_seconds.time():
                return batch(texts)

        detector.detect_batch = timed_batch
        detect_async = getattr(detector, "detect_async", None)
        if detect_async is not None:

            @functools.wraps(detect_async)
            async def timed_async(texts: Iterable[str], **options: Any) -> Any:
                start = time.perf_counter()
                try:
                    return await detect_async(texts, **options)
                finally:
                    self.detect_seconds.observe(time.perf_counter() - start)

            detector.detect_async = timed_async


class MetricsServer:
    """`/metrics` and `/healthz` over HTTP, on a daemon thread of its own."""

    def __init__(self, metrics: Metrics, host: str = DEFAULT_HOST, port: int = 0) -> None:
        """Bind now (port 0 picks a free one); serving starts with `start`."""
        handler = _handler(metrics)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="huitaine-metrics", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        """The host and port actually bound."""
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Serve in the background."""
        self.thread.start()
        host, port = self.address
        _LOGGER.info("metrics on http://%s:%d/metrics, health on /healthz", host, port)

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _handler(metrics: Metrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, metrics.exposition())
            elif path in ("/healthz", "/health"):
                healthy, reason = metrics.health()
                self._reply(200 if healthy else 503, "text/plain; charset=utf-8", reason.encode())
            else:
                self._reply(404, "text/plain; charset=utf-8", b"try /metrics or /healthz")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Scrapes every 15 s would flood the log; errors still go through log_error.
            return

    return Handler
