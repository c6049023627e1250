"""The `huitaine` command line."""

from __future__ import annotations

import argparse
import io
import json
import logging
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import adapters.sections  # noqa: F401  (registers each platform's section of the file)
from bot import __version__
from bot.app import Huitaine, build_detector
from bot.bundled import bundled_dir
from bot.clock import ManualClock, SystemClock, parse_timestamp
from bot.config import Config, load_config
from bot.detect.train import add_eval_parser, add_train_parser
from bot.errors import UserError
from bot.i18n import format_time, t
from bot.models import Case
from bot.replay import ReplayInterrupted, ReplaySummary, replay
from bot.report import Report, build_report, render_text
from bot.retrieval_cli import add_suggest_parser
from bot.runtime import database_unavailable
from bot.staff import Scope
from bot.storage import Store
from bot.suggest import sign

_LOGGER = logging.getLogger(__name__)
DETECT_BATCH = 64


def example_path() -> Path:
    """The bundled example community (invented messages) in the source tree or the wheel."""
    return bundled_dir("examples", "huitaine_examples") / "community.jsonl"


def case_to_json(case: Case, now: datetime) -> dict[str, Any]:
    """A case in the JSON shape other tools rely on."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": case.id,
        "kind": case.kind.value,
        "state": case.state.value,
        "overdue": case.overdue(now),
        "language": case.language,
        "confidence": case.confidence,
        "platform": case.platform,
        "community": case.community,
        "channel": case.channel,
        "thread": case.thread,
        "author": {"id": case.author.id, "name": case.author.name},
        "opened_at": iso(case.opened_at),
        "target_at": iso(case.target_at),
        "due_at": iso(case.due_at),
        "first_response_at": iso(case.first_response_at),
        "answered_by": case.answered_by,
        "assignee": case.assignee,
        "message_ids": list(case.message_ids),
        "excerpt": case.excerpt,
        "reasons": list(case.reasons),
        "suggestion": case.suggestions[0].text if case.suggestions else None,
    }


class CliError(UserError, ValueError):
    """A command cannot run as asked; the message says what to do instead (exit code 2)."""


def _open_core(args: argparse.Namespace, config: Config, clock: Any = None) -> Huitaine:
    return Huitaine(config, clock=clock, database=args.db or config.storage.database)


def _existing_database(args: argparse.Namespace, config: Config) -> str:
    """The database a command reads; never create an empty one by mistake."""
    database: str = args.db or config.storage.database
    if not database.startswith(("postgresql://", "postgres://")) and not Path(database).is_file():
        origin = "--db" if args.db else "[storage] database"
        raise CliError(
            f"no database at {database} ({origin}). Fix: give the file written by "
            "`huitaine replay`, `audit` or `run` with --db FILE"
        )
    return database


def _open_existing(args: argparse.Namespace, config: Config, clock: Any = None) -> Huitaine:
    """The core on an existing database (see `_existing_database`)."""
    return Huitaine(config, clock=clock, database=_existing_database(args, config))


def _require_files(paths: Sequence[Path | str]) -> None:
    """Refuse missing inputs before anything (such as a database) is created."""
    for path in paths:
        if not Path(path).is_file():
            raise CliError(f"no such file: {path}")


def _replay_file(core: Huitaine, path: Path) -> tuple[ReplaySummary, ManualClock]:
    clock = core.clock
    assert isinstance(clock, ManualClock)
    with path.open("rb") as handle:
        summary = replay(core, clock, handle)
    return summary, clock


def _print_summary(
    summary: ReplaySummary, core: Huitaine, out: IO[str], *, show_path: bool = True
) -> None:
    language = core.config.community.language
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items()))
    print(t("summary_read", language, lines=summary.lines, outcomes=outcomes), file=out)
    if summary.skipped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in summary.skipped.most_common())
        print(t("summary_skipped", language, n=summary.skipped_total, reasons=reasons), file=out)
    fired = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.notices.items()))
    print(t("summary_fired", language, fired=fired or t("none", language)), file=out)
    key = "summary_cases" if show_path else "summary_cases_only"
    print(t(key, language, n=len(core.cases.list()), path=core.store.path), file=out)


def cmd_replay(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Ingest a JSONL history with its own timestamps."""
    _require_files([args.file])
    core = _open_core(args, config, ManualClock(datetime.fromtimestamp(0).astimezone()))
    try:
        summary, _ = _replay_file(core, Path(args.file))
        _print_summary(summary, core, out)
    finally:
        core.close()
    return 0


def cmd_demo(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Replay the bundled example community and show what a moderator would see."""
    language = config.community.language
    tz = config.community.tz
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "demo.db")
        core = Huitaine(
            config, clock=ManualClock(datetime.fromtimestamp(0).astimezone()), database=db
        )
        try:
            path = example_path()
            print(t("demo_replaying", language, name=path.name) + "\n", file=out)
            summary, clock = _replay_file(core, path)
            _print_summary(summary, core, out, show_path=bool(args.db))
            print("\n" + t("demo_waiting", language), file=out)
            for case in core.waiting()[:8]:
                late = f" [{t('overdue', language)}]" if case.overdue(clock.now()) else ""
                heading = t(
                    "demo_case",
                    language,
                    case=case.id,
                    kind=t(case.kind.value, language),
                    lang=case.language,
                    confidence=f"{case.confidence:.2f}",
                    name=case.author.name,
                    channel=case.channel,
                    late=late,
                )
                deadlines = t(
                    "demo_deadlines",
                    language,
                    target=format_time(case.target_at, tz),
                    limit=format_time(case.due_at, tz),
                )
                print(
                    f"\n{heading}\n   \u201c{case.excerpt[:140]}\u201d\n   {deadlines}", file=out
                )
                if case.suggestions:
                    signed = sign(case.suggestions[0].text, t("demo_signature", language))
                    draft = signed.replace("\n", "\n   │ ")
                    origin = core.card(case.id).source_line(language, tz)
                    source = t("demo_suggested", language, source=origin)
                    print(f"   {source}\n   │ {draft}", file=out)
            print("", file=out)
            print(
                render_text(
                    build_report(core.cases.list(), clock.now()), language=language, tz=tz
                ),
                file=out,
            )
            print("\n" + t("demo_nothing_sent", language), file=out)
            # The temporary file is gone when this returns: never show its path as if kept.
            kept = t("demo_kept", language, path=db) if args.db else None
            print(kept or t("demo_temporary", language), file=out)
        finally:
            core.close()
    return 0


def cmd_cases(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """List cases."""
    core = _open_existing(args, config, SystemClock())
    try:
        cases = core.cases.list()
        now = core.clock.now()
        if args.json:
            json.dump([case_to_json(c, now) for c in cases], out, ensure_ascii=False, indent=2)
            print(file=out)
        else:
            for case in cases:
                print(
                    f"#{case.id:<5} {case.kind.value:<9} {case.state.value:<9} {case.language} "
                    f"{case.author.name}: {case.excerpt[:70]}",
                    file=out,
                )
    finally:
        core.close()
    return 0


def cmd_report(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Print the report as of the last message seen (or now, with --now)."""
    core = _open_existing(args, config, SystemClock())
    try:
        scope = None
        if args.community:
            # One community's report: its cases only, in its own language and time zone.
            platform, _, community = args.community.partition(":")
            scope = Scope(platform, frozenset({community}))
            config = config.for_community(platform, community)
        cases = core.cases.list(scope=scope)
        if args.now:
            now = core.clock.now()
        else:
            row = core.store.row("SELECT MAX(created_at) AS last FROM messages")
            now = datetime.fromisoformat(row["last"]) if row and row["last"] else core.clock.now()
        report = build_report(cases, now)
        if args.html:
            write_html_report(core, report, Path(args.html), config, scope=scope)
            print(f"report written to {args.html}", file=out)
        if args.json:
            json.dump(report.as_dict(), out, indent=2)
            print(file=out)
        else:
            print(
                render_text(report, language=config.community.language, tz=config.community.tz),
                file=out,
            )
    finally:
        core.close()
    return 0


def write_html_report(
    core: Huitaine,
    report: Report,
    path: Path,
    config: Config,
    *,
    names: Sequence[str] = (),
    scope: Scope | None = None,
) -> None:
    """Write the self-contained HTML report for the cases in `core`.

    `names` are the servers' and groups' names an import found (exports name them; the
    messages keep only their ids): the title when the configuration names no community.
    """
    from adapters.links import message_link
    from bot.config import CommunityConfig
    from bot.insights import build_insights, report_title
    from bot.report_html import render_html

    cases = core.cases.list(scope=scope)
    tz = config.community.tz
    insights = build_insights(core.store, cases, report.now, tz)
    waiting = sorted((c for c in cases if c.state.waiting), key=lambda c: (c.opened_at, c.id))
    document = render_html(
        report,
        insights,
        title=report_title(core.store, config.community.name, CommunityConfig().name, found=names),
        language=config.community.language,
        tz=tz,
        waiting=waiting[:50],
        waiting_total=len(waiting),
        link=message_link,
    )
    path.write_text(document, encoding="utf-8")


def cmd_audit(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Import exports into a database, replay them with their own timestamps, and report."""
    from adapters.exports.audit import run_audit
    from adapters.exports.common import StaffRule

    _require_files(args.exports)
    since = parse_timestamp(f"{args.since}T00:00:00+00:00") if args.since else None
    staff = StaffRule.of(
        list(config.staff.roles) + args.staff_role,
        # Export ids carry no platform prefix; an operator listed for either platform counts.
        [key.partition(":")[2] for key in config.staff.user_ids] + args.staff_id,
    )
    clock = ManualClock(datetime(1970, 1, 1, tzinfo=UTC))
    core = Huitaine(config, clock=clock, database=args.db)
    try:
        result = run_audit(core, clock, args.exports, staff=staff, since=since)
        print(result.stats.summary(), file=out)
        print(f"{result.added} new messages stored, {result.processed} processed\n", file=out)
        report = build_report(core.cases.list(), clock.now())
        language, tz = config.community.language, config.community.tz
        print(render_text(report, language=language, tz=tz), file=out)
        if args.html:
            names = sorted(result.stats.communities)
            write_html_report(core, report, Path(args.html), config, names=names)
            print(f"\nreport written to {args.html}", file=out)
    finally:
        core.close()
    return 0


def _detect_records(lines: IO[str]) -> Iterator[tuple[Any, str | None, str | None]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError('expected {"id": ..., "text": "..."}')
            yield record.get("id"), record["text"], None
        # RecursionError: a line nested thousands deep is one bad line, not the end of the run.
        except (ValueError, RecursionError) as exc:
            _LOGGER.warning("stdin line %d skipped: %s", number, exc)
            yield None, None, f"line {number}: {exc}"


def _json_line(record: dict[str, Any]) -> str:
    """One output line; an id holding a lone surrogate is written escaped, so it is kept exact
    and the output stays valid UTF-8."""
    try:
        line = json.dumps(record, ensure_ascii=False)
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record)
    except (ValueError, RecursionError):  # an id too large or too deep to write back
        line = json.dumps({**record, "id": None, "error": "id cannot be written back"})
    return line + "\n"


def cmd_detect(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Stream detections for JSONL on stdin; memory does not grow with the input."""
    detector = build_detector(config, identify_all=True)  # every line reports its "lang"
    threshold = config.detection.threshold
    # Unreadable lines wait in the batch too, so the output keeps the input's order.
    batch: list[tuple[Any, str | None, str | None]] = []

    def flush() -> None:
        texts = [text for _, text, _ in batch if text is not None]
        results = iter(detector.detect_batch(texts))
        for ident, text, error in batch:
            if text is None:
                out.write(_json_line({"id": ident, "error": error}))
                continue
            det = next(results)
            record = {
                "id": ident,
                "question": round(det.question, 4),
                "complaint": round(det.complaint, 4),
                "kind": det.kind(threshold).value,
                "lang": det.language,
            }
            out.write(_json_line(record))
        batch.clear()

    # Bytes that are not UTF-8 become "�" in their line instead of stopping the stream.
    raw = getattr(sys.stdin, "buffer", None)
    # Only "\n" ends a JSONL line: a stray "\r" inside one must not split it in two.
    lines = (
        sys.stdin
        if raw is None
        else io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="\n")
    )
    for item in _detect_records(lines):
        batch.append(item)
        if len(batch) >= DETECT_BATCH:
            flush()
    if batch:
        flush()
    out.flush()
    return 0


def cmd_check(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Check the configuration, templates, database folder and tokens; 1 if anything is wrong."""
    import os

    from bot.check import Status, run_checks

    findings = run_checks(
        config,
        config_path=args.config,
        database=args.db or config.storage.database,
        environ=os.environ,
        online=args.online,
    )
    for finding in findings:
        print(finding.line(), file=out)
    problems = sum(1 for f in findings if f.status is Status.PROBLEM)
    print(f"\n{problems} problem(s)" if problems else "\nready for `huitaine run`", file=out)
    return 1 if problems else 0


def cmd_console(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Run the terminal chat."""
    from adapters.console import run_console

    return run_console(config, database=args.db, stdin=sys.stdin, out=out)


def cmd_run(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Run the live bot on the configured platforms."""
    import asyncio

    from adapters.run import run

    metrics = (args.metrics_host, args.metrics_port) if args.metrics_port is not None else None
    return asyncio.run(run(config, args.platform, database=args.db, metrics_address=metrics))


def _open_store(args: argparse.Namespace, config: Config) -> Store:
    """The store alone, for privacy commands: no detector to load, no case to recover."""
    return Store(_existing_database(args, config))


def cmd_migrate(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Copy a SQLite database into an empty PostgreSQL one (ids, times and texts as they are)."""
    if not str(args.to).startswith(("postgresql://", "postgres://")):
        raise CliError(f"--to {args.to!r} is not a PostgreSQL address. Fix: postgresql://…")
    source = _open_store(args, config)
    try:
        from bot.storage_pg import PgStore, copy_from_sqlite, redact

        target = PgStore(args.to)
        try:
            copied = copy_from_sqlite(source, target)
        except RuntimeError as exc:
            raise CliError(str(exc)) from exc
        finally:
            target.close()
    finally:
        source.close()
    total = ", ".join(f"{n} {table}" for table, n in copied.items())
    print(f"copied {source.path} into {redact(args.to)}: {total}", file=out)
    print(f'Next: set [storage] database = "{redact(args.to)}" (password in PGPASSWORD)', file=out)
    return 0


def cmd_forget(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Erase a member's messages, names and texts everywhere, then compact the file."""
    from bot.privacy import compact, forget_member

    store = _open_store(args, config)
    try:
        summary = forget_member(store, args.platform, args.user_id, SystemClock().now())
        try:
            emptied = compact(store)
        except sqlite3.OperationalError as exc:  # another process holds a write lock
            _LOGGER.warning("%s not compacted: %s", store.path, exc)
            emptied = False
    except sqlite3.OperationalError as exc:
        print(f"huitaine: {store.path}: {exc}; nothing was erased, try again", file=sys.stderr)
        return 2
    finally:
        store.close()
    if not summary.found:
        print(f"nothing stored for {args.platform} member {args.user_id}", file=out)
        return 0
    print(
        f"forgot {args.platform} member {args.user_id}: {summary.messages} messages erased, "
        f"{summary.cases} cases anonymised ({summary.withdrawn} withdrawn), "
        f"{summary.replies} replies and {summary.addressed} messages to them emptied",
        file=out,
    )
    if not emptied:
        print(
            "erased from every table, but another process kept the file from being rewritten:"
            " run `huitaine purge` once it is idle",
            file=out,
        )
    # A detector head fitted on their decisions was removed with them; refit it now.
    from bot.detect.retrain import refit_erased

    try:
        refitted = refit_erased(config, store.path, SystemClock().now())
    except Exception:  # erased already: the running bot refits at its next learning check
        _LOGGER.exception("the detector head was not refitted now; the bot will at its next check")
        refitted = []
    for attempt in refitted:
        if attempt.kept:
            print(f"the detector relearned without {attempt.erased} of their decisions", file=out)
        else:
            print(
                f"the detector forgot {attempt.erased} of their decisions and uses the default"
                " head until it has learned again",
                file=out,
            )
    return 0


def cmd_export_member(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Print everything stored about a member as JSON."""
    from bot.privacy import export_member

    store = _open_store(args, config)
    try:
        data = export_member(store, args.platform, args.user_id)
    finally:
        store.close()
    json.dump(data, out, ensure_ascii=False, indent=2)
    print(file=out)
    return 0


def cmd_purge(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Apply [retention] now and compact the file."""
    from bot.privacy import RUN_BUDGET, compact, erasing, purge_older_than

    erase_after = config.retention.erase_after
    store = _open_store(args, config)
    try:
        if erase_after is None:
            print('retention.erase_after is "never": nothing to purge', file=out)
        else:
            cutoff = SystemClock().now() - erase_after
            messages = cases = digests = 0
            with erasing(store):
                while True:  # no budget here: run until everything older is erased
                    summary = purge_older_than(store, cutoff)
                    messages += summary.messages
                    cases += summary.cases
                    digests += summary.digests
                    if summary.total < RUN_BUDGET:
                        break
            print(
                f"erased what is older than {cutoff:%Y-%m-%d}: the texts of {messages} messages,"
                f" {cases} cases and {digests} digests",
                file=out,
            )
        compact(store)
    finally:
        store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="huitaine",
        description="Finds unanswered questions and complaints in Discord and Telegram "
        "communities, tracks the one-week limit, and drafts replies a moderator approves.",
        epilog="--config and -v go before or after the command. "
        "`huitaine COMMAND -h` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="replay the bundled example community and show the result")
    demo.add_argument("--db", help="keep the database in this file (default: a temporary one)")
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("replay", help="ingest a JSONL history with its own timestamps")
    rep.add_argument("file", help="JSONL history, one message a line (see examples/README.md)")
    rep.add_argument("--db", help="SQLite file (default: storage.database)")
    rep.set_defaults(func=cmd_replay)

    cases = sub.add_parser("cases", help="list cases")
    cases.add_argument("--db", help="SQLite file (default: storage.database)")
    cases.add_argument("--json", action="store_true", help="a JSON array")
    cases.set_defaults(func=cmd_cases)

    report = sub.add_parser("report", help="response times and the one-week rule")
    report.add_argument("--db", help="SQLite file (default: storage.database)")
    report.add_argument("--json", action="store_true", help="the figures as one JSON object")
    report.add_argument("--now", action="store_true", help="judge deadlines at the current time")
    report.add_argument("--html", metavar="OUT.html", help="write the full report with charts")
    report.add_argument(
        "--community",
        metavar="PLATFORM:ID",
        help='one community only, e.g. "discord:1234" (its language and time zone)',
    )

    audit = sub.add_parser("audit", help="import chat exports, replay them, and report")
    audit.add_argument("exports", nargs="+", type=Path, help="DiscordChatExporter/Telegram/JSONL")
    audit.add_argument(
        "--db", default="huitaine-audit.db", help="SQLite file (default: %(default)s)"
    )
    audit.add_argument("--since", help="only messages from this date (YYYY-MM-DD)")
    audit.add_argument("--staff-role", action="append", default=[], help="a staff role name")
    audit.add_argument("--staff-id", action="append", default=[], help="a staff user id")
    audit.add_argument("--html", metavar="OUT.html", help="also write the full HTML report")
    audit.set_defaults(func=cmd_audit)
    report.set_defaults(func=cmd_report)

    detect = sub.add_parser("detect", help="score JSONL {id, text} lines from stdin")
    detect.add_argument(
        "--jsonl", action="store_true", help="accepted for compatibility: JSONL is the only format"
    )
    detect.set_defaults(func=cmd_detect)

    live = sub.add_parser("run", help="run the bot on Telegram and/or Discord (tokens from env)")
    live.add_argument(
        "--platform",
        action="append",
        default=[],
        choices=["telegram", "discord"],
        help="start only this platform (repeatable; default: every platform with a token)",
    )
    live.add_argument("--db", help="SQLite file (default: storage.database)")
    live.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus /metrics and /healthz on this port (off by default; "
        "needs huitaine[metrics])",
    )
    live.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address for --metrics-port (default: %(default)s, this machine only)",
    )
    live.set_defaults(func=cmd_run)

    add_train_parser(sub)
    add_eval_parser(sub)
    add_suggest_parser(sub)

    console = sub.add_parser(
        "console", help="a terminal chat to try Huitaine as members and moderator"
    )
    console.add_argument("--db", help="SQLite file (default: a temporary one)")
    console.set_defaults(func=cmd_console)

    check = sub.add_parser(
        "check", help="check the config, templates, database folder and tokens before going live"
    )
    check.add_argument("--db", help="SQLite file (default: storage.database)")
    check.add_argument(
        "--online", action="store_true", help="also ask Telegram/Discord whether the tokens work"
    )
    check.set_defaults(func=cmd_check)

    forget = sub.add_parser("forget", help="erase a member's messages, names and texts")
    forget.add_argument("platform", help="discord, telegram, …")
    forget.add_argument("user_id", help="the member's user id on that platform")
    forget.add_argument("--db", help="SQLite file (default: storage.database)")
    forget.set_defaults(func=cmd_forget)

    export = sub.add_parser("export-member", help="print a member's data as JSON")
    export.add_argument("platform", help="discord, telegram, …")
    export.add_argument("user_id", help="the member's user id on that platform")
    export.add_argument("--db", help="SQLite file (default: storage.database)")
    export.set_defaults(func=cmd_export_member)

    purge = sub.add_parser("purge", help="apply [retention] now and compact the file")
    purge.add_argument("--db", help="SQLite file (default: storage.database)")
    purge.set_defaults(func=cmd_purge)

    migrate = sub.add_parser(
        "migrate", help="copy a SQLite database into an empty PostgreSQL database"
    )
    migrate.add_argument(
        "--to",
        required=True,
        metavar="DSN",
        help="postgresql://user@host/dbname (password: PGPASSWORD)",
    )
    migrate.add_argument("--db", help="SQLite file (default: storage.database)")
    migrate.set_defaults(func=cmd_migrate)

    # Last, so that every subcommand (including those registered elsewhere) takes them.
    for subparser in {id(p): p for p in sub.choices.values()}.values():
        _add_common_options(subparser, default=argparse.SUPPRESS)
    return parser


def _add_common_options(parser: argparse.ArgumentParser, *, default: Any) -> None:
    """`--config` and `-v`, accepted before or after the subcommand.

    On subcommands the default is SUPPRESS: otherwise the subcommand's default would overwrite a
    value given before it (`huitaine -v demo`).
    """
    parser.add_argument(
        "--config",
        type=Path,
        default=default,
        metavar="FILE",
        help="TOML configuration (see config.example.toml)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default if default is argparse.SUPPRESS else False,
        help="log more (info lines)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `huitaine` script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        # A timestamp with its offset: log lines of a long-running bot are read days later.
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
    try:
        config = load_config(args.config)
        result: int = args.func(args, config, sys.stdout)
    except (UserError, FileNotFoundError) as exc:
        print(f"huitaine: {exc}", file=sys.stderr)
        return 2
    except ReplayInterrupted as exc:
        print(f"huitaine: {exc}", file=sys.stderr)
        return 3
    except sqlite3.OperationalError as exc:
        # A file that cannot be opened at all is a setting to fix; locked or full is "not now".
        if database_unavailable(exc) and "unable to open" not in str(exc):
            print(
                f"huitaine: the database cannot be used right now ({exc}); nothing was changed "
                "by halves: free it (or the disk) and run the same command again",
                file=sys.stderr,
            )
            return 3
        # Raised when the file cannot be opened or written (a missing folder, no permission).
        # The configuration loaded fine before the database was opened.
        database = getattr(args, "db", None) or load_config(args.config).storage.database
        print(
            f"huitaine: cannot use the database {database}: {exc}. Fix: point --db or "
            "[storage] database at a file in a folder you can write to",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:
        return 0
    except Exception:
        # A bug: its traceback goes through logging, where tokens are masked (bot.redaction).
        _LOGGER.critical("huitaine stopped on an unexpected error (a bug)", exc_info=True)
        return 1
    return result


if __name__ == "__main__":
    raise SystemExit(main())
