"""Each community learns from its own decisions only, into its own head, and hears of it alone.

Two communities on one bot (`[communities."discord:…"]`), a real SQLite file, the real runtime
tick and a manual clock, the fake encoder. Community A dismisses bot commands as "not a
request"; community B approves the same texts as real questions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.detect.learning_log import read_attempts, read_journal
from bot.detect.retrain import held_out
from bot.models import Actor, DismissReason, Standing
from tests.conftest import COMMUNITY, MessageFactory
from tests.model.conftest import FakeEncoder
from tests.model.test_retrain import COMMANDS, PROBE, Bot

OTHER = "guild-2"
A, B = f"discord:{COMMUNITY}", f"discord:{OTHER}"
MOD = Actor(
    "discord",
    "staff-1",
    "Camille",
    tuple(Standing(c, frozenset({"Moderator"})) for c in (COMMUNITY, OTHER)),
)


def two_communities() -> Config:
    return parse_config(
        {
            "community": {"name": "Atelier", "language": "fr"},
            "learning": {"after_decisions": 12, "check_every": "6h"},
            "digest": {"day": "wednesday", "hour": 9},
            "communities": {B: {"community": {"name": "Workshop", "language": "en"}}},
        }
    )


@pytest.fixture
async def bot(clock: ManualClock, db_path: Path, fake_encoder: FakeEncoder) -> AsyncIterator[Bot]:
    running = Bot(two_communities(), clock, db_path, fake_encoder)
    yield running
    await running.runtime.close()


def open_in(bot: Bot, msg: MessageFactory, community: str, texts: list[str]) -> list[int]:
    ids: list[int] = []
    for n, text in enumerate(texts):
        message = msg(text, author=f"{community}-u{n}", name=f"M{n}", channel=f"c{n}")
        ids.extend(bot.core.ingest(replace(message, community=community)).case_ids)
    return ids


def head_bytes(bot: Bot, community: str) -> bytes | None:
    path = bot.detector.heads.path_for(community)
    return path.read_bytes() if path.is_file() else None


async def test_two_communities_learn_two_heads_from_their_own_decisions(
    bot: Bot, msg: MessageFactory, clock: ManualClock
) -> None:
    default = bot.question_score(community=A)
    assert default >= 0.5  # the default head takes a bot command for a question
    in_a = open_in(bot, msg, COMMUNITY, COMMANDS)
    in_b = open_in(bot, msg, OTHER, COMMANDS)
    for case_id in in_a:
        bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
    for case_id in in_b:
        bot.core.review.approve(MOD, case_id, text="Here you go, {member}.")

    attempts = await bot.tick_and_learn_all()

    # One attempt per community, each on its own decisions and its own held-out set.
    assert len(attempts) == 2
    a_journal, b_journal = read_journal(bot.journal(A)), read_journal(bot.journal(B))
    assert list(a_journal.attempts) == [attempts[0]]
    assert list(b_journal.attempts) == [attempts[1]]
    assert set(a_journal.trained_on) == {c for c in in_a if not held_out(c)}
    assert set(b_journal.trained_on) == {c for c in in_b if not held_out(c)}
    assert attempts[0].held_out == sum(1 for c in in_a if held_out(c))
    assert attempts[1].held_out == sum(1 for c in in_b if held_out(c))
    # Two heads: A now reads a bot command as chatter, B still as a question.
    first_a, first_b = head_bytes(bot, A), head_bytes(bot, B)
    assert first_a is not None
    assert first_b is not None
    assert first_a != first_b
    assert bot.question_score(community=A) < 0.5
    assert bot.question_score(community=B) >= 0.5
    # A community with no head of its own still gets the default one.
    assert bot.question_score(community="discord:guild-3") == default
    # The live path: a member's message in A is scored with A's head, in B with B's.
    in_a_now = open_in(bot, msg, COMMUNITY, [PROBE])
    in_b_now = open_in(bot, msg, OTHER, [PROBE])
    assert in_a_now == []
    assert len(in_b_now) == 1

    # More decisions in A only: A's head is refitted, B's is not touched.
    more = open_in(
        bot, msg, COMMUNITY, [f"est-ce que quelqu'un a vu la machine {n} ?" for n in range(20)]
    )
    assert len(more) >= 12
    for case_id in more:
        bot.core.review.dismiss(MOD, case_id, DismissReason.SPAM)
    clock.advance(timedelta(hours=6))
    (again,) = await bot.tick_and_learn_all()
    assert read_attempts(bot.journal(A))[-1] == again
    assert len(read_attempts(bot.journal(B))) == 1
    assert head_bytes(bot, B) == first_b
    assert bot.question_score(community=B) >= 0.5

    # Each community's weekly digest speaks of its own learning, in its own language.
    wednesday = datetime(2026, 11, 4, 9, 30, tzinfo=UTC)
    due = {d.community: d.text for d in bot.core.digests.due(wednesday)}
    assert f"Appris de {again.learned} de vos décisions" in due[COMMUNITY]
    assert f"Learned from {attempts[1].learned} of your decisions" in due[OTHER]
    assert "Learned" not in due[COMMUNITY]
    assert "Appris" not in due[OTHER]


async def test_a_worse_head_in_one_community_keeps_its_old_head_and_spares_the_other(
    bot: Bot, msg: MessageFactory
) -> None:
    in_a = open_in(bot, msg, COMMUNITY, COMMANDS)
    in_b = open_in(bot, msg, OTHER, COMMANDS)
    for case_id in in_a:
        bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
    # B's held-out cases say "real questions", the rest says the opposite: a head fitted on
    # the rest does worse where it is checked, so B keeps the head it had (the default).
    for case_id in in_b:
        if held_out(case_id):
            bot.core.review.approve(MOD, case_id, text="Here you go, {member}.")
        else:
            bot.core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
    before_b = bot.question_score(community=B)

    kept_a, refused_b = await bot.tick_and_learn_all()

    assert kept_a.kept
    assert not refused_b.kept
    assert head_bytes(bot, A) is not None
    assert head_bytes(bot, B) is None
    assert bot.question_score(community=B) == before_b
    assert read_journal(bot.journal(B)).trained_on == ()
    wednesday = datetime(2026, 11, 4, 9, 30, tzinfo=UTC)
    due = {d.community: d.text for d in bot.core.digests.due(wednesday)}
    assert "Appris de" in due[COMMUNITY]
    assert "was not kept" in due[OTHER]
