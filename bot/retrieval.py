"""Retrieval by meaning over the community's own answers: approved replies and staff answers.

An answer is remembered as two int8 vectors in SQLite (`answers`, schema 6): its member's
request embedded as an e5 "query: " and the answer as a "passage: ". A new request is scored
against both (mostly the request: `REQUEST_WEIGHT`), so a reworded question finds the earlier one,
and an answer that fits the question adds to it.

The index is incremental: triggers queue every reply sent and every staff message processed
(`answer_queue`), and `sync` embeds only what is queued, in batches, before each search. In
memory it holds one int8 matrix per community and language (384 bytes a vector), searched in
chunks, so 100,000 answers cost about 77 MB and one matrix-vector product per request. Entries
live per community: a search never reads another community's matrix.

Nothing here sends anything: it returns drafts that a moderator may approve.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.models import Suggestion
from bot.storage import Store

_LOGGER = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
QUERY = "query: "
PASSAGE = "passage: "
# An entry's score: its request's similarity to the new one, weighted, plus its answer's.
# The request is the stronger signal (with all 12 layers of the bundled e5, a reworded
# question scores ~0.93-0.95, other questions of the same shop 0.80-0.88); the answer's
# wording varies more.
REQUEST_WEIGHT = 0.75
# Below this score an earlier answer is rarely about the same thing.
MIN_SCORE = 0.9
# Answers this short ("ok", "np", "thanks") answer nothing on their own.
MIN_ANSWER_CHARS = 12
# Rows converted to float32 at a time during a search: bounds the scratch memory (~6 MB).
CHUNK = 4096
SYNC_BATCH = 256
CANDIDATES = 12
# A request scores as a request (bot.conversation's rule) at this question/complaint level.
REQUEST_LEVEL = 0.5


class Encoder(Protocol):
    """What retrieval needs of an encoder: L2-normalised vectors, one per text."""

    def encode(self, texts: Sequence[str]) -> F32:
        """Embed `texts`, in order."""
        ...


def embed(encoder: Encoder, texts: Sequence[str], prefix: str) -> F32:
    """Embed `texts` with e5's `prefix` when the encoder takes one (the bundled one does)."""
    from bot.detect.bundled import BundledEncoder

    if isinstance(encoder, BundledEncoder):
        return encoder.encode(texts, prefix=prefix)
    return encoder.encode(texts)


def quantize(vectors: F32) -> tuple[npt.NDArray[np.int8], F32]:
    """Symmetric int8 per row: codes and the scale that turns them back into floats."""
    peak = np.max(np.abs(vectors), axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scale[:, None]), -127, 127).astype(np.int8)
    return codes, scale


@dataclass
class _Partition:
    """The vectors of one community and language, grown by doubling."""

    dim: int
    ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    codes: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros((0, 0), np.int8))
    scales: F32 = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    size: int = 0

    def __post_init__(self) -> None:
        self.codes = np.zeros((0, 2 * self.dim), np.int8)

    def add(self, ids: Sequence[int], codes: npt.NDArray[np.int8], scales: F32) -> None:
        needed = self.size + len(ids)
        if needed > len(self.ids):
            # A quarter more each time: amortised appends, at most 25 % of spare rows.
            capacity = max(64, needed, len(self.ids) + len(self.ids) // 4)
            grown_ids = np.zeros(capacity, np.int64)
            grown_codes = np.zeros((capacity, 2 * self.dim), np.int8)
            grown_scales = np.zeros((capacity, 2), np.float32)
            grown_ids[: self.size] = self.ids[: self.size]
            grown_codes[: self.size] = self.codes[: self.size]
            grown_scales[: self.size] = self.scales[: self.size]
            self.ids, self.codes, self.scales = grown_ids, grown_codes, grown_scales
        self.ids[self.size : needed] = ids
        self.codes[self.size : needed] = codes
        self.scales[self.size : needed] = scales
        self.size = needed

    def search(self, query: F32, top: int) -> list[tuple[int, float]]:
        """The `top` entries by weighted similarity of request and answer to `query`."""
        if self.size == 0:
            return []
        # One scale per row for both halves (see `sync`), so the weighted sum of the two
        # similarities is one contiguous matrix-vector product per chunk.
        weights = np.concatenate([REQUEST_WEIGHT * query, (1 - REQUEST_WEIGHT) * query]).astype(
            np.float32
        )
        scores = np.empty(self.size, np.float32)
        for start in range(0, self.size, CHUNK):
            stop = min(self.size, start + CHUNK)
            block = self.codes[start:stop].astype(np.float32)
            scores[start:stop] = (block @ weights) * self.scales[start:stop, 0]
        count = min(top, self.size)
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.argsort(-scores[best])]
        return [(int(self.ids[i]), float(scores[i])) for i in best]

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.codes.nbytes + self.scales.nbytes)


class AnswerIndex:
    """Earlier answers of each community, searchable by meaning; fed by `answer_queue`."""

    def __init__(self, store: Store, encoder: Encoder, *, dim: int = 384) -> None:
        """Load the remembered vectors of `store`; new answers are embedded by `sync`."""
        self.store = store
        self.encoder = encoder
        self.dim = dim
        self._parts: dict[tuple[str, str, str], _Partition] = {}
        self._add_rows(
            store.rows(
                "SELECT id, platform, community, language, request_vec, request_scale,"
                " answer_vec, answer_scale FROM answers ORDER BY id"
            )
        )

    @property
    def size(self) -> int:
        """How many answers are held in memory."""
        return sum(part.size for part in self._parts.values())

    @property
    def nbytes(self) -> int:
        """Memory the vectors take."""
        return sum(part.nbytes for part in self._parts.values())

    def _add_rows(self, rows: list[dict[str, Any]]) -> None:
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for row in rows:
            key = (str(row["platform"]), str(row["community"]), str(row["language"]))
            groups.setdefault(key, []).append(row)
        for key, members in groups.items():
            # One buffer per partition: loading 100,000 rows is one copy, not 100,000.
            joined = b"".join(r["request_vec"] + r["answer_vec"] for r in members)
            codes = np.frombuffer(joined, np.int8).reshape(len(members), 2 * self.dim)
            scales = np.array(
                [(r["request_scale"], r["answer_scale"]) for r in members], np.float32
            )
            part = self._parts.setdefault(key, _Partition(self.dim))
            part.add([int(r["id"]) for r in members], codes, scales)

    def sync(self) -> int:
        """Embed the answers queued since the last call; return how many were added."""
        added = 0
        while True:
            queued = self.store.rows(
                "SELECT id, origin, ref FROM answer_queue ORDER BY id LIMIT ?", (SYNC_BATCH,)
            )
            if not queued:
                return added
            found = [pair for q in queued if (pair := self._resolve(q)) is not None]
            rows: list[dict[str, Any]] = []
            if found:
                requests = embed(self.encoder, [f["request"] for f in found], QUERY)
                answers = embed(self.encoder, [f["answer"] for f in found], PASSAGE)
                # Request and answer share one scale: searching is then one product a row.
                codes, scales = quantize(np.concatenate([requests, answers], axis=1))
                request_codes, answer_codes = codes[:, : self.dim], codes[:, self.dim :]
                request_scales = answer_scales = scales
                for i, item in enumerate(found):
                    rows.append(
                        {
                            "origin": item["origin"],
                            "ref": item["ref"],
                            "platform": item["platform"],
                            "community": item["community"],
                            "language": item["language"],
                            "request_key": item["request_key"],
                            "case_id": item["case_id"],
                            "request_vec": request_codes[i].tobytes(),
                            "request_scale": float(request_scales[i]),
                            "answer_vec": answer_codes[i].tobytes(),
                            "answer_scale": float(answer_scales[i]),
                        }
                    )
            last = int(queued[-1]["id"])
            with self.store.transaction():
                stored = []
                for row in rows:
                    cursor = self.store.execute(
                        f"INSERT OR IGNORE INTO answers ({', '.join(row)})"
                        f" VALUES ({', '.join('?' for _ in row)})",
                        tuple(row.values()),
                    )
                    if cursor.rowcount == 1:
                        stored.append({**row, "id": cursor.lastrowid})
                self.store.execute("DELETE FROM answer_queue WHERE id <= ?", (last,))
            self._add_rows(stored)
            added += len(stored)

    def _resolve(self, queued: dict[str, Any]) -> dict[str, Any] | None:
        """The request and answer texts behind a queued answer, or None if it answers nothing."""
        if queued["origin"] == "approved":
            row = self.store.row(
                "SELECT o.text AS answer, o.platform, o.community, c.language, c.id AS case_id,"
                " m.key AS request_key, m.text AS request"
                " FROM outgoing o JOIN cases c ON c.id = o.case_id"
                " JOIN messages m ON m.case_id = c.id AND m.created_at = c.opened_at"
                " WHERE o.id = ? AND o.state = 'sent' AND m.deleted_at IS NULL LIMIT 1",
                (int(queued["ref"]),),
            )
        else:
            row = self._staff_answer(str(queued["ref"]))
        if row is None or len(str(row["answer"]).strip()) < MIN_ANSWER_CHARS:
            return None
        if not str(row["request"]).strip() or row["language"] in (None, "und"):
            return None
        return {**row, "origin": queued["origin"], "ref": str(queued["ref"])}

    def _staff_answer(self, key: str) -> dict[str, Any] | None:
        """A staff message with the member's request it replies to (or whose thread it is in)."""
        staff = self.store.row(
            "SELECT platform, community, channel, thread, reply_to, text, created_at"
            " FROM messages WHERE key = ? AND deleted_at IS NULL",
            (key,),
        )
        if staff is None:
            return None
        if staff["reply_to"] is not None:
            parent_key = ":".join(
                str(staff[k]) for k in ("platform", "community", "channel", "reply_to")
            )
            request = self.store.row(
                "SELECT key, text, language, case_id, question, complaint, author_staff,"
                " author_bot FROM messages WHERE key = ? AND deleted_at IS NULL",
                (parent_key,),
            )
        else:
            request = self.store.row(
                "SELECT key, text, language, case_id, question, complaint, author_staff,"
                " author_bot FROM messages WHERE platform = ? AND community = ? AND thread = ?"
                " AND created_at <= ? AND deleted_at IS NULL ORDER BY created_at, key LIMIT 1",
                (staff["platform"], staff["community"], staff["thread"], staff["created_at"]),
            )
        if request is None or request["author_staff"] or request["author_bot"]:
            return None
        scores = (request["question"], request["complaint"])
        if request["case_id"] is None and not any(
            isinstance(s, float | int) and s >= REQUEST_LEVEL for s in scores
        ):
            return None
        language = request["language"]
        if request["case_id"] is not None:
            case = self.store.row("SELECT language FROM cases WHERE id = ?", (request["case_id"],))
            language = case["language"] if case else language
        return {
            "answer": staff["text"],
            "platform": staff["platform"],
            "community": staff["community"],
            "language": language,
            "case_id": request["case_id"],
            "request_key": request["key"],
            "request": request["text"],
        }

    def search(
        self,
        query: F32,
        *,
        platform: str,
        community: str,
        language: str,
        top: int = CANDIDATES,
        exclude_case: int | None = None,
    ) -> list[Remembered]:
        """Earlier answers of this community and language, best first, with their texts."""
        part = self._parts.get((platform, community, language))
        if part is None:
            return []
        found = part.search(query, top)
        if not found:
            return []
        marks = ", ".join("?" for _ in found)
        # Read back through the live tables: an entry erased since (the triggers dropped it)
        # or whose text changed is simply not found, and never offered.
        rows = {
            int(r["id"]): r
            for r in self.store.rows(
                "SELECT a.id, a.origin, a.ref, a.case_id,"
                " CASE a.origin WHEN 'approved' THEN o.text ELSE m.text END AS answer,"
                " CASE a.origin WHEN 'approved' THEN o.approved_by ELSE m.author_name END"
                " AS author,"
                " CASE a.origin WHEN 'approved' THEN o.sent_at ELSE m.created_at END AS at,"
                " r.author_name AS member"
                " FROM answers a LEFT JOIN outgoing o ON a.origin = 'approved'"
                " AND o.id = CAST(a.ref AS INTEGER)"
                " LEFT JOIN messages m ON a.origin = 'staff' AND m.key = a.ref"
                " LEFT JOIN messages r ON r.key = a.request_key"
                f" WHERE a.id IN ({marks})",
                tuple(i for i, _ in found),
            )
        }
        results = []
        for entry_id, score in found:
            row = rows.get(entry_id)
            if row is None or row["answer"] is None:
                continue
            if exclude_case is not None and row["case_id"] == exclude_case:
                continue
            results.append(
                Remembered(
                    text=str(row["answer"]),
                    score=score,
                    case_id=row["case_id"],
                    origin=str(row["origin"]),
                    ref=str(row["ref"]),
                    author=str(row["author"] or ""),
                    member=str(row["member"] or ""),
                )
            )
        return results


@dataclass(frozen=True, slots=True)
class Remembered:
    """One earlier answer found for a request."""

    text: str
    score: float
    case_id: int | None
    origin: str
    ref: str
    author: str
    member: str

    @property
    def source(self) -> str:
        """The suggestion's source: the case it answered (privacy erases copies by this)."""
        if self.case_id is not None:
            return f"approved:case-{self.case_id}"
        return f"history:{self.ref}"

    def suggestion(self, *, member: str, language: str) -> Suggestion:
        """This answer as a draft for `member`: the earlier member's name becomes theirs."""
        text = self.text.replace(self.member, member) if self.member else self.text
        return Suggestion(
            text=text, language=language, source=self.source, score=round(self.score, 3)
        )
