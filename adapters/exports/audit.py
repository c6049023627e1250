"""`huitaine audit`: import exports into a database, replay them in time order, report."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from adapters.exports.common import ImportStats, StaffRule
from adapters.exports.discord_export import read_discord_export
from adapters.exports.telegram_export import read_telegram_export
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.models import Message
from bot.replay import replay

_LOGGER = logging.getLogger(__name__)


class ExportFormat(enum.StrEnum):
    """The export formats Huitaine reads."""

    DISCORD = "discord"
    TELEGRAM = "telegram"
    JSONL = "jsonl"


def detect_format(path: Path) -> ExportFormat:
    """Tell an export's format from its name and first bytes."""
    if path.suffix == ".jsonl":
        return ExportFormat.JSONL
    with path.open("rb") as handle:
        head = handle.read(65536)
    if b'"guild"' in head and b'"channel"' in head:
        return ExportFormat.DISCORD
    if b'"messages"' in head or b'"chats"' in head:
        return ExportFormat.TELEGRAM
    if head.lstrip().startswith(b"{") and b"\n{" in head:
        return ExportFormat.JSONL
    raise ValueError(f"{path}: not a DiscordChatExporter, Telegram Desktop or JSONL export")


@dataclass
class AuditResult:
    """What an audit imported and where its clock stopped."""

    stats: ImportStats = field(default_factory=ImportStats)
    added: int = 0
    processed: int = 0
    last_time: datetime | None = None


def _since(messages: Iterable[Message], since: datetime | None) -> Iterator[Message]:
    for message in messages:
        if since is None or message.created_at >= since:
            yield message


def run_audit(
    core: Huitaine,
    clock: ManualClock,
    paths: list[Path],
    *,
    staff: StaffRule,
    since: datetime | None = None,
    progress: bool = True,
    infer_helpers: bool = True,
) -> AuditResult:
    """Import every export, then process what was new in time order; nothing is sent.

    Exports name no helpers: with `infer_helpers`, members who often answer others stand for
    them, so the report tells answers by staff, by the community and by nobody apart.
    """
    result = AuditResult()
    core.ingestor.infer_helpers = infer_helpers
    for path in paths:
        kind = detect_format(path)
        if kind is ExportFormat.JSONL:
            with path.open("rb") as handle:
                summary = replay(core, clock, handle)
            result.stats.read += summary.lines
            result.stats.kept += summary.lines - summary.skipped_total
            fresh = summary.lines - summary.skipped_total - summary.outcomes["duplicate"]
            result.added += fresh
            result.processed += fresh
            for reason, count in summary.skipped.items():
                result.stats.skipped[reason] += count
            continue
        reader = read_discord_export if kind is ExportFormat.DISCORD else read_telegram_export
        messages = reader(path, staff, result.stats, progress=progress)
        result.added += core.ingestor.store_many(_since(messages, since))
    result.processed += core.ingestor.process_pending()
    row = core.store.row("SELECT MAX(created_at) AS last FROM messages")
    if row and row["last"]:
        result.last_time = datetime.fromisoformat(row["last"])
        clock.set(result.last_time)
    return result
