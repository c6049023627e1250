"""Replies moderators approved before, offered again when a similar request comes back."""

from __future__ import annotations

from bot.insights import content_words
from bot.models import Kind, Suggestion
from bot.storage import Store

# Below this word overlap two requests are rarely about the same thing.
MIN_SIMILARITY = 0.3
# Only the most recent approved replies are compared: recent wording is the community's own.
RECENT_REPLIES = 500


class ReplyMemory:
    """Finds earlier approved replies to requests like this one."""

    def __init__(self, store: Store) -> None:
        """Read approved replies from `store`."""
        self.store = store

    def suggest(
        self,
        *,
        text: str,
        kind: Kind,
        language: str,
        member: str,
        platform: str | None = None,
        community: str | None = None,
    ) -> list[Suggestion]:
        """Earlier approved replies whose request shares enough words with `text`, best first.

        With `platform` and `community`, only that community's replies: none crosses over.
        """
        words = content_words(text)
        if not words:
            return []
        rows = self.store.rows(
            "SELECT o.case_id, o.text AS reply, c.author_name, m.text AS request"
            " FROM outgoing o JOIN cases c ON c.id = o.case_id"
            " JOIN messages m ON m.case_id = c.id AND m.created_at = c.opened_at"
            " WHERE o.state = 'sent' AND c.kind = ? AND c.language = ?"
            " AND (CAST(? AS TEXT) IS NULL OR (o.platform = ? AND o.community = ?))"
            " ORDER BY o.id DESC LIMIT ?",
            (kind.value, language, platform, platform, community, RECENT_REPLIES),
        )
        found: dict[str, Suggestion] = {}
        for row in rows:
            other = content_words(row["request"])
            similarity = len(words & other) / len(words | other) if other else 0.0
            if similarity < MIN_SIMILARITY:
                continue
            # The earlier reply greeted its own member; this one greets the new member.
            reply = str(row["reply"]).replace(str(row["author_name"]), member)
            if reply not in found or found[reply].score < similarity:
                found[reply] = Suggestion(
                    text=reply,
                    language=language,
                    source=f"approved:case-{row['case_id']}",
                    score=round(min(0.99, 0.5 + similarity / 2), 3),
                )
        return sorted(found.values(), key=lambda s: -s.score)
