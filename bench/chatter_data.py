"""Read the chatter check set: labels from bench/data, texts from ../shared/data/replay.

The replay logs (DISCO Discord, Ubuntu IRC) may not be redistributed with the project, so
`bench/data/chatter_check.csv` holds only labels keyed by a locator (file relative to the replay
directory, `#` record index) and a short hash of the text. This module re-reads the texts at run
time and refuses a row whose text no longer matches its hash.

Records: in a DISCO `*.xml` file, the n-th `<message>` (0-based); in an Ubuntu IRC `*.raw.txt`
file, the n-th line (0-based) if it is a member's `[HH:MM] <nick> text` line (joins, parts and
`* nick` emotes are not messages a member addressed to the channel).
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REPLAY = REPO_ROOT.parent / "shared" / "data" / "replay"
LABELS = REPO_ROOT / "bench" / "data" / "chatter_check.csv"
SEED = 20
_IRC_LINE = re.compile(r"^\[\d\d:\d\d\] <([^>]+)> (.*)$")


@dataclass(frozen=True, slots=True)
class Record:
    """One real message of the replay logs and where it lives."""

    locator: str
    author: str
    text: str

    @property
    def digest(self) -> str:
        """A short hash of the text, to notice a changed source file."""
        return text_hash(self.text)


@dataclass(frozen=True, slots=True)
class Labelled:
    """A record with its two hand labels."""

    record: Record
    question: bool
    complaint: bool

    @property
    def request(self) -> bool:
        """A message that should open a case: a question or a complaint."""
        return self.question or self.complaint


def text_hash(text: str) -> str:
    """First 10 hex digits of the text's SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def discord_records(path: Path, root: Path = REPLAY) -> Iterator[Record]:
    """Every message of a DISCO XML file, in file order."""
    rel = path.relative_to(root).as_posix()
    for index, node in enumerate(ET.parse(path).getroot().iter("message")):
        yield Record(f"{rel}#{index}", node.findtext("user") or "", node.findtext("text") or "")


def irc_records(path: Path, root: Path = REPLAY) -> Iterator[Record]:
    """Every member line of an Ubuntu IRC raw log, keyed by line number."""
    rel = path.relative_to(root).as_posix()
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for index, line in enumerate(lines):
        match = _IRC_LINE.match(line)
        if match:
            yield Record(f"{rel}#{index}", match.group(1), match.group(2))


def source_files(root: Path = REPLAY) -> dict[str, list[Path]]:
    """The replay files, sorted, by source."""
    return {
        "discord": sorted(root.glob("disco_discord/*/*/*.xml")),
        "irc": sorted(root.glob("ubuntu_irc_disentanglement/*.raw.txt")),
    }


def all_records(root: Path = REPLAY) -> dict[str, list[Record]]:
    """Every non-empty record of the replay logs, by source."""
    files = source_files(root)
    return {
        "discord": [
            r for f in files["discord"] for r in discord_records(f, root) if r.text.strip()
        ],
        "irc": [r for f in files["irc"] for r in irc_records(f, root) if r.text.strip()],
    }


def sample(per_source: int, seed: int = SEED, root: Path = REPLAY) -> list[Record]:
    """A reproducible random sample of `per_source` records from each source."""
    rng = random.Random(seed)
    picked: list[Record] = []
    for _source, records in sorted(all_records(root).items()):
        picked += rng.sample(records, per_source)
    return picked


def load_labelled(labels: Path = LABELS, root: Path = REPLAY) -> list[Labelled]:
    """The labelled check set with its texts re-read from the replay logs."""
    cache: dict[str, dict[str, Record]] = {}
    out: list[Labelled] = []
    with labels.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            file, _, _index = row["locator"].partition("#")
            if file not in cache:
                path = root / file
                reader = discord_records if file.endswith(".xml") else irc_records
                cache[file] = {r.locator: r for r in reader(path, root)}
            record = cache[file].get(row["locator"])
            if record is None or record.digest != row["hash"]:
                raise ValueError(f"{row['locator']}: text missing or changed in {root}")
            out.append(Labelled(record, row["question"] == "1", row["complaint"] == "1"))
    return out
