"""`huitaine check`: the configuration, templates, data folder and tokens, before going live.

Nothing here creates a file or sends a message. The platforms are asked about the tokens only
with `--online`, through one `fetch` function that tests replace.
"""

from __future__ import annotations

import enum
import importlib.util
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import platforms
from bot.config import Config
from bot.suggest import TemplateError, load_templates

SQLITE_HEADER = b"SQLite format 3\x00"
TIMEOUT_S = 10.0

# url, headers → (HTTP status, decoded JSON body). Raises OSError when the network is not there.
Fetch = Callable[[str, Mapping[str, str]], tuple[int, Any]]


class Status(enum.StrEnum):
    """The outcome of one check."""

    OK = "ok"
    PROBLEM = "problem"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the check: what was looked at, the outcome, and the detail or the fix."""

    subject: str
    status: Status
    detail: str

    def line(self) -> str:
        """The finding as printed: a mark, the subject and the detail."""
        mark = {Status.OK: "✓", Status.PROBLEM: "✗", Status.SKIPPED: "-"}[self.status]
        return f"{mark} {self.subject}: {self.detail}"


def _problem(subject: str, key: str, problem: str, fix: str) -> Finding:
    # The same "key, problem, fix" shape as a configuration error.
    return Finding(subject, Status.PROBLEM, f"at '{key}': {problem}. Fix: {fix}")


def check_templates(config: Config) -> Finding:
    """The reply templates load, and some speak the community's language."""
    directory = config.responses.directory
    if directory and not Path(directory).is_dir():
        return _problem(
            "templates",
            "responses.directory",
            f"{directory} is not a folder",
            "point it at a folder of *.toml templates, or remove the key to use the bundled ones",
        )
    try:
        templates = load_templates(directory or None)
    except TemplateError as exc:
        return _problem("templates", "responses.directory", str(exc), "correct that template")
    if not templates:
        return _problem(
            "templates",
            "responses.directory",
            f"no *.toml template in {directory}",
            "copy the bundled responses/ folder and edit it: without templates, no drafts",
        )
    languages = sorted({template.language for template in templates})
    where = directory or "bundled"
    # A community writing in a language without templates gets drafts in its UI language.
    if not {config.community.language, config.community.ui_language} & set(languages):
        return _problem(
            "templates",
            "community.language",
            f"no template in {config.community.language!r} ({where}: {', '.join(languages)})",
            f"add a {config.community.language}.toml, or set language to one of {languages}",
        )
    return Finding(
        "templates", Status.OK, f"{len(templates)} from {where} ({', '.join(languages)})"
    )


def check_database(database: str) -> Finding:
    """The database can be created where configured, or the existing file is SQLite."""
    if database.startswith(("postgresql://", "postgres://")):
        return _check_postgres(database)
    path = Path(database)
    key = "storage.database"
    if path.exists():
        if not path.is_file():
            return _problem("database", key, f"{database} is a folder", "name a file in it")
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
        if header and header != SQLITE_HEADER:
            return _problem(
                "database", key, f"{database} is not a SQLite file", "name another file"
            )
        if not os.access(path, os.W_OK):
            return _problem(
                "database", key, f"{database} is read-only", "give the bot write access"
            )
        return Finding("database", Status.OK, f"{database} exists and is writable")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return _problem(
            "database",
            key,
            f"the folder {folder} does not exist",
            f"create it (mkdir -p {folder})",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return _problem(
            "database", key, f"the folder {folder} is not writable", "give the bot write access"
        )
    return Finding("database", Status.OK, f"{database} will be created in {folder}")


def _check_postgres(dsn: str) -> Finding:
    """The PostgreSQL server answers (the password, if any, from PGPASSWORD)."""
    key = "storage.database"
    try:
        from bot.storage_pg import PgConnection, redact
    except ImportError:
        return _problem(
            "database", key, "psycopg is not installed", "pip install 'huitaine[postgresql]'"
        )
    try:
        PgConnection(dsn).close()
    except Exception as exc:  # any refusal: say it, the bot would stop on it too
        return _problem(
            "database", key, f"{redact(dsn)}: {exc}", "check the address, the server, PGPASSWORD"
        )
    return Finding("database", Status.OK, f"{redact(dsn)} answers")


def check_tokens(
    config: Config,
    environ: Mapping[str, str],
    *,
    has_module: Callable[[str], bool] | None = None,
) -> list[Finding]:
    """Which platforms have a token in the environment, and whether their package is installed."""
    installed = has_module or (lambda name: importlib.util.find_spec(name) is not None)
    findings = []
    for name, platform in platforms.tables().items():
        module = platform.sdk or name
        env = config.platforms[name].token_env
        token = environ.get(env, "")
        if not token:
            findings.append(Finding(name, Status.SKIPPED, f"${env} is not set"))
            continue
        if token != token.strip():
            findings.append(
                _problem(name, f"{name}.token_env", f"${env} has spaces around it", "trim them")
            )
            continue
        if platform.token_shape is not None and not platform.token_shape.match(token):
            findings.append(
                _problem(
                    name,
                    f"{name}.token_env",
                    f"${env} does not look like a bot token (digits:letters)",
                    platform.token_hint or "copy the token again from the platform",
                )
            )
            continue
        if not installed(module):
            findings.append(
                _problem(
                    name,
                    f"{name}.token_env",
                    f"${env} is set but the {module!r} package is not installed",
                    f"pip install 'huitaine[{name}]'",
                )
            )
            continue
        # The token itself is never printed, not even in part.
        findings.append(Finding(name, Status.OK, f"${env} is set ({len(token)} characters)"))
    if all(f.status is Status.SKIPPED for f in findings):
        known = platforms.tables()
        names = " or ".join(f"${config.platforms[name].token_env}" for name in known)
        findings.append(
            _problem(
                "tokens",
                " / ".join(f"{name}.token_env" for name in known),
                f"no bot token in the environment ({names})",
                "export one before `huitaine run`; `huitaine console` needs none",
            )
        )
    return findings


def fetch_json(url: str, headers: Mapping[str, str]) -> tuple[int, Any]:
    """GET `url` and decode its JSON body; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, None


def ask_platforms(
    config: Config, environ: Mapping[str, str], fetch: Fetch = fetch_json
) -> list[Finding]:
    """Ask each platform who the bot is; unreachable is `skipped`, a refusal is a problem."""
    findings = []
    for name, platform in platforms.tables().items():
        env = config.platforms[name].token_env
        token = environ.get(env, "").strip()
        if not token or platform.identify is None:
            continue
        url, headers = platform.identify(token)
        try:
            status, body = fetch(url, headers)
        except OSError as exc:
            reason = getattr(exc, "reason", exc)
            findings.append(
                Finding(f"{name} online", Status.SKIPPED, f"not reachable ({reason}); not checked")
            )
            continue
        if status == 200:
            who = body.get("result", body) if isinstance(body, dict) else {}
            username = who.get("username", "?") if isinstance(who, dict) else "?"
            findings.append(Finding(f"{name} online", Status.OK, f"the token is bot @{username}"))
        elif status in (401, 403, 404):
            findings.append(
                _problem(
                    f"{name} online",
                    f"{name}.token_env",
                    f"{name} refused ${env} (HTTP {status})",
                    "the token was revoked or mistyped: copy it again from the platform",
                )
            )
        else:
            findings.append(
                Finding(
                    f"{name} online", Status.SKIPPED, f"{name} answered HTTP {status}; try later"
                )
            )
    return findings


def run_checks(
    config: Config,
    *,
    config_path: Path | None,
    database: str,
    environ: Mapping[str, str],
    online: bool = False,
    fetch: Fetch = fetch_json,
    has_module: Callable[[str], bool] | None = None,
) -> list[Finding]:
    """Every check, in the order a self-hoster fixes things."""
    origin = str(config_path) if config_path else "no --config: the defaults"
    findings = [Finding("config", Status.OK, f"{origin} (language {config.community.language})")]
    findings.append(check_templates(config))
    findings.append(check_database(database))
    findings.extend(check_tokens(config, environ, has_module=has_module))
    if online:
        findings.extend(ask_platforms(config, environ, fetch))
    else:
        findings.append(
            Finding("online", Status.SKIPPED, "tokens not sent to the platforms (add --online)")
        )
    return findings
