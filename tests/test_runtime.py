"""The async runtime: off-loop core calls, sending once, delivering notices, owned tasks."""

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapter import SendFailed
from bot.app import Huitaine
from bot.cardview import CardView
from bot.clock import ManualClock
from bot.models import Case, CaseState, Notice, Outgoing, SendState
from bot.runtime import Runtime
from tests.conftest import COMMUNITY, MOD, MessageFactory


class RecordingPlatform:
    """A test double of an adapter (the `Adapter` protocol): records what goes out."""

    name = "discord"

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.cards: list[tuple[int, CaseState]] = []
        self.notices: list[Notice] = []
        self.fail_send: Exception | None = None
        self.fail_notice = False
        self.digests: list[str] = []
        self.digest_places: list[str] = []
        self.fail_digest: set[str] = set()

    async def send_reply(self, item: Outgoing) -> str:
        if self.fail_send is not None:
            raise self.fail_send
        self.sent.append(item)
        return f"p{len(self.sent)}"

    async def show_case(self, view: CardView) -> None:
        self.cards.append((view.case.id, view.case.state))

    async def post_notice(self, notice: Notice, case: Case) -> None:
        if self.fail_notice:
            raise ConnectionError("network down")
        self.notices.append(notice)

    async def post_digest(self, text: str, *, community: str) -> None:
        if community in self.fail_digest:
            raise ConnectionError("network down")
        self.digests.append(text)
        self.digest_places.append(community)

    async def connect(self) -> None:
        pass

    async def listen(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass


@pytest.fixture
async def runtime(core: Huitaine) -> AsyncIterator[Runtime]:
    rt = Runtime(core)
    yield rt
    for task in list(rt._tasks):
        task.cancel()
    rt._executor.shutdown(wait=True)


async def test_core_work_runs_off_the_event_loop(runtime: Runtime) -> None:
    name = await runtime.call(lambda: threading.current_thread().name)
    assert name.startswith("huitaine-core")
    assert name != threading.current_thread().name


async def test_a_new_case_shows_a_card_and_approval_sends_once(
    runtime: Runtime, msg: MessageFactory
) -> None:
    platform = RecordingPlatform()
    runtime.register(platform)
    result = await runtime.ingest(msg("where is my parcel? still nothing"))
    case_id = result.case_ids[0]
    assert platform.cards == [(case_id, CaseState.SUGGESTED)]
    item = await runtime.approve_and_send(MOD, case_id)
    assert item.state is SendState.SENT
    assert len(platform.sent) == 1
    assert platform.cards[-1] == (case_id, CaseState.ANSWERED)


async def test_refused_send_is_failed_and_uncertain_send_waits_for_a_moderator(
    runtime: Runtime, core: Huitaine, msg: MessageFactory
) -> None:
    platform = RecordingPlatform()
    runtime.register(platform)
    first = (await runtime.ingest(msg("refund please, it's broken"))).case_ids[0]
    platform.fail_send = SendFailed("403 bot was kicked")
    assert (await runtime.approve_and_send(MOD, first)).state is SendState.FAILED

    second = (await runtime.ingest(msg("how do I log in?", author="u-b", name="B"))).case_ids[0]
    platform.fail_send = TimeoutError("read timeout")
    item = await runtime.approve_and_send(MOD, second)
    assert item.state is SendState.UNCONFIRMED
    assert core.review.outbox(SendState.SENDING) == []  # nothing left to send by itself
    assert platform.sent == []


async def test_tick_delivers_notices_and_retries_failed_deliveries(
    runtime: Runtime, core: Huitaine, clock: ManualClock, msg: MessageFactory
) -> None:
    platform = RecordingPlatform()
    runtime.register(platform)
    await runtime.ingest(msg("toujours pas reçu ma commande, c'est inadmissible"))
    clock.advance(timedelta(hours=22, minutes=30))
    platform.fail_notice = True
    assert await runtime.tick() == []
    platform.fail_notice = False
    delivered = await runtime.tick()
    assert len(delivered) == 1
    assert await runtime.tick() == []  # delivered once, not repeated
    assert platform.notices == delivered


async def test_a_failing_background_task_is_logged(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise ValueError("kaboom")

    task = runtime.spawn("boom-task", boom())
    with caplog.at_level(logging.ERROR):
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)
    assert "boom-task" in caplog.text


async def test_weekly_digest_is_posted_once_at_the_configured_hour(
    runtime: Runtime, clock: ManualClock, msg: MessageFactory
) -> None:
    # The fixture community is in UTC; the digest goes out on Mondays at 09:00.
    platform = RecordingPlatform()
    runtime.register(platform)
    await runtime.ingest(msg("where is my order? still nothing", at=clock.now()))
    clock.set(datetime(2026, 11, 9, 8, 59, tzinfo=UTC))  # Monday, a minute early
    await runtime.tick()
    assert platform.digests == []
    clock.set(datetime(2026, 11, 9, 9, 5, tzinfo=UTC))
    await runtime.tick()
    await runtime.tick()
    assert len(platform.digests) == 1
    assert "Alice" in platform.digests[0]
    assert "#1" in platform.digests[0]


async def test_each_community_gets_its_digest_and_a_failed_one_alone_is_retried(
    runtime: Runtime, clock: ManualClock, msg: MessageFactory
) -> None:
    platform = RecordingPlatform()
    runtime.register(platform)
    await runtime.ingest(msg("where is my order? still nothing"))
    other = replace(msg("how do I change my email?", author="u-b", name="Bob"), community="g-2")
    await runtime.ingest(other)
    platform.fail_digest = {"g-2"}  # the second community's place is down at first
    clock.set(datetime(2026, 11, 9, 9, 5, tzinfo=UTC))
    await runtime.tick()
    assert platform.digest_places == [COMMUNITY]
    assert "Alice" in platform.digests[0]
    assert "Bob" not in platform.digests[0]
    platform.fail_digest = set()
    await runtime.tick()
    await runtime.tick()
    assert platform.digest_places == [COMMUNITY, "g-2"]  # the first is not posted again
    assert "Bob" in platform.digests[1]
    assert "Alice" not in platform.digests[1]


class SlowDetector:
    """A test double of a batched detector: answers only when the test says so."""

    name = "slow"

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.release = asyncio.Event()
        self.calls = 0

    def detect_batch(self, texts: list[str]) -> list[object]:
        return self.inner.detect_batch(texts)  # type: ignore[attr-defined, no-any-return]

    async def detect_async(self, texts: list[str]) -> list[object]:
        self.calls += 1
        await self.release.wait()
        return self.detect_batch(texts)


def slow_model_with_rules(core: Huitaine) -> SlowDetector:
    """Put a slow model in front of the core's detector, which stays as its rules fallback."""
    slow = SlowDetector(core.detector)
    slow.rules = core.detector  # type: ignore[attr-defined]
    core.detector = slow  # type: ignore[assignment]
    return slow


async def test_a_staff_reply_waits_for_the_question_it_answers(
    runtime: Runtime, core: Huitaine, msg: MessageFactory
) -> None:
    slow = SlowDetector(core.detector)
    core.detector = slow  # type: ignore[assignment]
    question = asyncio.create_task(runtime.ingest(msg("how do I reset my password?", id="q")))
    await asyncio.sleep(0)
    answer = asyncio.create_task(
        runtime.ingest(
            msg(
                "Settings > Security",
                staff=True,
                author="s",
                name="Sam",
                reply_to="q",
                after=timedelta(minutes=5),
            )
        )
    )
    for _ in range(20):  # let both reach their turn; the reply must not overtake
        await asyncio.sleep(0)
    assert not answer.done()
    slow.release.set()
    opened, answered = await asyncio.gather(question, answer)
    assert answered.case_ids == opened.case_ids
    assert core.cases.get(opened.case_ids[0]).state is CaseState.ANSWERED
    assert slow.calls == 1  # staff messages are not scored


async def test_a_failing_message_does_not_stall_the_ones_behind_it(
    runtime: Runtime, msg: MessageFactory
) -> None:
    class Broken:
        key = "broken"

    with pytest.raises(AttributeError):
        await runtime.ingest(Broken())  # type: ignore[arg-type]
    result = await asyncio.wait_for(runtime.ingest(msg("where is my parcel? still nothing")), 5)
    assert result.case_ids


async def test_a_message_whose_processing_failed_is_processed_at_the_next_tick(
    runtime: Runtime, core: Huitaine, msg: MessageFactory
) -> None:
    platform = RecordingPlatform()
    runtime.register(platform)
    real = core.ingestor.detector

    class Down:
        name = "down"

        def detect_batch(self, texts: list[str]) -> list[object]:
            raise RuntimeError("inference thread died")

    core.ingestor.detector = Down()  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        await runtime.ingest(msg("where is my parcel? still nothing"))
    assert core.cases.list() == []
    core.ingestor.detector = real
    await runtime.tick()
    [case] = core.cases.list()
    assert platform.cards == [(case.id, CaseState.SUGGESTED)]


async def test_messages_go_through_in_arrival_order_even_when_detection_finishes_out_of_order(
    runtime: Runtime, core: Huitaine, msg: MessageFactory
) -> None:
    order: list[str] = []
    process = core.ingestor.process

    def recording(message: object, detection: object = None) -> object:
        order.append(message.id)  # type: ignore[attr-defined]
        return process(message, detection)  # type: ignore[arg-type]

    core.ingestor.process = recording  # type: ignore[method-assign]
    gates = {f"m{i}": asyncio.Event() for i in range(200)}

    class Gated:
        name = "gated"
        rules = None

        def detect_batch(self, texts: list[str]) -> list[object]:
            return core.ingestor.detector.detect_batch(texts)  # type: ignore[return-value]

        async def detect_async(self, texts: list[str]) -> list[object]:
            await gates[texts[0].split()[0]].wait()
            return self.detect_batch(texts)

    gated = Gated()
    real = core.detector
    core.detector = gated  # type: ignore[assignment]
    core.ingestor.detector = real
    tasks = [
        asyncio.create_task(runtime.ingest(msg(f"m{i} where is my parcel?", id=f"m{i}")))
        for i in range(200)
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    tasks[7].cancel()  # one caller gives up while waiting: the rest must not stall
    for name in reversed(list(gates)):  # the last detection finishes first
        gates[name].set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == [f"m{i}" for i in range(200) if i != 7]
    assert runtime.backlog == 0


async def test_when_detection_falls_behind_the_rules_answer_and_a_log_line_says_so(
    runtime: Runtime,
    core: Huitaine,
    clock: ManualClock,
    msg: MessageFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow = slow_model_with_rules(core)
    runtime.detect_backlog = 3
    caplog.set_level(logging.WARNING)
    tasks = [
        asyncio.create_task(runtime.ingest(msg(f"where is my parcel number {i}?", id=f"p{i}")))
        for i in range(10)
    ]
    for _ in range(1_000_000):  # the worker thread stores them; yield until it has, no timer
        if runtime.scored_by_rules == 7:
            break
        await asyncio.sleep(0)
    assert slow.calls == 3  # only three wait for the model
    behind = [r.getMessage() for r in caplog.records if "detection is behind" in r.getMessage()]
    assert behind == [
        "detection is behind (3 messages waiting for the model): new messages are scored by "
        "the rules until it catches up (1 so far)"
    ]  # one line for seven messages, not one each
    clock.advance(timedelta(minutes=1))
    slow.release.set()
    results = await asyncio.gather(*tasks)
    assert all(r.case_ids for r in results)  # none lost: the rules scored the other seven
    assert runtime.scored_by_rules == 7
    assert "detection caught up: the model scores new messages again (7 scored" in caplog.text


async def test_a_backlog_hovering_at_the_limit_logs_once_a_minute_not_once_a_message(
    runtime: Runtime,
    core: Huitaine,
    clock: ManualClock,
    msg: MessageFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow = slow_model_with_rules(core)
    runtime.detect_backlog = 2
    caplog.set_level(logging.WARNING)

    async def one_round(first: int) -> None:
        # Two wait for the model, a third is shed; then the model catches up.
        slow.release.clear()
        tasks = [
            asyncio.create_task(runtime.ingest(msg(f"where is parcel {i}?", id=f"r{i}")))
            for i in range(first, first + 3)
        ]
        for _ in range(1_000_000):
            if runtime.scored_by_rules == first // 3 + 1:
                break
            await asyncio.sleep(0)
        slow.release.set()
        await asyncio.gather(*tasks)

    for first in range(0, 30, 3):  # ten episodes within the same minute
        await one_round(first)
    lines = [r for r in caplog.records if r.name == "bot.runtime"]
    assert len(lines) == 1
    clock.advance(timedelta(seconds=61))
    await one_round(30)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.runtime"]
    assert len(lines) == 2
    assert lines[1].endswith("(11 so far)")  # the count covers the quiet minute too


async def test_while_processing_is_behind_drafts_are_chosen_by_keywords_and_a_line_says_so(
    runtime: Runtime, core: Huitaine, msg: MessageFactory, caplog: pytest.LogCaptureFixture
) -> None:
    slow = SlowDetector(core.detector)
    core.detector = slow  # type: ignore[assignment]
    drafter = core.ingestor.drafter
    drafter.index = object()  # type: ignore[assignment]  # as if drafts could be by meaning
    hurried: list[bool] = []
    draft = drafter.draft

    def recording(**kwargs: object) -> object:
        hurried.append(drafter.hurried)
        return draft(**kwargs)  # type: ignore[arg-type]

    drafter.draft = recording  # type: ignore[method-assign]
    runtime.detect_backlog = 4
    caplog.set_level(logging.WARNING)
    tasks = [
        asyncio.create_task(
            runtime.ingest(msg(f"where is my parcel {i}?", id=f"d{i}", author=f"m{i}"))
        )
        for i in range(10)
    ]
    for _ in range(1_000_000):  # all ten wait for the model
        if slow.calls == 10:
            break
        await asyncio.sleep(0)
    slow.release.set()  # the model answers: ten are in progress, more than the limit of four
    results = await asyncio.gather(*tasks)
    assert all(r.case_ids for r in results)  # every case has its drafts, by keywords or not
    # Once caught up (at most half the limit in progress), drafts are by meaning again.
    later = await runtime.ingest(msg("where is my parcel 10?", id="d10", author="m10"))
    assert later.case_ids
    assert hurried == [True] * 10 + [False]
    assert runtime.drafted_by_keywords == 10
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.runtime"]
    assert lines == [
        "processing is behind (10 messages in progress): drafts are chosen by keywords, "
        "not by meaning, until it catches up"
    ]


def test_the_test_double_implements_the_adapter_protocol() -> None:
    # Every adapter, this double included, offers the same typed calls to the runtime.
    from adapters.discord.bot import DiscordAdapter
    from adapters.telegram.bot import TelegramAdapter
    from bot.adapter import Adapter

    calls = [name for name in vars(Adapter) if not name.startswith("_") and name != "name"]
    assert len(calls) == 7
    for cls in (RecordingPlatform, DiscordAdapter, TelegramAdapter):
        missing = [name for name in calls if not callable(getattr(cls, name, None))]
        assert missing == [], cls
    assert isinstance(RecordingPlatform(), Adapter)
