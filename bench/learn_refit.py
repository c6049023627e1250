"""Learning benchmark: what a per-community refit costs, and what an erasure costs on top.

Two communities on one SQLite file, with the default detector (the bundled model, no torch).
Community A's moderators dismiss N cases as "not a request", community B's approve N; one
learning check fits both heads. Then a member of A whose case trained A's head is forgotten:
the erasure removes A's head at once (timed: what a deletion or a forget adds), and
`refit_erased` refits it without them (what `huitaine forget` adds). CPU seconds beside wall
seconds: on a shared host the wall clock says more about the neighbours.
The cases' texts are the project's own bundled examples, never `../shared/data`.
Run: python bench/learn_refit.py [--decisions 60]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run `fn`; return its result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=60, help="cases per community")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HUITAINE_DATA_DIR"] = str(Path(tmp) / "data")
        from bot.app import Huitaine
        from bot.clock import ManualClock
        from bot.config import parse_config
        from bot.detect.learning_log import read_journal
        from bot.detect.model import bundled_examples
        from bot.detect.retrain import held_out, learner_for, refit_erased
        from bot.detect.train import detector_from_config
        from bot.models import Actor, Author, DismissReason, Message, Standing
        from bot.privacy import forget_member

        config = parse_config(
            {
                "community": {"name": "Atelier", "language": "fr"},
                "learning": {"after_decisions": 10},
                "detection": {"threshold": 0.0001},  # every text opens a case to decide
            }
        )
        clock = ManualClock(datetime(2026, 11, 2, 9, tzinfo=UTC))
        db = Path(tmp) / "bench.db"
        mod = Actor(
            "discord",
            "staff",
            "Camille",
            tuple(Standing(c, frozenset({"Moderator"})) for c in ("a", "b")),
        )
        texts = [e.text for e in bundled_examples() if e.question == 1][: args.decisions]
        rules_config = parse_config({"detection": {"detector": "rules", "threshold": 0.0001}})
        core = Huitaine(rules_config, clock=clock, database=db)
        authors: dict[int, str] = {}
        for community in ("a", "b"):
            for n, text in enumerate(texts):
                author = f"{community}-{n}"
                message = Message(
                    platform="discord",
                    community=community,
                    channel=f"c{n}",
                    id=author,
                    author=Author(id=author, name=f"M {author}"),
                    text=text,
                    created_at=clock.now(),
                )
                for case_id in core.ingest(message).case_ids:
                    authors[case_id] = author
                    if community == "a":
                        core.review.dismiss(mod, case_id, DismissReason.NOT_A_REQUEST)
                    else:
                        core.review.approve(mod, case_id, text="Voici, {member}.")
        store = core.store
        detector, load_wall, _ = timed(lambda: detector_from_config(config, "model"))
        learner = learner_for(detector, config, db)
        assert learner is not None
        attempts, fit_wall, fit_cpu = timed(lambda: learner.run(clock.now()))
        trained = read_journal(learner.journal("discord:a")).trained_on
        victim = next(authors[c] for c in trained if not held_out(c))
        _, forget_wall, forget_cpu = timed(
            lambda: forget_member(store, "discord", victim, clock.now())
        )
        removed = not detector.heads.path_for("discord:a").exists()  # type: ignore[attr-defined]
        refit, refit_wall, refit_cpu = timed(
            lambda: refit_erased(config, db, clock.now(), detector=detector)
        )
        core.close()
        detector.close()  # type: ignore[attr-defined]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"decided cases per community: {len(texts)} (A dismissed, B approved); busy host")
    print(f"{'step':<44}{'wall s':>9}{'cpu s':>9}")
    print(f"{'load the default detector':<44}{load_wall:>9.2f}{'':>9}")
    print(f"{'learning check: 2 heads fitted':<44}{fit_wall:>9.2f}{fit_cpu:>9.2f}")
    print(
        f"{'forget one member (removes A head at once)':<44}{forget_wall:>9.3f}{forget_cpu:>9.3f}"
    )
    print(f"{'refit A without them (huitaine forget)':<44}{refit_wall:>9.2f}{refit_cpu:>9.2f}")
    print(f"attempts: {[(a.learned, a.held_out, a.kept, a.erased) for a in attempts]}")
    print(f"A head removed at once: {removed}; refit: {[(a.kept, a.erased) for a in refit]}")
    print(f"peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
