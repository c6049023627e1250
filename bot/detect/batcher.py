"""A micro-batcher: callers submit single items, one worker thread runs them in batches.

A transformer scores 32 messages in not much more time than one, so concurrent callers (several
communities, the CLI, adapters) share forward passes. Items already queued are taken at once; the
worker then waits at most `max_wait` seconds for more, so an idle bot adds almost no latency. The
queue is bounded: when inference falls behind, `submit` blocks (or fails after `timeout`) instead
of letting memory grow without limit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class BatcherClosed(RuntimeError):
    """The batcher was closed; nothing more is accepted."""


_STOP = object()


class MicroBatcher(Generic[T, R]):
    """Runs `fn` on batches of submitted items, in submission order, on one worker thread."""

    def __init__(
        self,
        fn: Callable[[list[T]], Sequence[R]],
        *,
        max_batch: int = 32,
        max_wait: float = 0.002,
        max_queue: int = 1024,
        name: str = "huitaine-batcher",
    ) -> None:
        """Start the worker; `fn` must return one result per item, in order."""
        if max_batch < 1 or max_queue < 1 or max_wait < 0:
            raise ValueError("max_batch and max_queue must be >= 1, max_wait >= 0")
        self._fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.Queue[tuple[T, Future[R]] | object] = queue.Queue(max_queue)
        self._closed = False
        self._close_lock = threading.Lock()
        self.batches = 0  # forward passes run, for benchmarks and logs
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T, timeout: float | None = None) -> Future[R]:
        """Queue one item; blocks while the queue is full (queue.Full after `timeout`)."""
        if self._closed:
            raise BatcherClosed("batcher is closed")
        future: Future[R] = Future()
        self._queue.put((item, future), timeout=timeout)
        return future

    def submit_many(self, items: Sequence[T], timeout: float | None = None) -> list[Future[R]]:
        """Queue items in order; their futures come back in the same order."""
        return [self.submit(item, timeout) for item in items]

    def run(self, items: Sequence[T], timeout: float | None = None) -> list[R]:
        """Submit and wait: the results of `items`, in order (blocking)."""
        return [future.result() for future in self.submit_many(items, timeout)]

    async def run_async(self, items: Sequence[T]) -> list[R]:
        """Submit and await without blocking the event loop."""
        futures: list[Future[R]] = []
        for item in items:
            try:
                futures.append(self.submit(item, timeout=0))
            except queue.Full:
                # Full: wait for room on a helper thread, never on the event loop.
                futures.append(await asyncio.to_thread(self.submit, item))
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop accepting items, finish the queued ones, and stop the worker."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        # An item that raced past the closed flag must not leave its caller waiting forever.
        while True:
            try:
                leftover = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(leftover, tuple):
                leftover[1].set_exception(BatcherClosed("batcher is closed"))

    def _work(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_batch:
                try:
                    # Whatever is already queued is taken without waiting.
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        nxt = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                if nxt is _STOP:
                    stopping = True
                    break
                batch.append(nxt)
            self._run(batch)  # type: ignore[arg-type]

    def _run(self, batch: list[tuple[T, Future[R]]]) -> None:
        live = [(item, fut) for item, fut in batch if fut.set_running_or_notify_cancel()]
        if not live:
            return
        self.batches += 1
        try:
            results = list(self._fn([item for item, _ in live]))
            if len(results) != len(live):
                raise RuntimeError(f"batch function returned {len(results)} for {len(live)}")
        except BaseException as exc:  # every caller must hear of the failure
            _LOGGER.exception("batch of %d failed", len(live))
            for _, fut in live:
                fut.set_exception(exc)
            return
        for (_, fut), result in zip(live, results, strict=True):
            fut.set_result(result)
