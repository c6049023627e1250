"""The asynchronous side of the core: one worker thread for blocking work, owned tasks, sending."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from bot.app import Huitaine
from bot.ingest import IngestResult, Outcome
from bot.models import Actor, Case, Detection, Message, Notice, Outgoing
from bot.privacy import RetentionJob

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")


class PlatformSetupError(RuntimeError):
    """A platform cannot be used as configured; the message says what to change."""


class SendFailed(Exception):
    """The platform refused the reply outright: nothing was posted, it may be approved again."""


class Platform(Protocol):
    """What an adapter offers the runtime for everything that goes out."""

    name: str

    async def send_reply(self, item: Outgoing) -> str:
        """Post an approved reply; return the platform's message id.

        Raise SendFailed when the platform surely did not post it; any other exception means
        "maybe posted", and the reply waits for a moderator to confirm it.
        """
        ...

    async def show_case(self, case: Case) -> None:
        """Post or update the case's review card in the moderators' place."""
        ...

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation to the moderators."""
        ...

    # Optional: `async def post_digest(self, text: str) -> None` posts the weekly digest.


class Runtime:
    """Runs the blocking core off the event loop and owns the background tasks."""

    def __init__(self, core: Huitaine) -> None:
        """Wrap `core`; every call to it goes through one worker thread, in order."""
        self.core = core
        # One thread: SQLite work is serialised and never blocks the event loop.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huitaine-core")
        self._platforms: dict[str, Platform] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._order = _Turnstile()
        self._retention = RetentionJob(core.store, core.config.retention)

    def register(self, platform: Platform) -> None:
        """Route outbound actions for `platform.name` to this adapter."""
        self._platforms[platform.name] = platform

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking core function on the worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def ingest(self, message: Message) -> IngestResult:
        """Ingest a message and show the cases it opened or changed to the moderators.

        Messages are stored and then processed in the order they arrived, but the detection
        in between runs concurrently: several messages in flight share the model's batches,
        and a staff reply is never processed before the question it answers.
        """
        ticket = self._order.take()
        try:
            stored = await self.call(self.core.ingestor.store_new, message)
            detection = await self._detect(stored) if stored is not None else None
        except BaseException:
            await self._order.abandon(ticket)
            raise
        async with self._order.turn(ticket):
            if stored is None:
                result = IngestResult(Outcome.DUPLICATE)
            else:
                result = await self.call(self.core.ingestor.process, stored, detection)
        await self._show(result)
        return result

    async def _detect(self, message: Message) -> Detection | None:
        detect_async = getattr(self.core.detector, "detect_async", None)
        if detect_async is None or not self.core.ingestor.needs_detection(message):
            return None  # processing scores it (cheap rules) or needs no score at all
        try:
            detections: list[Detection] = await detect_async([message.text])
        except Exception:
            _LOGGER.exception("batched detection failed; scoring message %s inline", message.key)
            return None
        return detections[0]

    async def edit(self, message: Message) -> IngestResult:
        """Apply an edit, in arrival order with the messages."""
        async with self._order.turn(self._order.take()):
            result = await self.call(self.core.edit, message)
        await self._show(result)
        return result

    async def delete(
        self, platform: str, community: str, channel: str, message_id: str
    ) -> IngestResult:
        """Apply a deletion, in arrival order with the messages."""
        async with self._order.turn(self._order.take()):
            result = await self.call(self.core.delete, platform, community, channel, message_id)
        await self._show(result)
        return result

    async def _show(self, result: IngestResult) -> None:
        if result.outcome in (Outcome.DUPLICATE, Outcome.IGNORED, Outcome.STORED):
            return
        for case_id in result.case_ids:
            await self.refresh(case_id)

    async def refresh(self, case_id: int) -> None:
        """Update the case's card wherever it is shown."""
        case = await self.call(self.core.cases.get, case_id)
        platform = self._platforms.get(case.platform)
        if platform is not None:
            await platform.show_case(case)

    async def approve_and_send(
        self, actor: Actor, case_id: int, *, text: str | None = None, suggestion_rank: int = 0
    ) -> Outgoing:
        """A moderator's approval: record it, send it once, record the outcome."""
        item = await self.call(
            self.core.review.approve, actor, case_id, text=text, suggestion_rank=suggestion_rank
        )
        return await self.send(item)

    async def send(self, item: Outgoing) -> Outgoing:
        """Send an outgoing reply already recorded as *sending*."""
        platform = self._platforms.get(item.platform)
        if platform is None:
            raise RuntimeError(f"no adapter registered for {item.platform!r}")
        try:
            platform_id = await platform.send_reply(item)
        except SendFailed as exc:
            _LOGGER.warning("reply #%d refused by %s: %s", item.id, item.platform, exc)
            result = await self.call(self.core.review.mark_failed, item.id, str(exc))
        except Exception:
            # Maybe posted, maybe not: a moderator must look before anything is sent again.
            _LOGGER.exception("reply #%d: outcome unknown; waiting for a moderator", item.id)
            result = await self.call(self.core.review.mark_unconfirmed, item.id)
        else:
            result = await self.call(self.core.review.mark_sent, item.id, platform_id)
        await self.refresh(item.case_id)
        return result

    async def tick(self) -> list[Notice]:
        """Run the scheduler once and deliver what is due; return the delivered notices."""
        notices = await self.call(self.core.tick)
        delivered = []
        for notice in notices:
            case = await self.call(self.core.cases.get, notice.case_id)
            platform = self._platforms.get(case.platform)
            if platform is None:
                continue
            try:
                await platform.post_notice(notice, case)
            except Exception:
                _LOGGER.exception("notice #%d not delivered; will retry", notice.id)
                continue
            await self.call(self.core.scheduler.mark_delivered, notice.id, self.core.clock.now())
            delivered.append(notice)
        await self._digest()
        # [retention]: at most once a day, after what the moderators are waiting for.
        await self.call(self._retention.run_if_due, self.core.clock.now())
        return delivered

    async def _digest(self) -> None:
        due = await self.call(self.core.digests.due, self.core.clock.now())
        if due is None:
            return
        week, text = due
        posted = False
        for platform in self._platforms.values():
            # Optional in the protocol: an adapter without a moderators' place skips it.
            post = getattr(platform, "post_digest", None)
            if post is None:
                continue
            try:
                await post(text)
                posted = True
            except Exception:
                _LOGGER.exception("weekly digest not posted to %s; will retry", platform.name)
        if posted:
            await self.call(self.core.digests.mark_delivered, week, self.core.clock.now())

    async def run_scheduler(self, every: float = 60.0) -> None:
        """Tick forever (a background task); a failed tick is logged and the loop goes on."""
        while True:
            try:
                await self.tick()
            except Exception:
                _LOGGER.exception("scheduler tick failed")
            await asyncio.sleep(every)

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start an owned, named background task whose failure is logged, never lost."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        """Cancel the background tasks, then close the core on its own thread."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.call(self.core.close)
        self._executor.shutdown(wait=True)


class _Turnstile:
    """Lets coroutines through one at a time in the order they took their tickets.

    A ticket whose holder failed or was cancelled before its turn is skipped, so one failure
    never stalls the messages behind it.
    """

    def __init__(self) -> None:
        self._next = 0
        self._serving = 0
        self._abandoned: set[int] = set()
        self._changed = asyncio.Condition()

    def take(self) -> int:
        """A ticket: the position in line."""
        ticket, self._next = self._next, self._next + 1
        return ticket

    async def abandon(self, ticket: int) -> None:
        """Give up a ticket before its turn."""
        async with self._changed:
            self._abandoned.add(ticket)
            self._skip_abandoned()

    def _skip_abandoned(self) -> None:
        # Called with the condition held.
        while self._serving in self._abandoned:
            self._abandoned.discard(self._serving)
            self._serving += 1
        self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def turn(self, ticket: int) -> AsyncIterator[None]:
        """Wait for `ticket`'s turn, run the block, then let the next one through."""
        try:
            async with self._changed:
                await self._changed.wait_for(lambda: self._serving == ticket)
        except BaseException:
            await self.abandon(ticket)
            raise
        try:
            yield
        finally:
            async with self._changed:
                self._serving += 1
                self._skip_abandoned()
