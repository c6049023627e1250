"""A regular helper's question to another member opens no case; the asker's case stays open."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.conversation import LOOKBACK, MIN_ANSWERS, answers_given
from bot.ingest import Outcome
from bot.models import CaseState
from tests.conftest import MessageFactory

# Read as questions by the rule detector, and not worded as a typical helper's question, so
# that what decides here is the conversation, not the wording.
CLARIFYING = "is the cable plugged into the back port?"


def _make_helper(
    core: Huitaine, msg: MessageFactory, clock: ManualClock, *, ago: timedelta
) -> None:
    """Bob answers other members MIN_ANSWERS times, `ago` before now."""
    for n in range(MIN_ANSWERS):
        core.ingest(
            msg(
                f"bonne journée à toi {n}",
                author="u-carol",
                name="Carol",
                id=f"c{n}",
                at=clock.now() - ago,
            )
        )
        core.ingest(
            msg(
                "avec plaisir",
                author="u-bob",
                name="Bob",
                reply_to=f"c{n}",
                at=clock.now() - ago + timedelta(minutes=1),
            )
        )


def test_a_regular_helpers_question_in_reply_opens_no_case(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    _make_helper(core, msg, clock, ago=timedelta(days=2))
    asked = core.ingest(
        msg("my printer stopped working since the update, how do I fix it?", id="ask")
    )
    assert asked.outcome is Outcome.OPENED
    helper = core.ingest(
        msg(CLARIFYING, author="u-bob", name="Bob", reply_to="ask", after=timedelta(minutes=5))
    )
    assert helper.outcome is Outcome.STORED
    cases = core.cases.list()
    assert [case.author.name for case in cases] == ["Alice"]
    assert cases[0].state.waiting


def test_the_same_question_from_a_newcomer_opens_a_case(
    core: Huitaine, msg: MessageFactory
) -> None:
    core.ingest(msg("my printer stopped working since the update, how do I fix it?", id="ask"))
    newcomer = core.ingest(
        msg(CLARIFYING, author="u-dan", name="Dan", reply_to="ask", after=timedelta(minutes=5))
    )
    assert newcomer.outcome is Outcome.OPENED


def test_a_helpers_question_in_someone_elses_thread_opens_no_case(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    _make_helper(core, msg, clock, ago=timedelta(days=1))
    start = core.ingest(msg("comment je connecte la découpeuse laser au wifi ?", thread="t-laser"))
    assert start.outcome is Outcome.OPENED
    helper = core.ingest(
        msg(CLARIFYING, author="u-bob", name="Bob", thread="t-laser", after=timedelta(minutes=3))
    )
    assert helper.outcome is Outcome.STORED
    assert core.cases.get(start.case_ids[0]).state is CaseState.SUGGESTED


def test_a_helper_who_reports_a_problem_is_heard(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    _make_helper(core, msg, clock, ago=timedelta(days=1))
    core.ingest(msg("the upload page gives an error 500, anyone else?", id="ask"))
    helper = core.ingest(
        msg(
            "same here, my upload fails every time, this is really annoying",
            author="u-bob",
            name="Bob",
            reply_to="ask",
            after=timedelta(minutes=2),
        )
    )
    assert helper.outcome is Outcome.OPENED


def test_a_helpers_question_replying_to_chit_chat_is_their_own(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    _make_helper(core, msg, clock, ago=timedelta(days=1))
    core.ingest(msg("bonne soirée tout le monde", id="hi"))
    own = core.ingest(
        msg(CLARIFYING, author="u-bob", name="Bob", reply_to="hi", after=timedelta(minutes=1))
    )
    assert own.outcome is Outcome.OPENED


def test_answers_older_than_the_look_back_do_not_make_a_helper(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    _make_helper(core, msg, clock, ago=LOOKBACK + timedelta(days=1))
    core.ingest(msg("my printer stopped working since the update, how do I fix it?", id="ask"))
    late = msg(CLARIFYING, author="u-bob", name="Bob", reply_to="ask", after=timedelta(minutes=5))
    assert answers_given(core.store, late) == 0
    assert core.ingest(late).outcome is Outcome.OPENED
