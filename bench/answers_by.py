"""Who answers on the shared replays: staff, helpers (the community) and nobody, side by side.

Converts each replay of ../shared/data/replay (Ubuntu IRC, the DISCO Discord servers) to the
neutral JSONL in a temporary folder (never in the repository), runs the audit on it twice, and
prints, per community, the requests answered by staff, by helpers and by nobody:

- baseline: only the replay's stand-in staff count (before helpers existed, a member's answer
  answered nothing);
- helpers: the audit as `huitaine audit` runs it now, where a member who often answers others
  (bot.conversation: 3 answers in 30 days) answers "by the community".

    python bench/answers_by.py [--detector rules|auto] [--helpers N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.exports.audit import run_audit  # noqa: E402
from adapters.exports.common import StaffRule  # noqa: E402
from bot.app import Huitaine  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.report import build_report  # noqa: E402

REPLAY = ROOT.parent / "shared" / "data" / "replay"
CORPORA = {"ubuntu": "ubuntu_irc_disentanglement", "disco": "disco_discord"}


def _audit(history: Path, database: Path, detector: str, *, helpers: bool) -> dict[str, tuple]:
    config = parse_config({"detection": {"detector": detector}})
    clock = ManualClock(datetime(1970, 1, 1, tzinfo=UTC))
    core = Huitaine(config, clock=clock, database=database)
    try:
        run_audit(core, clock, [history], staff=StaffRule(), progress=False, infer_helpers=helpers)
        by_community: dict[str, list] = defaultdict(list)
        for case in core.cases.list():
            by_community[f"{case.platform}:{case.community}"].append(case)
        return {
            name: (r.by_staff, r.by_helpers, r.by_nobody)
            for name, cases in sorted(by_community.items())
            for r in [build_report(cases, clock.now())]
        }
    finally:
        core.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="rules", choices=("rules", "auto"))
    parser.add_argument("--helpers", type=int, default=8, help="top answerers standing for staff")
    args = parser.parse_args()
    if not REPLAY.is_dir():
        print(f"no replay data at {REPLAY}: nothing to measure", file=sys.stderr)
        return 0
    print(f"detector {args.detector}; top {args.helpers} answerers stand for staff")
    print(f"{'community':<22} {'run':<9} {'staff':>6} {'helpers':>8} {'nobody':>7} {'cases':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for corpus, sub in CORPORA.items():
            history = folder / f"{corpus}.jsonl"
            with history.open("w", encoding="utf-8") as out:
                subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "scripts" / "replay_to_jsonl.py"),
                        corpus,
                        str(REPLAY / sub),
                        "--helpers",
                        str(args.helpers),
                    ],
                    stdout=out,
                    check=True,
                )
            base = _audit(history, folder / f"{corpus}-base.db", args.detector, helpers=False)
            now = _audit(history, folder / f"{corpus}-helpers.db", args.detector, helpers=True)
            for name in sorted(set(base) | set(now)):
                for label, figures in (("baseline", base.get(name)), ("helpers", now.get(name))):
                    staff, helpers, nobody = figures or (0, 0, 0)
                    total = staff + helpers + nobody
                    print(f"{name:<22} {label:<9} {staff:>6} {helpers:>8} {nobody:>7} {total:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
