"""The interface every detector implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.models import Detection


class Detector(Protocol):
    """Scores texts for being a question and for being a complaint, in [0, 1] each."""

    name: str

    def detect_batch(self, texts: Sequence[str]) -> list[Detection]:
        """Return one detection per text, in the same order."""
        ...
