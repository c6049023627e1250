"""Moderators' decisions: who may act, the audit log, and sending each reply exactly once."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.models import Action, Actor, CaseState, DismissReason, Kind, SendState, Standing
from bot.review import NotAllowed, ReviewError
from tests.conftest import MEMBER_ACTOR, MOD, START, MessageFactory


def open_case(
    core: Huitaine, msg: MessageFactory, text: str = "où est mon colis ? toujours rien reçu"
) -> int:
    return core.ingest(msg(text, id="orig" if "colis" in text else None)).case_ids[0]


def test_non_moderator_cannot_approve_and_nothing_is_queued(
    core: Huitaine, msg: MessageFactory
) -> None:
    case_id = open_case(core, msg)
    with pytest.raises(NotAllowed):
        core.review.approve(MEMBER_ACTOR, case_id)
    # Claiming a role the configuration does not know does not help either.
    with pytest.raises(NotAllowed):
        core.review.approve(
            Actor("discord", "u-x", "X", (Standing("guild-1", frozenset({"VIP"})),)), case_id
        )
    for action in (core.review.dismiss, core.review.snooze, core.review.assign):
        args = (DismissReason.SPAM,) if action == core.review.dismiss else ()
        with pytest.raises(NotAllowed):
            action(MEMBER_ACTOR, case_id, *args)  # type: ignore[operator]
    assert core.review.outbox() == []
    assert core.review.audit_log() == []
    assert core.cases.get(case_id).state is CaseState.SUGGESTED


def test_approve_signs_queues_as_sending_and_answers_once_sent(
    core: Huitaine, clock: ManualClock, msg: MessageFactory
) -> None:
    case_id = open_case(core, msg)
    clock.advance(timedelta(hours=2))
    item = core.review.approve(MOD, case_id)
    assert item.state is SendState.SENDING
    assert item.reply_to == "orig"
    assert "Camille" in item.text
    assert "{moderator}" not in item.text
    assert "Alice" in item.text
    assert core.cases.get(case_id).state is CaseState.SUGGESTED  # not answered until sent
    sent = core.review.mark_sent(item.id, "platform-99")
    assert sent.state is SendState.SENT
    case = core.cases.get(case_id)
    assert case.state is CaseState.ANSWERED
    assert case.first_response_at == START + timedelta(hours=2)
    assert case.answered_by == "Camille"
    with pytest.raises(ReviewError):
        core.review.approve(MOD, case_id)
    log = core.review.audit_log(case_id)
    assert [row["action"] for row in log] == [Action.APPROVE.value]
    assert log[0]["actor_name"] == "Camille"
    assert log[0]["text"] == item.text


def test_edit_then_approve_sends_the_moderators_text(core: Huitaine, msg: MessageFactory) -> None:
    case_id = open_case(core, msg)
    item = core.review.approve(
        MOD, case_id, text="  Bonjour Alice, je regarde votre colis. Camille "
    )
    assert item.text == "Bonjour Alice, je regarde votre colis. Camille"
    assert core.review.audit_log(case_id)[0]["action"] == Action.EDIT.value
    with pytest.raises(ReviewError, match="empty"):
        core.review.approve(
            MOD, core.ingest(msg("how do I pay??", author="u-z", name="Z")).case_ids[0], text="   "
        )


def test_a_second_approval_while_sending_is_refused(core: Huitaine, msg: MessageFactory) -> None:
    case_id = open_case(core, msg)
    core.review.approve(MOD, case_id)
    with pytest.raises(ReviewError, match="already has a reply being sent"):
        core.review.approve(MOD, case_id, text="another")
    assert len(core.review.outbox()) == 1


def test_crash_between_sending_and_sent_is_never_resent_blindly(
    config: Config, clock: ManualClock, db_path: Path, msg: MessageFactory
) -> None:
    first = Huitaine(config, clock=clock, database=db_path)
    case_id = first.ingest(msg("je veux être remboursé, c'est une arnaque")).case_ids[0]
    item = first.review.approve(MOD, case_id)
    first.close()  # the process dies: was it posted? nobody knows

    second = Huitaine(config, clock=clock, database=db_path)
    assert [o.id for o in second.unconfirmed] == [item.id]
    assert second.review.outbox(SendState.SENDING) == []  # nothing for an adapter to send
    with pytest.raises(ReviewError):
        second.review.approve(MOD, case_id)
    with pytest.raises(NotAllowed):
        second.review.retry_send(MEMBER_ACTOR, item.id)
    # The moderator looked at the channel and saw it was posted.
    confirmed = second.review.confirm_sent(MOD, item.id)
    assert confirmed.state is SendState.SENT
    assert second.cases.get(case_id).state is CaseState.ANSWERED
    assert second.review.audit_log(case_id)[-1]["action"] == Action.CONFIRM_SENT.value
    second.close()


def test_retry_after_an_unconfirmed_send_queues_exactly_one_more(
    config: Config, clock: ManualClock, db_path: Path, msg: MessageFactory
) -> None:
    first = Huitaine(config, clock=clock, database=db_path)
    case_id = first.ingest(msg("how do I cancel? it's broken")).case_ids[0]
    item = first.review.approve(MOD, case_id)
    first.close()
    second = Huitaine(config, clock=clock, database=db_path)
    retried = second.review.retry_send(MOD, item.id)
    assert retried.state is SendState.SENDING
    assert [o.id for o in second.review.outbox(SendState.SENDING)] == [item.id]
    with pytest.raises(ReviewError):
        second.review.retry_send(MOD, item.id)
    second.close()


def test_failed_send_can_be_approved_again(core: Huitaine, msg: MessageFactory) -> None:
    case_id = open_case(core, msg)
    item = core.review.approve(MOD, case_id)
    core.review.mark_failed(item.id, "403 Forbidden: bot not in chat")
    assert core.cases.get(case_id).state.waiting
    again = core.review.approve(MOD, case_id, text="Bonjour Alice, je m'en occupe.")
    assert again.id != item.id


def test_dismiss_snooze_assign_resolve_are_logged(
    core: Huitaine, clock: ManualClock, msg: MessageFactory
) -> None:
    case_id = open_case(core, msg)
    snoozed = core.review.snooze(MOD, case_id, timedelta(days=30))
    assert snoozed.snoozed_until == snoozed.due_at  # never past the one-week limit
    assert core.review.assign(MOD, case_id).assignee == "Camille"
    dismissed = core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST, "a joke")
    assert dismissed.state is CaseState.DISMISSED
    with pytest.raises(ReviewError):
        core.review.approve(MOD, case_id)
    other = core.ingest(msg("how do I reset my password?", author="u-b", name="B")).case_ids[0]
    core.review.mark_sent(core.review.approve(MOD, other).id)
    assert core.review.resolve(MOD, other).state is CaseState.RESOLVED
    actions = [row["action"] for row in core.review.audit_log()]
    assert actions == ["snooze", "assign", "dismiss", "approve", "resolve"]
    assert core.review.audit_log(case_id)[2]["reason"] == "not_a_request"


def test_unknown_case_is_a_clear_error(core: Huitaine) -> None:
    with pytest.raises(ReviewError, match="does not exist"):
        core.review.approve(MOD, 999)


def test_refusals_are_explained_in_the_moderators_language(
    core: Huitaine, msg: MessageFactory
) -> None:
    case_id = open_case(core, msg)
    core.review.dismiss(MOD, case_id, DismissReason.SPAM)
    with pytest.raises(ReviewError) as caught:
        core.review.approve(MOD, case_id)
    assert caught.value.explain("fr") == f"le cas n°{case_id} est écarté ; rien à faire"
    assert caught.value.explain("en") == f"case {case_id} is dismissed; nothing to do"
    with pytest.raises(NotAllowed) as refused:
        core.review.approve(MEMBER_ACTOR, case_id)
    assert "seuls les modérateurs" in refused.value.explain("fr")


def test_a_moderator_opens_by_hand_a_case_the_detector_missed(
    core: Huitaine, msg: MessageFactory
) -> None:
    core.ingest(msg("bon ben voilà, encore un week-end sans le colis", id="missed"))
    assert core.cases.list() == []
    key = "discord:guild-1:general:missed"
    with pytest.raises(NotAllowed):
        core.review.open_by_hand(MEMBER_ACTOR, key, Kind.COMPLAINT, suggester=core.suggester)
    case = core.review.open_by_hand(MOD, key, Kind.COMPLAINT, suggester=core.suggester)
    assert case.kind is Kind.COMPLAINT
    assert case.message_ids == ("missed",)
    assert case.suggestions  # a draft is ready like for any case
    assert case.opened_at == START  # the member has waited since they wrote
    assert core.review.audit_log(case.id)[0]["action"] == "open"
    with pytest.raises(ReviewError, match="already in case"):
        core.review.open_by_hand(MOD, key, Kind.QUESTION, suggester=core.suggester)


@pytest.mark.sqlite_only  # bot.detect.train reads the SQLite file
def test_cases_opened_by_hand_become_training_examples(
    core: Huitaine, msg: MessageFactory, db_path: Path
) -> None:
    from bot.detect.train import decisions_examples

    core.ingest(msg("bon ben voilà, encore un week-end sans le colis", id="missed"))
    core.review.open_by_hand(
        MOD, "discord:guild-1:general:missed", Kind.COMPLAINT, suggester=core.suggester
    )
    examples = decisions_examples(str(db_path))
    assert [(e.text, e.complaint) for e in examples] == [
        ("bon ben voilà, encore un week-end sans le colis", 1)
    ]
