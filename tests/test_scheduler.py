"""Reminders and escalation with an injected clock: on time, once, and across restarts."""

from datetime import timedelta
from pathlib import Path

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.models import NoticeKind
from tests.conftest import MOD, START, MessageFactory


def deliver(core: Huitaine, when) -> list[NoticeKind]:
    notices = core.tick(when)
    for notice in notices:
        core.scheduler.mark_delivered(notice.id, when)
    return [notice.kind for notice in notices]


def test_reminders_fire_before_target_and_limit_then_escalate(
    core: Huitaine, msg: MessageFactory
) -> None:
    core.ingest(msg("mon colis n'est jamais arrivé"))  # complaint: target 24 h
    assert deliver(core, START + timedelta(hours=21)) == []
    assert deliver(core, START + timedelta(hours=22)) == [NoticeKind.REMINDER_TARGET]
    assert deliver(core, START + timedelta(hours=23)) == []
    assert deliver(core, START + timedelta(days=6)) == [NoticeKind.REMINDER_LIMIT]
    escalated = core.tick(START + timedelta(days=7, seconds=1))
    assert [n.kind for n in escalated] == [NoticeKind.ESCALATION]
    assert escalated[0].mention == "@moderators"
    assert "Alice" in escalated[0].text
    core.scheduler.mark_delivered(escalated[0].id, START + timedelta(days=7))
    assert deliver(core, START + timedelta(days=30)) == []


def test_answered_case_gets_no_reminder(core: Huitaine, msg: MessageFactory) -> None:
    core.ingest(msg("how do I export my data?", id="q"))
    core.ingest(
        msg(
            "Settings > Export",
            staff=True,
            author="s",
            name="Sam",
            reply_to="q",
            after=timedelta(hours=1),
        )
    )
    assert deliver(core, START + timedelta(days=8)) == []


def test_restart_neither_loses_nor_repeats_a_reminder(
    config: Config, clock: ManualClock, db_path: Path, msg: MessageFactory
) -> None:
    first = Huitaine(config, clock=clock, database=db_path)
    first.ingest(msg("où est ma commande ? toujours rien reçu"))
    recorded = first.tick(START + timedelta(hours=22, minutes=30))
    assert [n.kind for n in recorded] == [NoticeKind.REMINDER_TARGET]
    first.close()  # crash before the adapter delivered it

    second = Huitaine(config, clock=clock, database=db_path)
    again = second.tick(START + timedelta(hours=23))
    assert [n.id for n in again] == [recorded[0].id]  # not lost: still to deliver, same notice
    second.scheduler.mark_delivered(again[0].id, START + timedelta(hours=23))
    second.close()

    third = Huitaine(config, clock=clock, database=db_path)
    assert third.tick(START + timedelta(hours=23, minutes=30)) == []  # not repeated
    assert third.store.row("SELECT COUNT(*) AS n FROM notices") == {"n": 1}
    third.close()


def test_snooze_holds_reminders_but_not_the_escalation(
    core: Huitaine, msg: MessageFactory
) -> None:
    case_id = core.ingest(msg("still waiting on my refund")).case_ids[0]
    core.review.snooze(MOD, case_id, timedelta(days=10))
    assert deliver(core, START + timedelta(days=6, hours=12)) == []
    # The reminders fell due while snoozed and their deadlines are gone: only the escalation.
    assert deliver(core, START + timedelta(days=7, minutes=1)) == [NoticeKind.ESCALATION]


def test_after_a_long_downtime_stale_reminders_give_way_to_the_escalation(
    core: Huitaine, msg: MessageFactory
) -> None:
    core.ingest(msg("is there a way to change my plan?"))
    assert deliver(core, START + timedelta(days=9)) == [NoticeKind.ESCALATION]
    assert deliver(core, START + timedelta(days=10)) == []


def test_a_reminder_still_fires_late_while_its_deadline_holds(
    core: Huitaine, msg: MessageFactory
) -> None:
    core.ingest(msg("is there a way to change my plan?"))  # question: target 48 h
    # Down from 45 h to 47 h: the 46 h reminder is late but the target is still ahead.
    assert deliver(core, START + timedelta(hours=47)) == [NoticeKind.REMINDER_TARGET]
