"""The community's FAQ: entries a community manager writes in `responses/faq-xx.toml`.

Each entry has an id (the same id links its translations), a topic shown to moderators,
question variants (how members ask it) and the answer. Retrieval offers an entry's answer when
a member's request means the same as one of its variants. Files are checked once, at load: an
error names the file and the entry. `draft_entries` turns the report's FAQ candidates into
entries for the manager to review; a draft has no answer yet unless the history holds one, and
an entry without an answer does not load, so nothing unreviewed is ever offered.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.bundled import bundled_dir
from bot.insights import FaqCandidate
from bot.suggest import TemplateError, check_placeholders

PATTERN = "faq-*.toml"


class FaqError(TemplateError):
    """A FAQ file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One question the community answers often, in one language."""

    id: str
    language: str
    topic: str
    questions: tuple[str, ...]
    answer: str

    @property
    def source(self) -> str:
        """The suggestion source of this entry."""
        return f"faq:{self.id}"


def _parse(name: str, content: str) -> list[FaqEntry]:
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise FaqError(f"{name}: not valid TOML ({exc})") from exc
    language = data.get("language")
    if not isinstance(language, str) or not language:
        raise FaqError(f'{name}: missing language = "xx"')
    items = data.get("faq", [])
    if not isinstance(items, list):
        raise FaqError(f"{name}: entries must be [[faq]] blocks")
    entries = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FaqError(f"{name}: entry #{index + 1} is not a [[faq]] block")
        where = f"{name}: entry {item.get('id', index + 1)!r}"
        entry_id, answer = item.get("id"), item.get("answer")
        questions = item.get("questions")
        if not isinstance(entry_id, str) or not entry_id.strip():
            raise FaqError(f'{where}: needs id = "a-short-name"')
        if not isinstance(answer, str) or not answer.strip():
            raise FaqError(f'{where}: needs answer = """…""" (write the reply members get)')
        if (
            not isinstance(questions, list)
            or not questions
            or not all(isinstance(q, str) and q.strip() for q in questions)
        ):
            raise FaqError(f'{where}: questions must be a list of ways members ask, e.g. ["…"]')
        try:
            check_placeholders(answer, where)
        except TemplateError as exc:
            raise FaqError(str(exc)) from exc
        entries.append(
            FaqEntry(
                id=entry_id.strip(),
                language=language,
                topic=str(item.get("topic") or entry_id).strip(),
                questions=tuple(q.strip() for q in questions),
                answer=answer.strip(),
            )
        )
    return entries


def load_faq(directory: str | Path | None = None) -> list[FaqEntry]:
    """Load every `faq-*.toml` of `directory` (or the bundled responses folder)."""
    folder = Path(directory) if directory else bundled_dir("responses", "huitaine_responses")
    entries: list[FaqEntry] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(folder.glob(PATTERN)):
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise FaqError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
        for entry in _parse(path.name, content):
            if (entry.language, entry.id) in seen:
                raise FaqError(
                    f"{path.name}: entry {entry.id!r} is used twice in {entry.language}"
                )
            seen.add((entry.language, entry.id))
            entries.append(entry)
    return entries


def _toml_string(text: str) -> str:
    # JSON string escapes are valid TOML basic strings.
    return json.dumps(text, ensure_ascii=False)


def draft_entries(
    candidates: Sequence[tuple[str, FaqCandidate, str | None]], *, language: str
) -> str:
    """TOML drafts for `candidates` (language, candidate, an answer found in history or None).

    Written for a person to review: each draft says where it comes from, and one without an
    answer will not load until someone writes it.
    """
    lines = [
        f"# FAQ drafts from the report's recurring questions ({language}). Review each entry:",
        "# reword the questions, write or correct the answer, then move it to "
        f"faq-{language}.toml.",
        f'language = "{language}"',
        "",
    ]
    for number, (lang, candidate, answer) in enumerate(candidates, start=1):
        if lang != language:
            continue
        lines += [
            f"# asked {candidate.count} times; label: {candidate.label}",
            "[[faq]]",
            f'id = "draft-{number}"',
            f"topic = {_toml_string(candidate.label)}",
            "questions = [" + ", ".join(_toml_string(q) for q in candidate.examples) + "]",
        ]
        if answer:
            lines.append("# the answer staff gave to one of these questions; check it")
            lines.append(f"answer = {_toml_string(answer)}")
        else:
            lines.append("# no staff answer found: write it, then remove the # below")
            lines.append('# answer = "…"')
        lines.append("")
    return "\n".join(lines)
