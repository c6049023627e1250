"""Language identification with lingua, limited to the languages a community speaks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

_MENTION_OR_URL = re.compile(r"https?://\S+|<[@#][!&]?\d+>|@\w+")
# Below this confidence the text is too short or too mixed to tell; the community's default wins.
_MIN_CONFIDENCE = 0.6


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...]) -> LanguageDetector:
    codes = [IsoCode639_1.from_str(code) for code in languages]
    # Low-accuracy mode keeps memory near 10 MB instead of ~130 MB, at a small cost on one-word
    # texts, which fall back to the community's default language anyway.
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().build()


class LanguageIdentifier:
    """Tells which of a community's languages a message is written in."""

    def __init__(self, languages: Sequence[str] = ("fr", "en"), default: str = "en") -> None:
        """Build an identifier for `languages` (ISO 639-1 codes); `default` when unsure."""
        self.languages = tuple(sorted(set(languages) | {default}))
        self.default = default
        self._single = len(self.languages) == 1

    def identify(self, text: str) -> str:
        """Return the ISO 639-1 code of `text`'s language."""
        if self._single:
            return self.default
        # Lone surrogates (from broken JSON escapes) make lingua raise; they carry no language.
        safe = text[:2000].encode("utf-8", "replace").decode("utf-8")
        cleaned = _MENTION_OR_URL.sub(" ", safe)
        if sum(ch.isalpha() for ch in cleaned) < 2:
            return self.default
        values = _detector(self.languages).compute_language_confidence_values(cleaned)
        if not values or values[0].value < _MIN_CONFIDENCE:
            return self.default
        return str(values[0].language.iso_code_639_1.name.lower())
