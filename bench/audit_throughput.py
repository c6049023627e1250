"""Audit throughput end to end with the default detector, beside `detect` on the same texts.

Converts the Ubuntu IRC replay of ../shared/data/replay to the neutral JSONL (in a temporary
folder, never in the repository), then times, in one run:

- `huitaine audit` on it: import, detection, cases, answers, reminders, the report;
- `huitaine detect` on the same texts: the detector alone, batched;

and prints messages per second for both and their ratio (goal: audit >= 150 msg/s, ratio >= 0.8).

    python bench/audit_throughput.py [--detector auto|rules] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLAY = ROOT.parent / "shared" / "data" / "replay" / "ubuntu_irc_disentanglement"


def _timed(command: list[str], *, stdin: Path | None = None) -> float:
    start = time.perf_counter()
    with (stdin or Path("/dev/null")).open("rb") as source:
        subprocess.run(command, stdin=source, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="auto", choices=("auto", "rules"))
    parser.add_argument("--limit", type=int, default=0, help="first N lines only (0: all)")
    args = parser.parse_args()
    if not REPLAY.is_dir():
        print(f"no replay data at {REPLAY}: nothing to measure", file=sys.stderr)
        return 0
    huitaine = [sys.executable, "-c", "from huitaine.cli import main; raise SystemExit(main())"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        history = folder / "ubuntu.jsonl"
        with history.open("w", encoding="utf-8") as out:
            subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "replay_to_jsonl.py"), "ubuntu", REPLAY],
                stdout=out,
                check=True,
            )
        lines = history.read_text(encoding="utf-8").splitlines()
        if args.limit:
            lines = lines[: args.limit]
            history.write_text("\n".join(lines) + "\n", encoding="utf-8")
        texts = folder / "texts.jsonl"
        texts.write_text(
            "".join(
                json.dumps({"id": i, "text": json.loads(line)["text"]}) + "\n"
                for i, line in enumerate(lines)
            ),
            encoding="utf-8",
        )
        config = folder / "config.toml"
        config.write_text(f'[detection]\ndetector = "{args.detector}"\n', encoding="utf-8")
        common = ["--config", str(config)]
        # Warm the model cache and the default head once, so neither run pays for it.
        warm = folder / "warm.jsonl"
        warm.write_text('{"id": 0, "text": "hello?"}\n', encoding="utf-8")
        _timed([*huitaine, *common, "detect"], stdin=warm)
        detect_s = _timed([*huitaine, *common, "detect"], stdin=texts)
        audit_s = _timed(
            [*huitaine, *common, "audit", str(history), "--db", str(folder / "audit.db")]
        )
    n = len(lines)
    print(f"Ubuntu IRC replay: {n} messages, detector {args.detector} (2 cores, one run)")
    print(f"{'path':<34} {'seconds':>8} {'msg/s':>8}")
    print(f"{'huitaine detect (detector alone)':<34} {detect_s:>8.1f} {n / detect_s:>8.0f}")
    print(f"{'huitaine audit (end to end)':<34} {audit_s:>8.1f} {n / audit_s:>8.0f}")
    print(f"ratio audit / detect: {detect_s / audit_s:.2f}  (goals: audit >= 150 msg/s, >= 0.8)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
