"""Every decision by every kind of actor: only staff of the case's own community may act.

The core judges; whatever an adapter shows, a moderator of another server, an admin of another
group, an operator of another platform or a forged id gets NotAllowed, and nothing changes:
no decision in the audit log, nothing in the outbox, the case as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import parse_config
from bot.models import Actor, DismissReason, Kind, Standing
from bot.review import NotAllowed
from tests.conftest import COMMUNITY, MessageFactory

OTHER = "guild-2"
ROLE = frozenset({"Moderator"})

ACTORS: dict[str, tuple[Actor, bool]] = {
    "member": (
        Actor("discord", "u-bob", "Bob", (Standing(COMMUNITY, frozenset({"member"})),)),
        False,
    ),
    "staff of another server": (Actor("discord", "u-eve", "Eve", (Standing(OTHER, ROLE),)), False),
    "platform admin of another server": (
        Actor("discord", "u-eve", "Eve", (Standing(OTHER, admin=True),)),
        False,
    ),
    "role claimed with no server": (Actor("discord", "u-eve", "Eve", ()), False),
    "operator of the other platform": (Actor("telegram", "op-1", "Op", ()), False),
    "same id on the other platform": (
        Actor("telegram", "staff-1", "Camille", (Standing(COMMUNITY, ROLE),)),
        False,
    ),
    "forged operator id": (Actor("discord", "op-1 ", "Op", ()), False),
    "staff": (Actor("discord", "staff-1", "Camille", (Standing(COMMUNITY, ROLE),)), True),
    "platform admin": (Actor("discord", "u-ann", "Ann", (Standing(COMMUNITY, admin=True),)), True),
    "operator": (Actor("discord", "op-1", "Op", ()), True),
}


def _approve(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.approve(actor, case_id)


def _edit(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.approve(actor, case_id, text="Bonjour, c'est parti. — Camille")


def _dismiss(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.dismiss(actor, case_id, DismissReason.SPAM)


def _snooze(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.snooze(actor, case_id)


def _assign(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.assign(actor, case_id)


def _resolve(core: Huitaine, actor: Actor, case_id: int) -> Any:
    _answer(core, case_id)
    return core.review.resolve(actor, case_id)


def _confirm(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.confirm_sent(actor, _in_doubt(core, case_id))


def _resend(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.retry_send(actor, _in_doubt(core, case_id))


def _open_by_hand(core: Huitaine, actor: Actor, case_id: int) -> Any:
    key = core.store.row("SELECT key FROM messages WHERE case_id IS NULL")
    assert key is not None
    return core.review.open_by_hand(actor, key["key"], Kind.QUESTION, suggester=core.suggester)


def _view(core: Huitaine, actor: Actor, case_id: int) -> Any:
    return core.review.case_for(actor, case_id)


def _answer(core: Huitaine, case_id: int) -> None:
    staff = ACTORS["staff"][0]
    core.review.mark_sent(core.review.approve(staff, case_id).id, "m-1")


def _in_doubt(core: Huitaine, case_id: int) -> int:
    item = core.review.approve(ACTORS["staff"][0], case_id)
    return core.review.mark_unconfirmed(item.id).id


ACTIONS: dict[str, Callable[[Huitaine, Actor, int], Any]] = {
    "approve": _approve,
    "edit": _edit,
    "dismiss": _dismiss,
    "snooze": _snooze,
    "assign": _assign,
    "resolve": _resolve,
    "confirm": _confirm,
    "resend": _resend,
    "open by hand": _open_by_hand,
    "view the case": _view,
}


@pytest.fixture
def core(clock: ManualClock, db_path: Path) -> Huitaine:
    config = parse_config(
        {"detection": {"detector": "rules"}, "staff": {"user_ids": ["discord:op-1"]}}
    )
    return Huitaine(config, clock=clock, database=db_path)


def _snapshot(core: Huitaine) -> tuple[Any, ...]:
    return (
        core.store.rows("SELECT id, state, assignee, snoozed_until FROM cases ORDER BY id"),
        core.store.rows("SELECT id, state FROM outgoing ORDER BY id"),
        core.store.rows("SELECT id, action, actor_id FROM decisions ORDER BY id"),
    )


@pytest.mark.parametrize("who", list(ACTORS))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_only_staff_of_the_cases_community_may_act(
    core: Huitaine, msg: MessageFactory, who: str, action: str
) -> None:
    case_id = core.ingest(msg("où est mon colis ? toujours rien reçu")).case_ids[0]
    core.ingest(msg("bonne journée à tous", author="u-carl", name="Carl"))  # for "open by hand"
    actor, allowed = ACTORS[who]
    perform = ACTIONS[action]
    if allowed:
        perform(core, actor, case_id)
        return
    # Set-up steps taken by real staff (an answer to resolve, a reply in doubt) come first.
    if action in ("resolve", "confirm", "resend"):
        setup = {"resolve": _answer, "confirm": _in_doubt, "resend": _in_doubt}[action]
        setup(core, case_id)
        perform = {
            "resolve": lambda c, a, i: c.review.resolve(a, i),
            "confirm": lambda c, a, i: c.review.confirm_sent(a, _last_reply(c)),
            "resend": lambda c, a, i: c.review.retry_send(a, _last_reply(c)),
        }[action]
    before = _snapshot(core)
    with pytest.raises(NotAllowed):
        perform(core, actor, case_id)
    assert _snapshot(core) == before


def _last_reply(core: Huitaine) -> int:
    row = core.store.row("SELECT MAX(id) AS id FROM outgoing")
    assert row is not None
    return int(row["id"])


def test_lists_and_reports_show_only_the_moderators_own_communities(
    core: Huitaine, msg: MessageFactory
) -> None:
    ours = core.ingest(msg("où est mon colis ? toujours rien reçu")).case_ids[0]
    theirs_message = replace(
        msg("my invoice is wrong, please fix it", author="u-zed", name="Zed"), community=OTHER
    )
    theirs = core.ingest(theirs_message).case_ids[0]
    staff, _ = ACTORS["staff"]
    eve, _ = ACTORS["staff of another server"]
    operator, _ = ACTORS["operator"]
    member, _ = ACTORS["member"]
    assert [c.id for c in core.waiting(core.review.scope(staff))] == [ours]
    assert [c.id for c in core.waiting(core.review.scope(eve))] == [theirs]
    assert {c.id for c in core.waiting(core.review.scope(operator))} == {ours, theirs}
    assert core.waiting(core.review.scope(member)) == []
    theirs_report = core.report_text(scope=core.review.scope(eve))
    assert "Zed" in theirs_report
    assert "Alice" not in theirs_report
    assert "Alice" in core.report_text(scope=core.review.scope(staff))


@pytest.mark.parametrize("who", [w for w, (a, _) in ACTORS.items() if a.platform == "discord"])
def test_whoever_may_act_on_a_case_answers_it_as_staff(
    who: str, core: Huitaine, msg: MessageFactory
) -> None:
    # One policy, two questions: the facts that let someone act on this community's cases
    # make their message there a staff answer, and nothing less or more.
    actor, allowed = ACTORS[who]
    said = msg("c'est réglé, merci", author=actor.id, name=actor.name)
    said = replace(said, author=replace(said.author, standing=next(iter(actor.standing), None)))
    assert core.ingestor.is_staff(said) is allowed
