"""Business links survive a restart, and the latest report of the platform wins."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from bot.business import BusinessLink, BusinessLinks, LinkState
from bot.storage import Store

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def link(**changes: object) -> BusinessLink:
    base = BusinessLink(
        platform="telegram",
        id="BAAd1Zr9Qfj0EAAAsUxWJXLv2aQ",
        owner_id="555555555",
        owner_name="Margaux Petit",
        owner_chat="555555555",
        can_reply=True,
        enabled=True,
        updated_at=NOW,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_link_is_kept_across_a_restart_and_updated_in_place(db_path: Path) -> None:
    store = Store(db_path)
    links = BusinessLinks(store)
    assert links.save(link()) is None
    before = links.save(link(can_reply=False))
    assert before is not None
    assert before.state is LinkState.ACTIVE
    store.close()
    again = BusinessLinks(Store(db_path))
    (kept,) = again.all("telegram")
    assert kept.state is LinkState.NO_REPLY
    assert kept.updated_at == NOW
    assert again.get("telegram", kept.id) == kept
    assert again.get("discord", kept.id) is None


def test_a_disabled_link_is_ended_whatever_its_rights() -> None:
    assert link(enabled=False).state is LinkState.ENDED
    assert link(enabled=False, can_reply=False).state is LinkState.ENDED
