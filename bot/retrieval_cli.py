"""`huitaine suggest`: drafts for JSONL requests from a community's history, and FAQ drafts.

    huitaine suggest --db PATH --jsonl < requests.jsonl
        reads {"id", "text"} lines, writes {"id", "suggestions": [{"text", "source", "score"}]}
        best first, so users and checks can measure drafts on their own data;
    huitaine suggest --db PATH --faq-drafts DIR
        writes DIR/faq-drafts-xx.toml: the report's recurring questions as FAQ entries to review.
Nothing is sent and no case is opened: the database is only read (and its answer index kept
up to date).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bot.config import Config
from bot.errors import UserError
from bot.faq import draft_entries, load_faq
from bot.insights import _people, faq_candidates
from bot.models import Kind
from bot.retrieval_drafts import Drafter, encoder_of
from bot.storage import Store
from bot.suggest import Suggester, load_templates

_LOGGER = logging.getLogger(__name__)
BATCH = 32


class SuggestError(UserError, ValueError):
    """`huitaine suggest` cannot run as asked; the message says what to give instead."""


def add_suggest_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `huitaine suggest`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "suggest", help="draft replies for JSONL {id, text} lines from a community's history"
    )
    parser.add_argument("--db", help="SQLite file (default: storage.database)")
    parser.add_argument(
        "--jsonl", action="store_true", help="read JSONL from stdin (the default input)"
    )
    parser.add_argument(
        "--community",
        help="the community whose answers are searched (needed when the file holds several)",
    )
    parser.add_argument(
        "--faq-drafts", metavar="DIR", type=Path, help="write FAQ drafts to review into DIR"
    )
    parser.set_defaults(func=cmd_suggest)
    return parser


def _database(args: argparse.Namespace, config: Config) -> Store:
    database: str = args.db or config.storage.database
    if not Path(database).is_file():
        raise SuggestError(
            f"no database at {database}. Fix: give the file written by `huitaine audit`, "
            "`replay` or `run` with --db FILE"
        )
    return Store(database)


def _community(store: Store, wanted: str | None) -> tuple[str, str]:
    rows = store.rows("SELECT DISTINCT platform, community FROM messages")
    places = [(str(r["platform"]), str(r["community"])) for r in rows]
    if wanted is not None:
        chosen = [p for p in places if wanted in (p[1], f"{p[0]}:{p[1]}")]
    else:
        chosen = places
    if len(chosen) == 1:
        return chosen[0]
    names = ", ".join(f"{p}:{c}" for p, c in places) or "none"
    if wanted is None and chosen:
        raise SuggestError(
            f"the database holds several communities ({names}); pick one with --community NAME"
        )
    raise SuggestError(f"no community {wanted!r} in the database (it holds: {names})")


def _records(lines: IO[str]) -> Iterator[tuple[Any, str | None, str | None]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError('expected {"id": ..., "text": "..."}')
            yield record.get("id"), record["text"], None
        except (ValueError, RecursionError) as exc:
            _LOGGER.warning("stdin line %d skipped: %s", number, exc)
            yield None, None, f"line {number}: {exc}"


def cmd_suggest(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Draft replies for stdin's requests, or write FAQ drafts."""
    store = _database(args, config)
    try:
        if args.faq_drafts is not None:
            return _faq_drafts(store, args.faq_drafts, out)
        return _suggest_lines(args, config, store, out)
    finally:
        store.close()


def _suggest_lines(args: argparse.Namespace, config: Config, store: Store, out: IO[str]) -> int:
    from bot.app import build_detector

    platform, community = _community(store, args.community)
    detector = build_detector(config, identify_all=True)
    suggester = Suggester(
        load_templates(config.responses.directory or None),
        fallback_language=config.community.language,
    )
    drafter = Drafter(
        store,
        suggester,
        encoder=encoder_of(detector),
        faq=load_faq(config.responses.directory or None),
    )
    raw = getattr(sys.stdin, "buffer", None)
    lines = (
        sys.stdin
        if raw is None
        else io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="\n")
    )
    batch: list[tuple[Any, str | None, str | None]] = []

    def flush() -> None:
        texts = [text for _, text, _ in batch if text is not None]
        detections = iter(detector.detect_batch(texts))
        for ident, text, error in batch:
            if text is None:
                out.write(json.dumps({"id": ident, "error": error}, ensure_ascii=False) + "\n")
                continue
            detection = next(detections)
            kind = detection.kind(config.detection.threshold)
            found = drafter.draft(
                text=text,
                # Asked for drafts explicitly: a text the detector calls chatter is drafted
                # for as a question.
                kind=Kind.QUESTION if kind is Kind.OTHER else kind,
                language=detection.language,
                member="{member}",
                community_name=config.community.name,
                platform=platform,
                community=community,
            )
            record = {
                "id": ident,
                "suggestions": [
                    {"text": s.text, "source": s.source, "score": s.score} for s in found
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        batch.clear()

    try:
        for item in _records(lines):
            batch.append(item)
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    finally:
        close = getattr(detector, "close", None)
        if callable(close):
            close()
    out.flush()
    return 0


def _faq_drafts(store: Store, folder: Path, out: IO[str]) -> int:
    """Write one file of FAQ drafts per language found among the recurring questions."""
    rows = store.rows(
        "SELECT m.text, c.language, c.id FROM cases c JOIN messages m ON m.case_id = c.id"
        " WHERE c.kind = 'question' AND c.state NOT IN ('dismissed', 'withdrawn')"
        " AND m.created_at = c.opened_at AND m.deleted_at IS NULL"
    )
    by_text = {str(r["text"]): (str(r["language"]), int(r["id"])) for r in rows}
    candidates = faq_candidates([str(r["text"]) for r in rows], names=_people(store))
    drafts = []
    for candidate in candidates:
        languages = [by_text[t][0] for t in candidate.examples if t in by_text]
        language = max(set(languages), key=languages.count) if languages else "en"
        answer = None
        for text in candidate.examples:
            if text in by_text:
                answer = _answer_of(store, by_text[text][1])
                if answer:
                    break
        drafts.append((language, candidate, answer))
    folder.mkdir(parents=True, exist_ok=True)
    for language in sorted({lang for lang, _, _ in drafts}):
        path = folder / f"faq-drafts-{language}.toml"
        path.write_text(draft_entries(drafts, language=language) + "\n", encoding="utf-8")
        count = sum(1 for lang, _, _ in drafts if lang == language)
        out.write(f"{path}: {count} draft entries to review\n")
    if not drafts:
        out.write("no recurring questions yet: no FAQ drafts\n")
    return 0


def _answer_of(store: Store, case_id: int) -> str | None:
    """The reply a case got: approved through Huitaine, else a staff reply to its message."""
    sent = store.row(
        "SELECT text FROM outgoing WHERE case_id = ? AND state = 'sent' ORDER BY id LIMIT 1",
        (case_id,),
    )
    if sent:
        return str(sent["text"])
    staff = store.row(
        "SELECT s.text FROM messages m JOIN messages s ON s.platform = m.platform"
        " AND s.community = m.community AND s.channel = m.channel AND s.reply_to = m.id"
        " WHERE m.case_id = ? AND s.author_staff = 1 AND s.deleted_at IS NULL"
        " ORDER BY s.created_at LIMIT 1",
        (case_id,),
    )
    return str(staff["text"]) if staff else None
