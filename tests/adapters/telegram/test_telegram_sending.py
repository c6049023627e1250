"""Retry only what surely did not reach Telegram; the admin cache's bounded lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.telegram.admins import RETRY_AFTER_FAILURE, AdminCache
from adapters.telegram.sending import (
    Refused,
    Verdict,
    call_once,
    classify,
    retry_after_seconds,
)
from bot.clock import ManualClock


def caused(exc: TelegramError, cause: BaseException) -> TelegramError:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "verdict"),
    [
        (RetryAfter(3), Verdict.RETRY),
        (BadRequest("Bad Request: chat not found"), Verdict.REFUSED),
        (Forbidden("Forbidden: bot was kicked from the supergroup chat"), Verdict.REFUSED),
        (ChatMigrated(-1009), Verdict.REFUSED),
        (caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused")), Verdict.RETRY),
        (caused(TimedOut(), httpx.ConnectTimeout("slow dns")), Verdict.RETRY),
        (caused(TimedOut("Pool timeout"), httpx.PoolTimeout("busy")), Verdict.RETRY),
        # Once the request may have been written, Telegram may have posted the message.
        (caused(TimedOut(), httpx.ReadTimeout("no answer")), Verdict.UNCERTAIN),
        (caused(TimedOut(), httpx.WriteTimeout("half sent")), Verdict.UNCERTAIN),
        (
            caused(NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("gone")),
            Verdict.UNCERTAIN,
        ),
        (NetworkError("Bad Gateway"), Verdict.UNCERTAIN),
        (ValueError("what?"), Verdict.UNCERTAIN),
    ],
)
def test_classify(exc: BaseException, verdict: Verdict) -> None:
    assert classify(exc) is verdict


def test_retry_after_is_read_without_a_deprecation_warning() -> None:
    # filterwarnings = error: reading retry_after the plain way would fail this test.
    assert retry_after_seconds(RetryAfter(7)) == 7.0


class Script:
    """An action that fails as told, then succeeds; and a sleep that only records."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.slept: list[float] = []

    async def action(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "posted"

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def run(self, **kw: float) -> Awaitable[str]:
        return call_once(self.action, what="test", sleep=self.sleep, **kw)  # type: ignore[arg-type]


async def test_flood_control_waits_as_asked_then_posts_once() -> None:
    script = Script(RetryAfter(2), RetryAfter(1))
    assert await script.run() == "posted"
    assert script.calls == 3
    assert script.slept == [2.0, 1.0]


async def test_a_wait_too_long_is_a_refusal() -> None:
    script = Script(RetryAfter(3600))
    with pytest.raises(Refused, match="flood control"):
        await script.run(max_wait=60)
    assert script.calls == 1


async def test_connect_errors_back_off_then_give_up() -> None:
    errors = [caused(NetworkError("x"), httpx.ConnectError("refused")) for _ in range(4)]
    script = Script(*errors)
    with pytest.raises(Refused, match="after 4 attempts"):
        await script.run()
    assert script.calls == 4
    assert script.slept == [0.5, 2.0, 5.0]


async def test_an_uncertain_failure_is_never_retried() -> None:
    script = Script(caused(TimedOut(), httpx.ReadTimeout("no answer")))
    with pytest.raises(TimedOut):
        await script.run()
    assert script.calls == 1
    assert script.slept == []


async def test_a_refusal_is_not_retried() -> None:
    script = Script(BadRequest("Bad Request: message text is empty"))
    with pytest.raises(Refused, match="Message text is empty"):
        await script.run()
    assert script.calls == 1


def fetcher(answers: list[dict[int, str] | Exception]) -> tuple[Callable[..., object], list[int]]:
    calls: list[int] = []

    async def fetch(chat_id: int) -> dict[int, str]:
        calls.append(chat_id)
        await asyncio.sleep(0)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return fetch, calls


async def test_admins_are_kept_for_their_lifetime_only(clock: ManualClock) -> None:
    fetch, calls = fetcher([{1: "creator"}, {1: "creator", 2: "administrator"}])
    cache = AdminCache(fetch, timedelta(minutes=10), clock.now)  # type: ignore[arg-type]
    assert dict(await cache.statuses(-100)) == {1: "creator"}
    clock.advance(timedelta(minutes=9))
    assert dict(await cache.statuses(-100)) == {1: "creator"}
    assert calls == [-100]
    clock.advance(timedelta(minutes=2))
    assert dict(await cache.statuses(-100)) == {1: "creator", 2: "administrator"}
    assert calls == [-100, -100]


async def test_a_burst_fetches_once(clock: ManualClock) -> None:
    fetch, calls = fetcher([{1: "creator"}])
    cache = AdminCache(fetch, timedelta(minutes=10), clock.now)  # type: ignore[arg-type]
    results = await asyncio.gather(*(cache.statuses(-100) for _ in range(20)))
    assert all(dict(r) == {1: "creator"} for r in results)
    assert calls == [-100]


async def test_a_failed_fetch_keeps_what_was_known_and_retries_soon(clock: ManualClock) -> None:
    fetch, calls = fetcher([{1: "creator"}, NetworkError("down"), {1: "creator", 3: "creator"}])
    cache = AdminCache(fetch, timedelta(minutes=10), clock.now)  # type: ignore[arg-type]
    await cache.statuses(-100)
    clock.advance(timedelta(minutes=11))
    assert dict(await cache.statuses(-100)) == {1: "creator"}  # stale beats nobody
    clock.advance(RETRY_AFTER_FAILURE + timedelta(seconds=1))
    assert dict(await cache.statuses(-100)) == {1: "creator", 3: "creator"}
    assert len(calls) == 3


async def test_unknown_chat_after_a_failure_has_no_admins(clock: ManualClock) -> None:
    fetch, _ = fetcher([Forbidden("Forbidden: bot is not a member of the supergroup chat")])
    cache = AdminCache(fetch, timedelta(minutes=10), clock.now)  # type: ignore[arg-type]
    assert dict(await cache.statuses(-100)) == {}
