"""The inbox: raw inbound updates kept on disk until the core has taken them.

Some platforms forget an update as soon as the bot acknowledges it, before the core has stored
it (Telegram confirms with the next getUpdates offset, a webhook with its 200). An adapter
writes each raw update here before acknowledging it, clears it once handled, and replays what
is left at start-up: a crash in between loses nothing, and since ingestion is idempotent, an
update replayed after it was stored changes nothing. Rows live seconds; `huitaine forget` and
retention clear a member's rows all the same (bot.privacy).
"""

from __future__ import annotations

import json
from typing import Any

from bot.clock import Clock, to_db
from bot.storage import Store


class Inbox:
    """One platform's rows of the `inbox` table; every call is blocking (run it off the loop)."""

    def __init__(self, store: Store, platform: str, clock: Clock) -> None:
        """Keep `platform`'s updates in `store`, dated by `clock`."""
        self.store = store
        self.platform = platform
        self.clock = clock

    def keep(self, update_id: int, member_id: str | None, payload: dict[str, Any]) -> None:
        """Write one raw update, committed before this returns; a second copy is ignored."""
        with self.store.transaction():
            self.store.insert_new(
                "inbox",
                {
                    "platform": self.platform,
                    "update_id": update_id,
                    "member_id": member_id,
                    "received_at": to_db(self.clock.now()),
                    "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                },
            )

    def done_through(self, update_id: int) -> int:
        """Clear every update up to `update_id` (handled in order); return how many."""
        with self.store.transaction():
            cursor = self.store.execute(
                "DELETE FROM inbox WHERE platform = ? AND update_id <= ?",
                (self.platform, update_id),
            )
        return int(cursor.rowcount)

    def pending(self) -> list[dict[str, Any]]:
        """The raw updates kept and not yet handled, oldest first."""
        rows = self.store.rows(
            "SELECT payload FROM inbox WHERE platform = ? ORDER BY update_id", (self.platform,)
        )
        return [json.loads(row["payload"]) for row in rows]
