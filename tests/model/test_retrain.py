"""The running bot retrains its head from moderators' decisions on a schedule, and says so.

A real SQLite file, the real runtime and scheduler tick, a manual clock, the fake encoder (so no
model is needed); the retraining runs on its own thread and the test awaits its task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.detect import head as head_module
from bot.detect.learning_log import Attempt, Errors, read_attempts, weekly_line
from bot.detect.model import ModelDetector, embed_features
from bot.detect.retrain import SLICE, held_out, learner_for, sliced_features
from bot.detect.rules import RuleDetector
from bot.models import DismissReason
from bot.runtime import Runtime
from tests.conftest import COMMUNITY, MOD, MessageFactory
from tests.model.conftest import FakeEncoder

# Bot commands: the default head reads most of them as questions; a community dismisses them.
COMMANDS = [
    f"?{word}"
    for word in [
        "rank",
        "daily",
        "balance",
        "top",
        "level",
        "inventory",
        "shop",
        "weekly",
        "profile",
        "quest",
        "duel",
        "pet",
        "fish",
        "mine",
        "work",
        "rob",
        "bet",
        "slots",
        "coinflip",
        "leaderboard",
        "badges",
        "trade",
        "craft",
        "hunt",
        "loot",
        "spin",
        "claim",
        "streak",
        "vote",
        "gift",
    ]
]
PROBE = "?monthly"
# How the runtime names the test community's head and journal (`[communities."discord:…"]`).
KEY = f"discord:{COMMUNITY}"


def learning_config(language: str = "fr", after: int = 12) -> Config:
    return parse_config(
        {
            "community": {"name": "Atelier", "language": language},
            "learning": {"after_decisions": after, "check_every": "6h"},
            "digest": {"day": "wednesday", "hour": 9},
        }
    )


class Bot:
    """A running bot (core + runtime) on a real database file, with the fake encoder."""

    def __init__(self, config: Config, clock: ManualClock, db: Path, encoder: FakeEncoder):
        self.detector = ModelDetector(encoder, community=config.community.name)
        self.core = Huitaine(config, clock=clock, database=db, detector=self.detector)
        self.runtime = Runtime(self.core)

    def open_cases(self, msg: MessageFactory, texts: list[str]) -> list[int]:
        ids: list[int] = []
        for n, text in enumerate(texts):
            result = self.core.ingest(msg(text, author=f"u-{n}", name=f"M{n}", channel=f"c{n}"))
            ids.extend(result.case_ids)
        return ids

    def question_score(self, text: str = PROBE, community: str = KEY) -> float:
        return self.detector.detect_for(community, [text])[0].question

    def journal(self, community: str = KEY) -> Path:
        assert self.runtime._learner is not None
        return self.runtime._learner.journal(community)

    async def tick_and_learn(self) -> Attempt | None:
        """One scheduler tick; wait for the retraining it started (if any) to finish."""
        attempts = await self.tick_and_learn_all()
        assert len(attempts) <= 1
        return attempts[0] if attempts else None

    async def tick_and_learn_all(self) -> list[Attempt]:
        """One scheduler tick; every community's attempt of the retraining it started."""
        before = self.runtime.learning
        await self.runtime.tick()
        task = self.runtime.learning
        if task is None or task is before:
            return []
        result: list[Attempt] = await task
        return result


@pytest.fixture
async def bot(clock: ManualClock, db_path: Path, fake_encoder: FakeEncoder) -> AsyncIterator[Bot]:
    running = Bot(learning_config(), clock, db_path, fake_encoder)
    yield running
    await running.runtime.close()


def head_files(bot: Bot, community: str = KEY) -> list[Path]:
    path = bot.detector.heads.path_for(community)
    return [path] if path.is_file() else []


async def test_enough_dismissals_retrain_the_head_on_schedule_and_it_is_kept(
    bot: Bot, msg: MessageFactory, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = bot.open_cases(msg, COMMANDS)
    assert len(ids) >= 20
    before = bot.question_score()
    assert before >= 0.5  # the default head takes a bot command for a question
    for case_id in ids:
        bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)

    attempt = await bot.tick_and_learn()

    assert attempt is not None
    assert attempt.kept
    assert attempt.after.false_questions < attempt.before.false_questions
    assert head_files(bot)
    assert bot.question_score() < 0.5 <= before  # the running detector uses the new head
    assert read_attempts(bot.journal()) == [attempt]
    assert any("replaces the old one" in r.getMessage() for r in caplog.records)

    # The schedule: no new check before `check_every`, even with a tick every minute.
    clock.advance(timedelta(minutes=1))
    assert await bot.tick_and_learn() is None

    # The next weekly digest says what was learned, in the community's language.
    wednesday = datetime(2026, 11, 4, 9, 30, tzinfo=UTC)
    assert wednesday - timedelta(days=7) < attempt.at < wednesday
    (due,) = bot.core.digests.due(wednesday)
    fewer = attempt.before.false_questions - attempt.after.false_questions
    plural = "s" if fewer > 1 else ""
    assert f"Appris de {attempt.learned} de vos décisions" in due.text
    assert f"{fewer} fausse{plural} question{plural} en moins" in due.text


async def test_a_worse_head_is_not_kept_and_the_old_one_stays(
    bot: Bot, msg: MessageFactory
) -> None:
    ids = bot.open_cases(msg, COMMANDS)
    checked = [case_id for case_id in ids if held_out(case_id)]
    assert len(checked) >= 3
    before = bot.question_score()
    # The held-out cases say "these are real questions"; the rest says the opposite, so a head
    # fitted on the rest does worse where it is checked.
    for case_id in ids:
        if held_out(case_id):
            bot.core.review.approve(MOD, case_id, text="Voici, {member}.")
        else:
            bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)

    attempt = await bot.tick_and_learn()

    assert attempt is not None
    assert not attempt.kept
    assert attempt.after.total > attempt.before.total
    assert head_files(bot) == []
    assert bot.question_score() == before


async def test_below_the_threshold_nothing_is_retrained(bot: Bot, msg: MessageFactory) -> None:
    ids = bot.open_cases(msg, COMMANDS)
    for case_id in ids[:5]:  # 5 decisions; 12 are needed
        bot.core.review.dismiss(MOD, case_id, DismissReason.SPAM)
    before = bot.question_score()

    assert await bot.runtime.tick() == []
    assert bot.runtime.learning is not None  # the check ran, off the event loop …
    assert await bot.runtime.learning == []  # … and found too few decisions

    assert head_files(bot) == []
    assert read_attempts(bot.journal()) == []
    assert bot.question_score() == before


async def test_a_crash_while_saving_leaves_the_old_head_and_is_logged(
    bot: Bot, msg: MessageFactory, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = bot.open_cases(msg, COMMANDS)
    first, second = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    for case_id in first:
        bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
    attempt = await bot.tick_and_learn()
    assert attempt is not None
    assert attempt.kept
    saved = head_files(bot)[0].read_bytes()
    score = bot.question_score()

    for case_id in second:
        bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
    clock.advance(timedelta(hours=6))

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(head_module.os, "replace", disk_full)
        await bot.runtime.tick()
        assert bot.runtime.learning is not None
        (outcome,) = await asyncio.gather(bot.runtime.learning, return_exceptions=True)

    assert isinstance(outcome, OSError)
    await asyncio.sleep(0)  # let the task's done-callback log it
    assert any(
        "huitaine-learn failed" in r.getMessage() and r.levelno == logging.ERROR
        for r in caplog.records
    )
    assert head_files(bot)[0].read_bytes() == saved
    assert not list(head_files(bot)[0].parent.glob(".head-*"))  # no half-written file left
    assert bot.question_score() == score
    # The journal still holds only the first attempt: the failed one is retried later.
    assert read_attempts(bot.journal()) == [attempt]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "🧠 Learned from 23 of your decisions: 4 fewer false complaints, 1 more missed "
            "question (checked on 6 held-out decisions).",
        ),
        (
            "fr",
            "🧠 Appris de 23 de vos décisions : 4 fausses réclamations en moins, 1 question "
            "manquée en plus (vérifié sur 6 décisions mises de côté).",
        ),
    ],
)
def test_the_digest_line_in_both_languages(language: str, expected: str) -> None:
    at = datetime(2026, 11, 5, 12, tzinfo=UTC)
    attempt = Attempt(
        at=at,
        watermark=40,
        learned=23,
        held_out=6,
        kept=True,
        before=Errors(false_complaints=5, missed_questions=0),
        after=Errors(false_complaints=1, missed_questions=1),
    )
    week = (at - timedelta(days=3), at + timedelta(days=4))
    assert weekly_line([attempt], *week, language) == expected
    # Last week's learning is not this week's news.
    assert weekly_line([attempt], at + timedelta(days=1), at + timedelta(days=8), language) is None


def test_a_refused_head_is_reported_too() -> None:
    at = datetime(2026, 11, 5, 12, tzinfo=UTC)
    refused = Attempt(at, 10, 15, 4, False, Errors(), Errors(missed_questions=2))
    line = weekly_line([refused], at - timedelta(days=1), at + timedelta(days=1), "en")
    assert line is not None
    assert "was not kept" in line
    french = weekly_line([refused], at - timedelta(days=1), at + timedelta(days=1), "fr")
    assert french is not None
    assert "n'a pas été gardé" in french


def test_learning_needs_the_model_detector_and_can_be_turned_off(
    clock: ManualClock, db_path: Path, fake_encoder: FakeEncoder
) -> None:
    rules_only = parse_config({"detection": {"detector": "rules"}})
    core = Huitaine(rules_only, clock=clock, database=db_path)
    try:
        assert learner_for(core.detector, rules_only, db_path) is None
    finally:
        core.close()
    detector = ModelDetector(fake_encoder)
    try:
        assert learner_for(detector, learning_config(after=0), db_path) is None
        assert learner_for(detector, learning_config(), db_path) is not None
    finally:
        detector.close()


def test_learning_embeds_a_slice_at_a_time_so_live_detection_gets_turns(
    fake_encoder: FakeEncoder,
) -> None:
    texts = [f"message {n}?" for n in range(150)]
    rules = RuleDetector()
    whole = embed_features(fake_encoder, rules, texts)
    fake_encoder.calls.clear()
    sliced = sliced_features(fake_encoder, rules, texts)
    assert max(fake_encoder.calls) <= SLICE  # the encoder is free between two slices
    assert sum(fake_encoder.calls) == len(texts)
    assert np.allclose(sliced, whole)
