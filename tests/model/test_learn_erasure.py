"""A head never keeps what it learned from texts that were erased.

When a member is forgotten, a message deleted or old texts purged, a head fitted on those
decisions is removed at once (the detector falls back to the default head) and refitted
without them: at once for `forget`, at the next learning check otherwise. A real SQLite file,
the real runtime, a manual clock and the fake encoder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.clock import ManualClock
from bot.detect.learning_log import (
    forget_cases,
    log_path,
    read_attempts,
    read_journal,
    record_fit,
    weekly_line,
)
from bot.detect.model import Head, bundled_examples, community_key
from bot.detect.retrain import OWN_WEIGHT, fit_on, held_out, refit_erased, sliced_features
from bot.detect.train import decided_cases
from bot.models import DismissReason
from bot.privacy import forget_member, purge_older_than
from tests.conftest import COMMUNITY, MOD, MessageFactory
from tests.model.conftest import FakeEncoder
from tests.model.test_retrain import COMMANDS, KEY, Bot, learning_config

# Words only these members wrote, to look for on disk once they are forgotten.
SECRETS = ["?zorglubify", "?quetzalcoatl", "?xylophagous", "?brouhahaha", "?kumquatting"]


@pytest.fixture
async def bot(clock: ManualClock, db_path: Path, fake_encoder: FakeEncoder) -> AsyncIterator[Bot]:
    running = Bot(learning_config(), clock, db_path, fake_encoder)
    yield running
    await running.runtime.close()


def open_by(bot: Bot, msg: MessageFactory, texts: list[str], who: str) -> dict[int, str]:
    """Open a case per text, each by its own member `who-n`; case id -> member id."""
    authors: dict[int, str] = {}
    for n, text in enumerate(texts):
        author = f"{who}-{n}"
        name = f"{who.title()}{n}"
        message = msg(text, author=author, name=name, channel=f"{who}{n}", id=author)
        for case_id in bot.core.ingest(message).case_ids:
            authors[case_id] = author
    return authors


async def learned_from(bot: Bot, msg: MessageFactory) -> tuple[dict[int, str], dict[int, str]]:
    """Everyone's commands and the secret members' words dismissed, and a head learned."""
    everyone = open_by(bot, msg, COMMANDS, "u")
    secret = open_by(bot, msg, SECRETS, "s")
    assert len(secret) == len(SECRETS)
    for case_id in [*everyone, *secret]:
        bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
    attempt = await bot.tick_and_learn()
    assert attempt is not None
    assert attempt.kept
    trained = set(read_journal(bot.journal()).trained_on)
    assert {c for c in secret if not held_out(c)} <= trained
    assert any(not held_out(c) for c in secret)
    return everyone, secret


def head_path(bot: Bot) -> Path:
    return bot.detector.heads.path_for(KEY)


async def test_forgetting_a_member_refits_the_head_without_their_decisions(
    bot: Bot, msg: MessageFactory, clock: ManualClock, db_path: Path, fake_encoder: FakeEncoder
) -> None:
    _, secret = await learned_from(bot, msg)
    before = read_journal(bot.journal()).trained_on
    default = bot.detector.heads.default()
    forgotten = {case_id: member for case_id, member in secret.items() if not held_out(case_id)}

    for member in forgotten.values():
        forget_member(bot.core.store, "discord", member, clock.now())

    # At once: the head that knew their words is gone and the default head detects.
    assert not head_path(bot).exists()
    assert bot.detector.heads.for_community(KEY, fallback="Atelier") is default
    journal = read_journal(bot.journal())
    assert journal.erased == len(forgotten)
    assert not set(journal.trained_on) & set(forgotten)

    # `huitaine forget` refits at once (here with the running bot's detector).
    (attempt,) = refit_erased(learning_config(), db_path, clock.now(), detector=bot.detector)

    assert attempt.kept
    assert attempt.erased == len(forgotten)
    journal = read_journal(bot.journal())
    assert set(journal.trained_on) == set(before) - set(forgotten)
    assert journal.erased == 0
    # The new head is exactly a head fitted on the decisions that remain.
    own = [d.example for d in decided_cases(str(db_path)) if not held_out(d.case_id)]
    assert len(own) == len(journal.trained_on)
    assert not {e.text for e in own} & set(SECRETS)
    examples = [*bundled_examples(), *own]
    weights = [1.0] * (len(examples) - len(own)) + [OWN_WEIGHT] * len(own)
    x = sliced_features(fake_encoder, bot.detector.rules, [e.text for e in examples])
    expected = fit_on(fake_encoder, x, examples, weights, meta={})
    saved = Head.load(head_path(bot))
    assert set(saved.tasks) == set(expected.tasks)
    for task, head in expected.tasks.items():
        assert np.array_equal(saved.tasks[task].coef, head.coef)
        assert np.array_equal(saved.tasks[task].mean, head.mean)
        assert saved.tasks[task].bias == head.bias
    # No learning file on disk holds their words or names.
    files = [p for p in bot.detector.heads.root.parent.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".learning.json") for p in files)
    for path in files:
        data = path.read_bytes()
        for member in forgotten.values():
            text = SECRETS[int(member.rpartition("-")[2])]
            assert text.encode() not in data, path
            assert member.encode() not in data, path
    # The digest says the detector relearned without them.
    week = (attempt.at - timedelta(days=1), attempt.at + timedelta(days=1))
    line = weekly_line([attempt], *week, "en")
    assert line is not None
    assert f"without the {len(forgotten)} whose texts were erased" in line


async def test_a_deleted_message_removes_the_head_and_the_next_check_refits_without_it(
    bot: Bot, msg: MessageFactory, clock: ManualClock
) -> None:
    _, secret = await learned_from(bot, msg)
    case_id, member = next((c, m) for c, m in secret.items() if not held_out(c))
    index = int(member.rpartition("-")[2])

    await bot.runtime.delete("discord", COMMUNITY, f"s{index}", member)

    assert not head_path(bot).exists()
    assert read_journal(bot.journal()).erased == 1
    # No new decision since: the next check refits anyway, without the deleted text.
    clock.advance(timedelta(hours=6))
    attempt = await bot.tick_and_learn()
    assert attempt is not None
    assert attempt.erased == 1
    assert attempt.kept
    assert head_path(bot).exists()
    journal = read_journal(bot.journal())
    assert case_id not in journal.trained_on
    assert journal.erased == 0


async def test_texts_purged_by_retention_take_the_head_with_them(
    bot: Bot, msg: MessageFactory, clock: ManualClock
) -> None:
    await learned_from(bot, msg)
    trained = len(read_journal(bot.journal()).trained_on)

    clock.advance(timedelta(days=400))
    purge_older_than(bot.core.store, clock.now() - timedelta(days=365))

    assert not head_path(bot).exists()
    assert read_journal(bot.journal()).erased == trained
    # Nothing left to learn from: the next check says the head stays gone, and the digest
    # tells the moderators why the detector is back to its default.
    attempt = await bot.tick_and_learn()
    assert attempt is None
    (last,) = read_attempts(bot.journal())[-1:]
    assert not last.kept
    assert last.erased == trained
    assert read_journal(bot.journal()).erased == 0
    first, *_ = attempts = read_attempts(bot.journal())
    assert first.kept
    # Even with a gain in the same period, the digest says the head went with the texts.
    line = weekly_line(attempts, first.at, last.at + timedelta(days=1), "fr")
    assert line is not None
    assert f"Les textes de {trained} décisions" in line


async def test_texts_erased_behind_the_learners_back_are_caught_at_the_next_check(
    bot: Bot, msg: MessageFactory, clock: ManualClock
) -> None:
    _, secret = await learned_from(bot, msg)
    case_id = next(c for c in secret if not held_out(c))
    # As an older version's erasure would: the texts go, nobody tells the learner.
    bot.core.store.execute("DELETE FROM messages WHERE case_id = ?", (case_id,))
    bot.core.store.execute("UPDATE cases SET excerpt = '' WHERE id = ?", (case_id,))
    assert head_path(bot).exists()

    clock.advance(timedelta(hours=6))
    attempt = await bot.tick_and_learn()

    assert attempt is not None
    assert attempt.erased == 1
    assert case_id not in read_journal(bot.journal()).trained_on


def test_an_erasure_in_another_database_leaves_its_heads_alone(tmp_path: Path) -> None:
    # Case ids repeat across databases: two bots sharing a data directory keep their heads.
    root = tmp_path / "heads"
    key = community_key("discord:1")
    head = root / f"{key}.encoder.npz"
    root.mkdir()
    head.write_bytes(b"weights")
    record_fit(log_path(root, key), [1, 2, 3], str(tmp_path / "mine.db"))

    assert forget_cases(root, [2], str(tmp_path / "other.db")) == []
    assert head.exists()
    assert forget_cases(root, [2], str(tmp_path / ".." / tmp_path.name / "mine.db")) == [key]
    assert not head.exists()
    assert read_journal(log_path(root, key)).erased == 1
