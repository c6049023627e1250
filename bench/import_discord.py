"""Import benchmark: a generated DiscordChatExporter file, streamed into SQLite.

Prints import throughput (messages/s), the resident memory at 10 %, 50 % and 100 % of the file
(flat means memory does not grow with the file) and the peak. Processing (detection, cases)
is measured apart, on a slice, since `huitaine audit` runs it after the import.
Run: python bench/import_discord.py [--messages 1000000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.exports.common import ImportStats, StaffRule
from adapters.exports.discord_export import read_discord_export
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.models import Message

TEXTS = [
    "Bonjour, ma commande n'est toujours pas arrivée",
    "anyone know how to reset my password",
    "merci beaucoup !",
    "lol",
    "the app keeps crashing since the update",
    "est-ce que l'atelier est ouvert dimanche ?",
    "nice work everyone",
    "je n'arrive pas à payer",
]


def current_rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def generate(path: Path, count: int) -> None:
    """Write a DiscordChatExporter-shaped file with `count` messages, streaming."""
    rng = random.Random(8)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '{"guild": {"id": "810000000000000001", "name": "Bench", "iconUrl": ""},\n'
            '"channel": {"id": "820000000000000002", "type": "GuildTextChat", "categoryId": null,'
            ' "category": null, "name": "general", "topic": null},\n'
            '"dateRange": {"after": null, "before": null}, "exportedAt": "2026-01-01T00:00:00Z",\n'
            '"messages": [\n'
        )
        for i in range(count):
            user = rng.randrange(500)
            staff = user < 5
            record = {
                "id": str(900000000000000000 + i),
                "type": "Reply" if staff and i else "Default",
                "timestamp": (start + timedelta(seconds=30 * i)).isoformat(),
                "timestampEdited": None,
                "isPinned": False,
                "content": rng.choice(TEXTS),
                "author": {
                    "id": str(700000000000000000 + user),
                    "name": f"user{user}",
                    "discriminator": "0000",
                    "nickname": f"Membre {user}",
                    "isBot": False,
                    "roles": [{"id": "1", "name": "Moderator"}] if staff else [],
                    "avatarUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
                },
                "attachments": [],
                "embeds": [],
                "reactions": [],
                "mentions": [],
            }
            if staff and i:
                record["reference"] = {"messageId": str(900000000000000000 + i - 1)}
            out.write(("," if i else "") + json.dumps(record, ensure_ascii=False) + "\n")
        out.write(f'], "messageCount": {count}}}\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--process", type=int, default=20_000, help="messages to process after")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.json"
        generate(export, args.messages)
        size_mb = export.stat().st_size / 2**20
        clock = ManualClock(datetime(1970, 1, 1, tzinfo=UTC))
        core = Huitaine(Config(), clock=clock, database=Path(tmp) / "bench.db")
        stats = ImportStats()
        marks = {int(args.messages * share): share for share in (0.1, 0.5)}
        rss: dict[str, float] = {}

        def watched() -> Iterator[Message]:
            for count, message in enumerate(
                read_discord_export(export, StaffRule.of(["moderator"]), stats, progress=False),
                start=1,
            ):
                if count in marks:
                    rss[f"{marks[count]:.0%}"] = current_rss_mb()
                yield message

        start = time.perf_counter()
        added = core.ingestor.store_many(watched())
        elapsed = time.perf_counter() - start
        rss["100%"] = current_rss_mb()

        # Processing a slice in time order, as `huitaine audit` does after the import.
        core.store.execute(
            "UPDATE messages SET processed = 1 WHERE key NOT IN (SELECT key FROM messages"
            " ORDER BY created_at LIMIT ?)",
            (args.process,),
        )
        t0 = time.perf_counter()
        processed = core.ingestor.process_pending()
        processing = time.perf_counter() - t0
        core.close()

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| metric | value |")
    print("|---|---|")
    print(f"| export | {args.messages:,} messages, {size_mb:,.0f} MB |")
    print(f"| stored | {added:,} |")
    print(f"| import throughput | {added / elapsed:,.0f} messages/s ({elapsed:.1f} s) |")
    print(
        "| resident memory at 10 % / 50 % / 100 % | "
        + " / ".join(f"{rss.get(k, float('nan')):.0f}" for k in ("10%", "50%", "100%"))
        + " MB |"
    )
    print(f"| peak memory (whole process) | {peak:.0f} MB |")
    print(
        f"| processing (detect + cases), {processed:,} messages | "
        f"{processed / processing:,.0f} messages/s |"
    )


if __name__ == "__main__":
    main()
