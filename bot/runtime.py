"""The asynchronous side of the core: one worker thread for blocking work, owned tasks, sending."""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from bot.adapter import Adapter, SendFailed
from bot.app import Huitaine
from bot.clock import Clock
from bot.config import community_key
from bot.detect.retrain import learner_for
from bot.ingest import IngestResult, Outcome
from bot.models import Actor, Detection, Message, Notice, Outgoing, SendState
from bot.privacy import RetentionJob
from bot.review import Review

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
# How many messages may wait for the model detector before new ones are scored by the rules.
DETECT_BACKLOG = 256
# Messages in progress (stored, not yet through processing) before `admit` waits for room: the
# platform keeps the rest, so memory stays bounded however far behind the bot is.
MAX_BACKLOG = 1_000
# Seconds between two log lines about the same back-pressure: a burst gives a few, not thousands.
PRESSURE_LOG_EVERY = 60.0
# Events held in memory while the database cannot take them (about 2 KB each at most).
MAX_HELD = 50_000
# Seconds between attempts to store held events: quick at first, then every 10 s.
HOLD_BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
_UNAVAILABLE = ("locked", "busy", "full", "disk i/o", "readonly", "unable to open")


def database_unavailable(exc: BaseException) -> bool:
    """True for SQLite errors that mean "not now" (locked, disk full), not a bug in a query."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return any(word in text for word in _UNAVAILABLE)


def settle_send(review: Review, item: Outgoing, outcome: str | Exception) -> Outgoing:
    """Record what an adapter's `send_reply` gave: the one rule for every platform.

    A platform id: *sent*. SendFailed: *failed* (surely not posted; it may be approved again).
    Any other error: *unconfirmed* (maybe posted): a moderator must look before anything is
    sent again. Runs on the core's thread (`Runtime.send`), or inline in the console.
    """
    if isinstance(outcome, SendFailed):
        _LOGGER.warning("reply #%d refused by %s: %s", item.id, item.platform, outcome)
        return review.mark_failed(item.id, str(outcome))
    if isinstance(outcome, Exception):
        # A dropped connection is weather, not a bug: one line; the traceback at debug level.
        _LOGGER.warning(
            "reply #%d: %s: %s; outcome unknown, waiting for a moderator",
            item.id,
            type(outcome).__name__,
            outcome,
        )
        _LOGGER.debug("reply #%d send failed", item.id, exc_info=outcome)
        return review.mark_unconfirmed(item.id)
    return review.mark_sent(item.id, outcome)


@dataclass(frozen=True, slots=True)
class _Event:
    """An inbound event held until the database takes it."""

    kind: str  # "ingest", "admit", "edit" or "delete"
    args: tuple[Any, ...]


class Runtime:
    """Runs the blocking core off the event loop and owns the background tasks."""

    def __init__(
        self,
        core: Huitaine,
        *,
        detect_backlog: int = DETECT_BACKLOG,
        max_backlog: int = MAX_BACKLOG,
        max_held: int = MAX_HELD,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Wrap `core`; every call to it goes through one worker thread, in order.

        `detect_backlog` is how many messages may wait for the model at once; beyond it, new
        messages are scored by the rules (explicit back-pressure, logged) so a burst never
        piles up behind inference. `max_backlog` bounds the messages `admit` lets in before
        their processing. `max_held` bounds the events held in memory while the database is
        unavailable; `sleep` waits between retries (injected in tests). Back-pressure log
        lines are rate-limited on the core's clock.
        """
        self.core = core
        self.max_held = max_held
        self._sleep = sleep
        self._held: collections.deque[_Event] = collections.deque()
        self._room = asyncio.Event()
        self._full_logged = False
        self._held_since = 0.0
        self.detect_backlog = detect_backlog
        self.max_backlog = max_backlog
        self._detecting = 0
        self._shedding = False
        self.scored_by_rules = 0  # messages the back-pressure sent to the rules, for benches
        self._shed_reported = 0  # of those, how many a log line has mentioned
        self._shed_log = _Every(PRESSURE_LOG_EVERY, core.clock)
        self._full_log = _Every(PRESSURE_LOG_EVERY, core.clock)
        self._draft_log = _Every(PRESSURE_LOG_EVERY, core.clock)
        self._admission = asyncio.Lock()  # FIFO: callers waiting for room keep their order
        self.through = 0  # events (messages, edits, deletions) through processing, for benches
        self._admitted: set[asyncio.Task[Any]] = set()  # admitted messages still in progress
        # One thread: SQLite work is serialised and never blocks the event loop.
        self._executor = _CoreThread("huitaine-core")
        self._platforms: dict[str, Adapter] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._order = _Sequencer(self.call)
        self._retention = RetentionJob(core.store, core.config.retention)
        # [learning]: the model detector's head is refitted from decisions on its own thread.
        self._learner = learner_for(core.detector, core.config, core.store.path)
        self.learning: asyncio.Task[Any] | None = None

    def register(self, platform: Adapter) -> None:
        """Route outbound actions for `platform.name` to this adapter."""
        self._platforms[platform.name] = platform

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking core function on the worker thread."""
        work = functools.partial(fn, *args, **kwargs)
        return await asyncio.wrap_future(self._executor.submit(work))

    async def ingest(self, message: Message) -> IngestResult:
        """Ingest a message and show the cases it opened or changed to the moderators.

        Messages are stored and then processed in the order they arrived, but the detection
        in between runs concurrently: several messages in flight share the model's batches,
        and a staff reply is never processed before the question it answers. A message that
        cannot be stored now (database locked, disk full) is held and retried, never dropped.
        """
        return await self._or_hold(_Event("ingest", (message,)))

    async def admit(self, message: Message) -> IngestResult:
        """Take a new message in and return as soon as it is stored; the rest follows in order.

        For platforms that hand over one update at a time (Telegram): waiting for detection and
        the card before taking the next message would cap the bot at one message per forward
        pass, and leave the model nothing to batch. The message is committed (or held, if the
        database is down) before this returns, so confirming it to the platform loses nothing;
        detection, processing and the card follow on an owned task, in arrival order, the
        messages in progress sharing the model's batches. With `max_backlog` messages already
        in progress it waits for room (the platform keeps the rest), and a log line says so.
        """
        async with self._admission:
            if self._order.waiting >= self.max_backlog:
                if self._full_log.due():
                    _LOGGER.warning(
                        "the bot is behind: %d messages in progress; new ones wait on the "
                        "platform until there is room (nothing is dropped)",
                        self._order.waiting,
                    )
                await self._order.below(self.max_backlog)
            # No await between here and taking the ticket: arrival order is kept.
            return await self._or_hold(_Event("admit", (message,)))

    async def _ingest_now(self, message: Message, *, background: bool = False) -> IngestResult:
        ticket = self._order.take()
        try:
            # Ahead of the processing and drafting queued on the core's thread: taking a message
            # in never waits for the messages before it to be processed.
            work = functools.partial(self.core.ingestor.store_new, message)
            stored = await asyncio.wrap_future(self._executor.submit(work, urgent=True))
        except BaseException:
            self._order.abandon(ticket)
            raise
        if not background:
            return await self._finish(ticket, stored)
        if stored is None:
            self._order.abandon(ticket)
            self.through += 1
            return IngestResult(Outcome.DUPLICATE)
        task = self.spawn(f"huitaine-ingest-{stored.id}", self._finish_quietly(ticket, stored))
        self._admitted.add(task)
        task.add_done_callback(self._admitted.discard)
        return IngestResult(Outcome.STORED)

    async def settle(self) -> None:
        """Wait until every admitted message is through processing and its cards are shown."""
        while self._admitted:
            await asyncio.gather(*list(self._admitted), return_exceptions=True)

    async def _finish_quietly(self, ticket: int, stored: Message) -> None:
        try:
            await self._finish(ticket, stored)
        except Exception:
            # Stored, so not lost: `tick` processes it again (`retry_failed`).
            _LOGGER.exception("message %s: processing or its card failed", stored.key)

    async def _finish(self, ticket: int, stored: Message | None) -> IngestResult:
        """Detect (concurrently), then process in ticket order, then show the cards."""
        try:
            detection = await self._detect(stored) if stored is not None else None
        except BaseException:
            self._order.abandon(ticket)
            raise
        try:
            if stored is None:
                self._order.abandon(ticket)
                result = IngestResult(Outcome.DUPLICATE)
            else:
                self._pace_drafts()
                work = functools.partial(self.core.ingestor.process, stored, detection)
                try:
                    result = await self._order.run(ticket, work)
                except Exception as exc:
                    if not database_unavailable(exc):
                        raise
                    # Stored, so not lost: the ingestor retries it at the next tick.
                    _LOGGER.warning(
                        "message %s stored; its processing waits for the database (%s)",
                        stored.key,
                        exc,
                    )
                    result = IngestResult(Outcome.STORED)
        finally:
            self.through += 1
        await self._show(result)
        return result

    async def _detect(self, message: Message) -> Detection | None:
        detect_async = getattr(self.core.detector, "detect_async", None)
        if detect_async is None or not self.core.ingestor.needs_detection(message):
            return None  # processing scores it (cheap rules) or needs no score at all
        rules = getattr(self.core.detector, "rules", None)
        if rules is not None and self._detecting >= self.detect_backlog:
            self._shedding = True
            self.scored_by_rules += 1
            if self._shed_log.due():
                _LOGGER.warning(
                    "detection is behind (%d messages waiting for the model): new messages "
                    "are scored by the rules until it catches up (%d so far)",
                    self._detecting,
                    self.scored_by_rules,
                )
                self._shed_reported = self.scored_by_rules
            scored: list[Detection] = await self.call(rules.detect_batch, [message.text])
            return scored[0]
        self._detecting += 1
        try:
            # Each community is scored with its own head (learned from its own decisions), by
            # a detector that keeps heads per community (`detect_for`).
            options = {}
            if hasattr(self.core.detector, "detect_for"):
                options["community"] = community_key(message.platform, message.community)
            detections: list[Detection] = await detect_async([message.text], **options)
        except Exception:
            _LOGGER.exception("batched detection failed; scoring message %s inline", message.key)
            return None
        finally:
            self._detecting -= 1
            if self._shedding and self._detecting <= self.detect_backlog // 2:
                self._shedding = False
                # Rate-limited with the "behind" line: a backlog hovering at the threshold
                # flips between the two at every message.
                if self._shed_log.due():
                    self._log_caught_up()
        return detections[0]

    def _pace_drafts(self) -> None:
        """Draft by keywords while processing is behind, by meaning again once it caught up.

        A draft by meaning is a forward pass of the retrieval model on the core's one thread:
        while hundreds of messages wait behind it, each pass holds them all up.
        """
        drafter = getattr(self.core.ingestor, "drafter", None)
        if drafter is None or getattr(drafter, "index", None) is None:
            return  # drafts by keywords anyway
        waiting = self._order.waiting
        if not drafter.hurried and waiting > self.detect_backlog:
            drafter.hurried = True
            if self._draft_log.due():
                _LOGGER.warning(
                    "processing is behind (%d messages in progress): drafts are chosen by "
                    "keywords, not by meaning, until it catches up",
                    waiting,
                )
        elif drafter.hurried and waiting <= self.detect_backlog // 2:
            drafter.hurried = False
            if self._draft_log.due():
                _LOGGER.warning(
                    "processing caught up: drafts are chosen by meaning again "
                    "(%d chosen by keywords so far)",
                    drafter.hurried_drafts,
                )

    @property
    def drafted_by_keywords(self) -> int:
        """Drafts the back-pressure made by keywords instead of by meaning, for benches."""
        return int(getattr(getattr(self.core.ingestor, "drafter", None), "hurried_drafts", 0))

    def _log_caught_up(self) -> None:
        _LOGGER.warning(
            "detection caught up: the model scores new messages again "
            "(%d scored by the rules so far)",
            self.scored_by_rules,
        )
        self._shed_reported = self.scored_by_rules

    @property
    def backlog(self) -> int:
        """Messages and edits taken in but not yet through processing."""
        return self._order.waiting

    async def edit(self, message: Message) -> IngestResult:
        """Apply an edit, in arrival order with the messages (held if the database is down)."""
        return await self._or_hold(_Event("edit", (message,)))

    async def take(self, message: Message) -> IngestResult:
        """A new message (admitted: see `admit`), or an edit when `message.edited`: for
        adapters whose platform delivers both, one at a time, through one handler."""
        return await (self.edit(message) if message.edited else self.admit(message))

    async def _edit_now(self, message: Message) -> IngestResult:
        try:
            work = functools.partial(self.core.edit, message)
            result = await self._order.run(self._order.take(), work)
        finally:
            self.through += 1
        await self._show(result)
        return result

    async def delete(
        self, platform: str, community: str, channel: str, message_id: str
    ) -> IngestResult:
        """Apply a deletion, in arrival order with the messages (held if the database is down)."""
        return await self._or_hold(_Event("delete", (platform, community, channel, message_id)))

    async def _delete_now(
        self, platform: str, community: str, channel: str, message_id: str
    ) -> IngestResult:
        try:
            work = functools.partial(self.core.delete, platform, community, channel, message_id)
            result = await self._order.run(self._order.take(), work)
        finally:
            self.through += 1
        await self._show(result)
        return result

    # -- holding what the database cannot take right now ---------------------------------------

    @property
    def held(self) -> int:
        """Events held in memory because the database could not take them yet."""
        return len(self._held)

    async def _apply(self, event: _Event) -> IngestResult:
        if event.kind == "ingest":
            return await self._ingest_now(*event.args)
        if event.kind == "admit":
            return await self._ingest_now(*event.args, background=True)
        if event.kind == "edit":
            return await self._edit_now(*event.args)
        return await self._delete_now(*event.args)

    async def _or_hold(self, event: _Event) -> IngestResult:
        if not self._held:
            try:
                return await self._apply(event)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                self._start_holding(exc)
        # Behind what is already held, so that arrival order is kept.
        while len(self._held) >= self.max_held:
            if not self._full_logged:
                self._full_logged = True
                _LOGGER.error(
                    "%d events held and the database is still unavailable: new ones wait "
                    "for room (nothing is dropped)",
                    len(self._held),
                )
            self._room.clear()
            await self._room.wait()
        self._held.append(event)
        return IngestResult(Outcome.HELD)

    def _start_holding(self, exc: BaseException) -> None:
        _LOGGER.error(
            "database unavailable (%s): incoming messages are held in memory and retried; "
            "they would be lost only if the process stopped before the database is back",
            exc,
        )
        self._held_since = time.monotonic()
        self.spawn("huitaine-held-retry", self._drain())

    async def _drain(self) -> None:
        """Store the held events in order, waiting longer after each failure (bounded)."""
        failures = 0
        stored = 0
        while self._held:
            event = self._held[0]
            try:
                result = await self._apply(event)
            except Exception as exc:
                if not database_unavailable(exc):
                    # A bug, not the database: reported, and the event is not retried forever.
                    _LOGGER.exception("held %s could not be applied", event.kind)
                    self._held.popleft()
                    self._room.set()
                    continue
                delay = HOLD_BACKOFF[min(failures, len(HOLD_BACKOFF) - 1)]
                failures += 1
                if failures % 10 == 0:
                    _LOGGER.warning(
                        "database still unavailable (%s); %d events held", exc, len(self._held)
                    )
                await self._sleep(delay)
                continue
            del result
            self._held.popleft()
            self._room.set()
            stored += 1
        self._full_logged = False
        _LOGGER.warning(
            "database available again: %d held events stored after %.0f s",
            stored,
            time.monotonic() - self._held_since,
        )

    async def _show(self, result: IngestResult) -> None:
        if result.outcome in (Outcome.DUPLICATE, Outcome.IGNORED, Outcome.STORED):
            return
        for case_id in result.case_ids:
            await self.refresh(case_id)

    async def refresh(self, case_id: int) -> None:
        """Update the case's card wherever it is shown (the case is read once, here)."""
        view = await self.call(self.core.card, case_id)
        platform = self._platforms.get(view.case.platform)
        if platform is not None:
            await platform.show_case(view)

    async def show_replies_in_doubt(self, platform: str) -> int:
        """Re-draw the cards of `platform`'s cases whose reply is in doubt; return how many.

        After a crash between *sending* and *sent*, the reply may or may not be on the platform:
        every adapter calls this once it is connected, so its cards offer "it was posted / send
        again" instead of a Send button that the core would refuse.
        """
        items = await self.call(self.core.review.outbox, SendState.UNCONFIRMED)
        cases = sorted({item.case_id for item in items if item.platform == platform})
        for case_id in cases:
            try:
                await self.refresh(case_id)
            except Exception:
                _LOGGER.exception("card of case %d not refreshed", case_id)
        return len(cases)

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
        outcome: str | Exception
        try:
            outcome = await platform.send_reply(item)
        except Exception as exc:
            outcome = exc
        result = await self.call(settle_send, self.core.review, item, outcome)
        await self.refresh(item.case_id)
        return result

    async def tick(self) -> list[Notice]:
        """Run the scheduler once and deliver what is due; return the delivered notices.

        Messages whose processing failed earlier in this run are tried again first.
        """
        retried = await self.call(self.core.ingestor.retry_failed)
        if retried:
            _LOGGER.warning("processed %d messages whose processing had failed", len(retried))
        for result in retried:
            await self._show(result)
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
        self._learn()
        return delivered

    def _learn(self) -> None:
        """Start a retraining check when one is due and none is running (never waits for it)."""
        learner = self._learner
        if learner is None or (self.learning is not None and not self.learning.done()):
            return
        now = self.core.clock.now()
        if learner.due(now):
            # Its own thread: a fit takes seconds and must not hold up the core's worker.
            self.learning = self.spawn("huitaine-learn", asyncio.to_thread(learner.run, now))

    async def _digest(self) -> None:
        # One digest per community, posted to that community's own review place only.
        for digest in await self.call(self.core.digests.due, self.core.clock.now()):
            platform = self._platforms.get(digest.platform)
            if platform is None:
                continue  # its platform is not running here: it waits, recorded
            try:
                await platform.post_digest(digest.text, community=digest.community)
            except Exception:
                _LOGGER.exception(
                    "weekly digest of %s:%s not posted; will retry",
                    digest.platform,
                    digest.community,
                )
                continue
            await self.call(self.core.digests.mark_delivered, digest.id, self.core.clock.now())

    async def run_scheduler(self, every: float = 60.0) -> None:
        """Tick forever (a background task); a failed tick is logged and the loop goes on."""
        while True:
            try:
                await self.tick()
            except Exception as exc:
                if database_unavailable(exc):
                    _LOGGER.warning("scheduler tick skipped: database unavailable (%s)", exc)
                else:
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
        """Cancel the background tasks, then close the core on its own thread.

        Messages admitted but not yet processed are stored: the next start processes them.
        """
        if self._shedding:
            _LOGGER.warning(
                "stopping while detection is behind: %d messages scored by the rules in all",
                self.scored_by_rules,
            )
        elif self.scored_by_rules > self._shed_reported:
            self._log_caught_up()
        if self._held:
            _LOGGER.error(
                "stopping with %d events held in memory and not stored (the database stayed "
                "unavailable): they are lost",
                len(self._held),
            )
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.call(self.core.close)
        self._executor.shutdown(wait=True)


class _CoreThread:
    """The one thread that runs the core's blocking calls, in order, new messages' storage first.

    Storing a new message is one short insert; behind a queue of processing and drafting it
    would wait for all of it, and a platform that hands over one update at a time (Telegram)
    would then be taken in no faster than it is processed: its backlog would stay on the
    platform, out of the back-pressure's sight. Reordering is safe: a message's processing
    is queued only after its own storage, and stores touch nothing else.
    """

    def __init__(self, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], Any] | None, Any]] = (
            queue.PriorityQueue()
        )
        self._seq = itertools.count()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=f"{name}_0", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], T], *, urgent: bool = False) -> Future[T]:
        """Queue `fn`; `urgent` work goes before the rest (in order among itself)."""
        if self._closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: Future[T] = Future()
        self._queue.put((0 if urgent else 1, next(self._seq), fn, future))
        return future

    def shutdown(self, wait: bool = True) -> None:
        """Finish what is queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put((2, next(self._seq), None, None))
        if wait:
            self._thread.join()

    def _work(self) -> None:
        while True:
            _, _, fn, future = self._queue.get()
            if fn is None:
                return
            if not future.set_running_or_notify_cancel():
                continue  # its caller gave up before it started
            try:
                result = fn()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)


class _Every:
    """Says when a recurring log line is due: at most once per `seconds` on `clock`."""

    def __init__(self, seconds: float, clock: Clock) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: datetime | None = None

    def due(self) -> bool:
        """True (and the line counts as written) when `seconds` passed since the last one."""
        now = self._clock.now()
        if self._last is not None and (now - self._last).total_seconds() < self.seconds:
            return False
        self._last = now
        return True


# Works run in one hop of the core's thread at most: a batch stays short next to the others.
MAX_RIDE = 64


def _run_each(works: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
    """Run `works` in order; each one's result or exception, apart (one failure stops none)."""
    outcomes: list[tuple[bool, Any]] = []
    for work in works:
        try:
            outcomes.append((True, work()))
        except Exception as exc:
            outcomes.append((False, exc))
    return outcomes


class _Sequencer:
    """Runs each ticket's work on the core's thread in the order the tickets were taken.

    Works whose turn has come and that are ready go to the core's thread together, in one
    hop: one message at a time, each one's turn would wait for a round trip between the event
    loop and the thread, and on a busy machine that round trip, not the work, sets the pace.
    Letting one through costs O(1) whatever the backlog (a shared condition woke every waiter
    at each step: the square of the backlog, which collapsed a burst). A ticket whose holder
    failed or was cancelled before its work was sent is skipped, so one failure never stalls
    the messages behind it.
    """

    def __init__(self, call: Callable[[Callable[[], Any]], Awaitable[Any]]) -> None:
        """`call` runs a blocking function on the core's thread and returns its result."""
        self._call = call
        self._next = 0
        self._serving = 0
        self._abandoned: set[int] = set()
        self._ready: dict[int, tuple[Callable[[], Any], asyncio.Future[Any]]] = {}
        self._busy = False
        self._sending: asyncio.Task[None] | None = None  # held: a task nobody holds may vanish
        self._room: asyncio.Future[None] | None = None  # `below`'s waiter (one at a time)
        self._room_at = 0

    def take(self) -> int:
        """A ticket: the position in line."""
        ticket, self._next = self._next, self._next + 1
        return ticket

    @property
    def waiting(self) -> int:
        """Tickets taken and not yet through: the ordering backlog."""
        return self._next - self._serving

    def abandon(self, ticket: int) -> None:
        """Give up a ticket before its work was sent."""
        if ticket >= self._serving:
            self._abandoned.add(ticket)
            self._pump()

    async def run(self, ticket: int, work: Callable[[], T]) -> T:
        """Run `work` on the core's thread at `ticket`'s turn; return its result."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._ready[ticket] = (work, future)
        self._pump()
        try:
            return await future
        except asyncio.CancelledError:
            if self._ready.pop(ticket, None) is not None:
                self.abandon(ticket)  # not sent yet: the ones behind must not wait for it
            raise

    async def below(self, limit: int) -> None:
        """Wait until fewer than `limit` tickets are waiting (one caller at a time)."""
        while self.waiting >= limit:
            self._room = asyncio.get_running_loop().create_future()
            self._room_at = limit
            try:
                await self._room
            finally:
                self._room = None

    def _pump(self) -> None:
        # Runs on the event loop thread only: no lock needed.
        if self._busy:
            return
        batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        ticket = self._serving
        while len(batch) < MAX_RIDE:
            if ticket in self._abandoned:
                self._abandoned.discard(ticket)
            elif ticket in self._ready:
                batch.append(self._ready.pop(ticket))
            else:
                break
            ticket += 1
        if not batch:
            self._serving = ticket  # only abandoned tickets were passed
            self._made_room()
            return
        self._busy = True
        self._sending = asyncio.get_running_loop().create_task(
            self._send(batch, ticket), name="huitaine-order"
        )

    async def _send(
        self, batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]], end: int
    ) -> None:
        try:
            outcomes = await self._call(functools.partial(_run_each, [w for w, _ in batch]))
        except BaseException as exc:  # the thread is gone (shutting down): every caller hears
            outcomes = [(False, exc)] * len(batch)
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue  # its caller gave up
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._serving = end
        self._busy = False
        self._made_room()
        self._pump()

    def _made_room(self) -> None:
        room = self._room
        if room is not None and self.waiting < self._room_at and not room.done():
            room.set_result(None)
