"""Where review cards were posted, so that a card is edited in place, even after a restart."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage import Store


@dataclass(frozen=True, slots=True)
class CardRef:
    """One posted review card."""

    case_id: int
    platform: str
    chat: str
    message_id: str


class Cards:
    """Reads and writes card locations."""

    def __init__(self, store: Store) -> None:
        """Work on `store`."""
        self.store = store

    def save(self, ref: CardRef) -> None:
        """Remember (or move) the card of a case on a platform."""
        self.store.execute(
            "INSERT INTO cards (case_id, platform, chat, message_id) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (case_id, platform) DO UPDATE SET chat = excluded.chat,"
            " message_id = excluded.message_id",
            (ref.case_id, ref.platform, ref.chat, ref.message_id),
        )

    def for_case(self, case_id: int, platform: str) -> CardRef | None:
        """The card of a case on a platform, if one was posted."""
        row = self.store.row(
            "SELECT * FROM cards WHERE case_id = ? AND platform = ?", (case_id, platform)
        )
        return CardRef(**row) if row else None

    def by_message(self, platform: str, chat: str, message_id: str) -> CardRef | None:
        """The card posted as this platform message (a moderator replied to it)."""
        row = self.store.row(
            "SELECT * FROM cards WHERE platform = ? AND chat = ? AND message_id = ?",
            (platform, chat, message_id),
        )
        return CardRef(**row) if row else None
