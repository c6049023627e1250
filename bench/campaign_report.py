"""What a fault campaign prints at the end: faults injected, then what was lost or repeated.

Shared by the Telegram and Discord fault campaigns (bench/fault_campaign*.py) so that both
count the same things the same way: per fault, how often it was injected; then messages said
and stored, cases opened and answered, replies lost or posted twice, and SQLite's own check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tally:
    """The end state a campaign compares with what the members and moderators did."""

    said: int
    stored: int
    cases: int
    answered: int
    lost: int  # questions whose reply never reached the community
    twice: int  # questions answered by more than one post
    integrity: str

    @property
    def clean(self) -> bool:
        return (
            self.lost == 0
            and self.twice == 0
            and self.stored == self.said
            and self.answered == self.cases
            and self.integrity == "ok"
        )


def print_faults(title: str, faults: Iterable[str], injected: Counter[str]) -> None:
    """A two-column table: each fault and how many times it was injected."""
    print(f"{title:<34} {'injected':>8}")
    for fault in faults:
        print(f"{fault:<34} {injected[fault]:>8}")


def replies_per_question(questions: Iterable[str], replied_to: Iterable[str]) -> tuple[int, int]:
    """(lost, posted twice) given each question's id and the id each reply points to."""
    counts = Counter(replied_to)
    wanted = list(questions)
    return (
        sum(1 for q in wanted if counts[q] == 0),
        sum(1 for q in wanted if counts[q] > 1),
    )


def print_tally(tally: Tally) -> None:
    """The last line: said/stored, cases/answered, lost, twice, integrity."""
    print(
        f"messages said {tally.said}, stored {tally.stored}; cases {tally.cases}, "
        f"answered {tally.answered}; replies lost {tally.lost}, posted twice {tally.twice}; "
        f"integrity {tally.integrity}"
    )
