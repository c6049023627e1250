"""Convert the public replay corpora in ../shared/data/replay to Huitaine's neutral JSONL.

  python scripts/replay_to_jsonl.py ubuntu ../shared/data/replay/ubuntu_irc_disentanglement \
      > u.jsonl
  python scripts/replay_to_jsonl.py disco ../shared/data/replay/disco_discord > d.jsonl

Neither corpus says who the staff are. The N people who answer most often (`--helpers`, by
replies for IRC and by conversations joined for DISCO) stand in for a support team. IRC lines
carry the hand-annotated reply links; DISCO has none, so each disentangled conversation is
treated as a thread. Output goes to stdout; nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_IRC = re.compile(r"^\[(\d\d):(\d\d)\] <([^>]+)> (.*)$")
# The channels' factoid bots answer in a second: they are bots, never the support team.
KNOWN_BOTS = frozenset({"ubottu", "ubotu", "ubotwo", "chanserv", "nickserv"})
_ADDRESS = re.compile(r"^([\w\[\]|^`{}-]+)[:,] ")


def ubuntu(folder: Path, helpers: int) -> list[dict[str, Any]]:
    """Read every raw/annotation pair; a message's reply link comes from the annotation."""
    records: list[dict[str, Any]] = []
    for raw in sorted(folder.glob("*.raw.txt")):
        stem = raw.name.removesuffix(".raw.txt")
        day = datetime.strptime(stem.split("_")[0], "%Y-%m-%d").replace(tzinfo=UTC)
        links: dict[int, int] = {}
        for line in (folder / f"{stem}.annotation.txt").read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                source, target = int(parts[0]), int(parts[1])
                if source != target:
                    links[source] = target
        previous = None
        for index, line in enumerate(
            raw.read_text(encoding="utf-8", errors="replace").splitlines()
        ):
            match = _IRC.match(line)
            if not match:
                continue
            when = day + timedelta(hours=int(match[1]), minutes=int(match[2]))
            if previous and previous - when > timedelta(hours=12):
                day += timedelta(days=1)  # the log went past midnight
                when += timedelta(days=1)
            previous = when
            nick, text = match[3], match[4]
            addressed = _ADDRESS.match(text)
            records.append(
                {
                    "platform": "irc",
                    "community": "ubuntu",
                    "channel": stem,
                    "id": str(index),
                    "reply_to": str(links[index]) if index in links else None,
                    "thread": None,
                    "author": {"id": nick, "name": nick, "staff": False},
                    "mentions": [addressed[1]] if addressed else [],
                    "text": text,
                    "ts": when.isoformat().replace("+00:00", "Z"),
                }
            )
    known = {(r["channel"], r["id"]): r["author"]["id"] for r in records}
    answers = Counter(
        r["author"]["id"]
        for r in records
        if r["reply_to"] and known.get((r["channel"], r["reply_to"])) != r["author"]["id"]
    )
    return _mark_helpers(records, _top_people(answers, helpers))


def disco(folder: Path, helpers: int) -> list[dict[str, Any]]:
    """Read the disentangled XML files (`.xml.out`); a conversation stands for a thread."""
    records: list[dict[str, Any]] = []
    for path in sorted(folder.rglob("*.xml.out")):
        root = ET.fromstring(path.read_text(encoding="utf-8", errors="replace"))
        team = (root.findtext("team_domain") or "disco").lower()
        stem = path.name.removesuffix(".xml.out")
        channel = root.findtext("channel_name") or "general"
        for index, node in enumerate(root.iter("message")):
            ts = datetime.fromisoformat(node.findtext("ts") or "").replace(tzinfo=UTC)
            user = node.findtext("user") or "unknown"
            conversation = node.get("conversation_id")
            records.append(
                {
                    "platform": "discord",
                    "community": team,
                    "channel": f"{channel}-{stem}",
                    "id": f"{stem}-{index}",
                    "reply_to": None,
                    "thread": f"{stem}-c{conversation}" if conversation else None,
                    "author": {"id": user, "name": user, "staff": False},
                    "text": (node.findtext("text") or "").replace("\\'", "'"),
                    "ts": ts.isoformat().replace("+00:00", "Z"),
                }
            )
    joined = Counter()
    starters = {}
    for record in records:
        starters.setdefault(record["thread"], record["author"]["id"])
        if record["author"]["id"] != starters[record["thread"]]:
            joined[record["author"]["id"]] += 1
    return _mark_helpers(records, _top_people(joined, helpers))


def _top_people(counts: Counter[str], n: int) -> set[str]:
    """The n people (never a known bot) who answer most."""
    people = [who for who, _ in counts.most_common() if who.casefold() not in KNOWN_BOTS]
    return set(people[:n])


def _mark_helpers(records: list[dict[str, Any]], helpers: set[str]) -> list[dict[str, Any]]:
    for record in records:
        author = record["author"]
        if author["id"].casefold() in KNOWN_BOTS:
            author["bot"] = True
        author["staff"] = author["id"] in helpers and not author.get("bot")
    records.sort(key=lambda r: r["ts"])
    return records


def main() -> None:
    """Write the chosen corpus as JSONL on stdout."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("corpus", choices=["ubuntu", "disco"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--helpers", type=int, default=8, help="how many top answerers are staff")
    args = parser.parse_args()
    reader = ubuntu if args.corpus == "ubuntu" else disco
    for record in reader(args.folder, args.helpers):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
