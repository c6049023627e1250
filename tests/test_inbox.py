"""The inbox (raw updates kept until the core takes them) is members' data too."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.inbox import Inbox
from bot.privacy import forget_member, purge_older_than


def _update(n: int, user: int, text: str) -> dict[str, object]:
    return {"update_id": n, "message": {"from": {"id": user}, "text": text}}


def test_kept_updates_come_back_in_order_once_and_go_when_handled(
    core: Huitaine, clock: ManualClock
) -> None:
    inbox = Inbox(core.store, "telegram", clock)
    inbox.keep(12, "7", _update(12, 7, "second"))
    inbox.keep(11, "7", _update(11, 7, "first"))
    inbox.keep(11, "7", _update(11, 7, "first"))  # fetched again: kept once
    assert [u["update_id"] for u in inbox.pending()] == [11, 12]
    assert Inbox(core.store, "discord", clock).pending() == []  # per platform
    assert inbox.done_through(11) == 1
    assert [u["update_id"] for u in inbox.pending()] == [12]


def test_forget_and_retention_clear_a_members_kept_updates(
    core: Huitaine, clock: ManualClock
) -> None:
    inbox = Inbox(core.store, "telegram", clock)
    inbox.keep(1, "7", _update(1, 7, "my address is 3 rue des Lilas"))
    clock.advance(timedelta(days=2))
    inbox.keep(2, "8", _update(2, 8, "hello"))
    inbox.keep(3, "7", _update(3, 7, "and my phone 06 12 34 56 78"))

    forget_member(core.store, "telegram", "7", clock.now())
    assert [u["update_id"] for u in inbox.pending()] == [2]

    inbox.keep(4, "9", _update(4, 9, "old news"))
    clock.advance(timedelta(days=400))
    inbox.keep(5, "9", _update(5, 9, "fresh"))
    purge_older_than(core.store, clock.now() - timedelta(days=365))
    assert [u["update_id"] for u in inbox.pending()] == [5]
