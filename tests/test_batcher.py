"""The micro-batcher never loses, duplicates or reorders an item, whoever submits it."""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.detect.batcher import BatcherClosed, MicroBatcher


def tag(items: list[tuple[int, int]]) -> list[str]:
    return [f"{caller}:{n}" for caller, n in items]


def test_results_follow_each_callers_order_under_concurrent_load() -> None:
    sizes: list[int] = []

    def fn(items: list[tuple[int, int]]) -> list[str]:
        sizes.append(len(items))
        return tag(items)

    batcher: MicroBatcher[tuple[int, int], str] = MicroBatcher(fn, max_batch=16, max_queue=8)
    callers, per_caller = 12, 200

    def work(caller: int) -> list[str]:
        out: list[str] = []
        # Mixed call shapes: single items and small lists, as adapters and the CLI do.
        for start in range(0, per_caller, 5):
            chunk = [(caller, n) for n in range(start, min(per_caller, start + 5))]
            if start % 2:
                out.extend(batcher.run(chunk))
            else:
                out.extend(f.result() for f in [batcher.submit(item) for item in chunk])
        return out

    with ThreadPoolExecutor(callers) as pool:
        results = list(pool.map(work, range(callers)))
    batcher.close()
    for caller, got in enumerate(results):
        assert got == [f"{caller}:{n}" for n in range(per_caller)]
    assert sum(sizes) == callers * per_caller
    assert max(sizes) <= 16


async def test_async_callers_get_their_own_results_in_order() -> None:
    batcher: MicroBatcher[tuple[int, int], str] = MicroBatcher(tag, max_batch=8, max_queue=4)

    async def caller(c: int) -> list[str]:
        return await batcher.run_async([(c, n) for n in range(50)])

    results = await asyncio.gather(*(caller(c) for c in range(20)))
    batcher.close()
    assert results == [[f"{c}:{n}" for n in range(50)] for c in range(20)]


def test_items_submitted_together_share_a_batch() -> None:
    entered, release = threading.Event(), threading.Event()
    sizes: list[int] = []

    def fn(items: list[int]) -> list[int]:
        sizes.append(len(items))
        entered.set()
        release.wait()
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(fn, max_batch=32, max_queue=100)
    first = batcher.submit(-1)  # occupies the worker until released
    entered.wait()
    rest = batcher.submit_many(list(range(40)))
    release.set()
    assert first.result() == -1
    assert [f.result() for f in rest] == list(range(40))
    batcher.close()
    # While the worker was busy the 40 items queued up: they ran as 32 + 8, not one by one.
    assert sizes == [1, 32, 8]


def test_a_failing_batch_fails_its_callers_and_the_batcher_goes_on() -> None:
    def fn(items: list[int]) -> list[int]:
        if 13 in items:
            raise ValueError("bad item")
        return [i * 2 for i in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(fn, max_batch=1)
    bad = batcher.submit(13)
    with pytest.raises(ValueError, match="bad item"):
        bad.result()
    assert batcher.run([1, 2, 3]) == [2, 4, 6]
    batcher.close()


def test_the_queue_is_bounded() -> None:
    entered, release = threading.Event(), threading.Event()

    def fn(items: list[int]) -> list[int]:
        entered.set()
        release.wait()
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(fn, max_batch=1, max_queue=2)
    started = batcher.submit(0)
    entered.wait()  # the worker holds item 0: the queue is empty again
    waiting = [batcher.submit(1), batcher.submit(2)]
    with pytest.raises(queue.Full):
        batcher.submit(3, timeout=0)
    release.set()
    assert [started.result(), *(f.result() for f in waiting)] == [0, 1, 2]
    batcher.close()


def test_close_finishes_queued_work_then_refuses_more() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(lambda items: items)
    pending = batcher.submit_many(list(range(100)))
    batcher.close()
    assert [f.result() for f in pending] == list(range(100))
    with pytest.raises(BatcherClosed):
        batcher.submit(1)
