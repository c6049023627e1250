"""A reply posted, then left in doubt by a crash or a timeout, and the member writes again.

Confirmed later, the reply counts from when it was posted, and the member's messages written
after it are read as they would have been without the crash: a question or a complaint
reopens the case (the next-response clock), a "thanks" is not part of it.
"""

from __future__ import annotations

from datetime import timedelta

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.ingest import Outcome
from bot.models import Action, CaseState, Kind, SendState
from tests.conftest import MOD, START, MessageFactory

POSTED = START + timedelta(minutes=10)


def _answered_in_doubt(core: Huitaine, msg: MessageFactory, clock: ManualClock) -> tuple[int, int]:
    """A question, a reply approved and posted at POSTED, whose send ended in doubt."""
    case_id = core.ingest(msg("How do I reset my password?", id="ask")).case_ids[0]
    clock.set(POSTED)
    item = core.review.approve(MOD, case_id)
    # The platform took it, but its answer never came back (or the process died here).
    core.review.mark_unconfirmed(item.id)
    return case_id, item.id


def test_a_complaint_written_while_the_reply_was_in_doubt_reopens_the_case_once_confirmed(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    case_id, reply_id = _answered_in_doubt(core, msg, clock)
    thanks = START + timedelta(minutes=30)
    follow_up = START + timedelta(minutes=50)
    core.ingest(msg("thanks!", at=thanks, id="thanks"))
    joined = core.ingest(
        msg("It still does not work, why is the link missing?", at=follow_up, id="again")
    )
    # Before anyone confirms, the case still waits on the first reply: the member joined it.
    assert joined.outcome is Outcome.JOINED

    clock.set(START + timedelta(hours=2))
    confirmed = core.review.confirm_sent(MOD, reply_id)

    assert confirmed.state is SendState.SENT
    case = core.cases.get(case_id)
    # As in a run without the crash: answered when posted, reopened by the complaint after it.
    assert case.first_response_at == POSTED
    assert case.state.waiting
    assert case.reopened == 1
    assert case.kind is Kind.COMPLAINT
    assert case.target_at == follow_up + timedelta(hours=24)
    assert case.due_at == follow_up + timedelta(days=7)
    assert case.last_message_at == follow_up
    assert case.message_ids == ("ask", "again")  # the "thanks" came after the answer
    assert case.suggestions  # a new draft, for the follow-up
    log = core.review.audit_log(case_id)
    assert [(row["action"], row["at"]) for row in log if row["action"] == "reopen"] == [
        (Action.REOPEN.value, follow_up.isoformat(timespec="microseconds"))
    ]
    sent_at = core.store.row("SELECT sent_at FROM outgoing WHERE id = ?", (reply_id,))
    assert sent_at == {"sent_at": POSTED.isoformat(timespec="microseconds")}
    # The reopened case takes a new reply, as any follow-up does.
    assert core.review.approve(MOD, case_id).state is SendState.SENDING


def test_a_thanks_written_while_the_reply_was_in_doubt_leaves_the_case_answered(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    case_id, reply_id = _answered_in_doubt(core, msg, clock)
    assert core.ingest(msg("thanks!", after=timedelta(minutes=20), id="thanks")).case_ids
    clock.advance(timedelta(hours=3))

    core.review.confirm_sent(MOD, reply_id)

    case = core.cases.get(case_id)
    assert case.state is CaseState.ANSWERED
    assert case.first_response_at == POSTED
    assert case.message_ids == ("ask",)
    assert case.last_message_at == START
    assert case.reopened == 0


def test_a_reply_resent_then_in_doubt_again_counts_from_the_resend(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    case_id, reply_id = _answered_in_doubt(core, msg, clock)
    resent = START + timedelta(minutes=40)
    clock.set(resent)
    core.review.retry_send(MOD, reply_id)
    core.review.mark_unconfirmed(reply_id)  # in doubt once more
    clock.advance(timedelta(hours=1))

    core.review.confirm_sent(MOD, reply_id)

    assert core.cases.get(case_id).first_response_at == resent
