"""Reply suggestions from the editable templates in `responses/`."""

from __future__ import annotations

import logging
import re
import string
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.bundled import bundled_dir
from bot.errors import UserError
from bot.models import Kind, Suggestion

_LOGGER = logging.getLogger(__name__)
_PLACEHOLDERS = frozenset({"member", "moderator", "community"})
_WORD = re.compile(r"\w+")
MAX_SUGGESTIONS = 3
# By meaning, a keyword hit adds this to a template's similarity (two hits at most count):
# measured on the demo's requests, meaning alone picks the right topic for 9 of 26 with the
# detector's encoder, 24 of 26 with this boost (keywords decide, meaning breaks ties).
KEYWORD_BOOST = 0.05
GENERIC_PENALTY = 0.01


class TemplateError(UserError, ValueError):
    """A template file is malformed; the message names the file and the template."""


@dataclass(frozen=True, slots=True)
class Template:
    """One reply template, as a community manager wrote it."""

    id: str
    language: str
    kind: Kind
    topic: str
    keywords: tuple[str, ...]
    text: str
    signature: str | None
    pattern: re.Pattern[str] | None = None

    def hits(self, folded: str) -> int:
        """How many of the template's keywords start a word (or phrase) of `folded` text."""
        if self.pattern is None:
            return 0
        return len(set(self.pattern.findall(folded)))


def fold(text: str) -> str:
    """Casefold and strip accents, so 'Reçu' and 'recu' match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _check_placeholders(text: str, where: str) -> None:
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as exc:
        raise TemplateError(f"{where}: {exc} (write a literal brace as {{{{ or }}}})") from exc
    for name, spec, conversion in fields:
        # A format spec or conversion ({member:x}, {member:>999999999}, {member!r}) would fail
        # or allocate at every render, long after loading: only plain {name} is allowed.
        if spec or conversion:
            raise TemplateError(
                f"{where}: placeholder {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} has a format; write it plainly, e.g. {{member}}"
            )
    names = {name for name, _, _ in fields}
    unknown = names - _PLACEHOLDERS
    if unknown:
        raise TemplateError(
            f"{where}: unknown placeholder(s) {sorted(unknown)}; use {sorted(_PLACEHOLDERS)}"
        )


# FAQ files (bot.faq) share the folder; their names keep them apart.
check_placeholders = _check_placeholders


def _parse_file(name: str, content: str) -> list[Template]:
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{name}: not valid TOML ({exc})") from exc
    language = data.get("language")
    if not isinstance(language, str):
        raise TemplateError(f'{name}: missing language = "xx"')
    signature = data.get("signature")
    if signature is not None:
        if not isinstance(signature, str):
            raise TemplateError(f'{name}: signature must be a string, e.g. "— {{moderator}}"')
        _check_placeholders(signature, f"{name}: signature")
    items = data.get("template", [])
    if not isinstance(items, list):
        raise TemplateError(f"{name}: template must be [[template]] blocks")
    templates = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise TemplateError(f"{name}: template #{index + 1} is not a [[template]] block")
        where = f"{name}: template {item.get('id', index)!r}"
        try:
            kind = Kind(item["kind"])
            text = item["text"]
            template_id = item["id"]
            if not isinstance(text, str) or not isinstance(template_id, str):
                raise ValueError("id and text are strings")
            text = text.strip()
        except (KeyError, ValueError) as exc:
            raise TemplateError(f"{where}: needs id, kind (question/complaint) and text") from exc
        _check_placeholders(text, where)
        use_signature = item.get("signature", True) is not False
        raw_keywords = item.get("keywords", [])
        if not isinstance(raw_keywords, list) or not all(isinstance(k, str) for k in raw_keywords):
            raise TemplateError(f'{where}: keywords must be a list of words, e.g. ["refund"]')
        keywords = tuple(fold(k) for k in raw_keywords)
        templates.append(
            Template(
                id=template_id,
                language=language,
                kind=kind,
                topic=str(item.get("topic", "")),
                keywords=keywords,
                text=text,
                signature=str(signature) if signature and use_signature else None,
                pattern=_keyword_pattern(keywords),
            )
        )
    return templates


def load_templates(directory: str | Path | None = None) -> list[Template]:
    """Load every `*.toml` template file from `directory`, or the bundled ones."""
    folder = Path(directory) if directory else bundled_dir("responses", "huitaine_responses")
    templates: list[Template] = []
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith("faq-"):
            continue  # the community's FAQ (bot.faq), not templates
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
        templates.extend(_parse_file(path.name, content))
    seen: set[str] = set()
    for template in templates:
        if template.id in seen:
            raise TemplateError(f"template id {template.id!r} is used twice")
        seen.add(template.id)
    return templates


class Suggester:
    """Picks the templates that fit a case, in the language of the member's message."""

    def __init__(self, templates: list[Template], *, fallback_language: str = "en") -> None:
        """Index `templates`; `fallback_language` serves messages in a language with none."""
        self.fallback_language = fallback_language
        self._by_key: dict[tuple[str, Kind], list[Template]] = {}
        for template in templates:
            self._by_key.setdefault((template.language, template.kind), []).append(template)

    @property
    def languages(self) -> set[str]:
        """Languages that have templates."""
        return {language for language, _ in self._by_key}

    def template(self, template_id: str) -> Template | None:
        """The template called `template_id`, if loaded."""
        return next(
            (t for group in self._by_key.values() for t in group if t.id == template_id), None
        )

    def templates(self) -> list[Template]:
        """Every loaded template."""
        return [t for group in self._by_key.values() for t in group]

    def suggest(
        self,
        *,
        text: str,
        kind: Kind,
        language: str,
        member: str,
        community: str,
        meaning: Mapping[str, float] | None = None,
    ) -> list[Suggestion]:
        """Return up to three drafted replies, best first; `{moderator}` is left to fill.

        With `meaning` (template id to similarity with the request, from bot.retrieval_drafts)
        templates are ranked by meaning, their keyword hits adding a small boost; without it,
        by keyword hits alone.
        """
        if kind is Kind.OTHER:
            return []
        if (language, kind) not in self._by_key:
            language = self.fallback_language
        candidates = self._by_key.get((language, kind), [])
        folded = " ".join(_WORD.findall(fold(text)))
        scored = []
        for template in candidates:
            hits = template.hits(folded)
            if meaning is not None and template.id in meaning:
                # The generic template sits a little below a topical one of equal meaning.
                boost = KEYWORD_BOOST * min(hits, 2) if template.keywords else -GENERIC_PENALTY
                scored.append((meaning[template.id] + boost, template))
                continue
            # A generic template (no keywords) is the fallback: below any topical match.
            score = hits / (hits + 1.0) if template.keywords else 0.1
            if template.keywords and hits == 0:
                continue
            scored.append((score, template))
        scored.sort(key=lambda pair: -pair[0])
        return [
            Suggestion(
                text=render(t, member=member, community=community, moderator="{moderator}"),
                language=t.language,
                source=f"template:{t.id}",
                score=round(score, 3),
            )
            for score, t in scored[:MAX_SUGGESTIONS]
        ]


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    if not keywords:
        return None
    # Longest first, so "mot de passe" wins over "mot"; a keyword matches the start of a word.
    ordered = sorted(set(keywords), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(k) for k in ordered) + ")")


def render(template: Template, *, member: str, community: str, moderator: str) -> str:
    """Fill a template's placeholders and append its signature."""
    values = {"member": member, "community": community, "moderator": moderator}
    body = template.text.format(**values)
    if template.signature:
        body = f"{body}\n\n{template.signature.format(**values)}"
    return body


def sign(text: str, moderator: str) -> str:
    """Fill the `{moderator}` slot of a stored suggestion; other braces are left as written."""
    return text.replace("{moderator}", moderator)
