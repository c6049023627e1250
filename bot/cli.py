"""The `huitaine` command line."""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bot.app import Huitaine, build_detector
from bot.bundled import bundled_dir
from bot.clock import ManualClock, SystemClock, parse_timestamp
from bot.config import Config, ConfigError, load_config
from bot.detect.train import add_eval_parser, add_train_parser
from bot.i18n import format_time, t
from bot.models import Case
from bot.replay import ReplaySummary, replay
from bot.report import Report, build_report, render_text
from bot.runtime import PlatformSetupError
from bot.suggest import TemplateError, sign

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


def _open_core(args: argparse.Namespace, config: Config, clock: Any = None) -> Huitaine:
    return Huitaine(config, clock=clock, database=args.db or config.storage.database)


def _replay_file(core: Huitaine, path: Path) -> tuple[ReplaySummary, ManualClock]:
    clock = core.clock
    assert isinstance(clock, ManualClock)
    with path.open("rb") as handle:
        summary = replay(core, clock, handle)
    return summary, clock


def _print_summary(summary: ReplaySummary, core: Huitaine, out: IO[str]) -> None:
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items()))
    print(f"{summary.lines} lines read: {outcomes}", file=out)
    if summary.skipped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in summary.skipped.most_common())
        print(f"{summary.skipped_total} lines skipped ({reasons})", file=out)
    fired = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.notices.items())) or "none"
    print(f"reminders and escalations fired: {fired}", file=out)
    print(f"{len(core.cases.list())} cases in {core.store.path}", file=out)


def cmd_replay(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Ingest a JSONL history with its own timestamps."""
    core = _open_core(args, config, ManualClock(datetime.fromtimestamp(0).astimezone()))
    try:
        summary, _ = _replay_file(core, Path(args.file))
        _print_summary(summary, core, out)
    finally:
        core.close()
    return 0


def cmd_demo(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Replay the bundled example community and show what a moderator would see."""
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "demo.db")
        core = Huitaine(
            config, clock=ManualClock(datetime.fromtimestamp(0).astimezone()), database=db
        )
        try:
            path = example_path()
            print(f"Replaying the invented example community {path.name} …\n", file=out)
            summary, clock = _replay_file(core, path)
            _print_summary(summary, core, out)
            language = config.community.language
            tz = config.community.tz
            print("\nStill waiting for a human, soonest target first:", file=out)
            for case in core.waiting()[:8]:
                late = f" [{t('overdue', language)}]" if case.overdue(clock.now()) else ""
                print(
                    f"\n#{case.id} {t(case.kind.value, language)} ({case.language}, "
                    f"{case.confidence:.2f}) by {case.author.name} in #{case.channel}{late}\n"
                    f"   \u201c{case.excerpt[:140]}\u201d\n"
                    f"   target {format_time(case.target_at, tz)} · "
                    f"limit {format_time(case.due_at, tz)}",
                    file=out,
                )
                if case.suggestions:
                    signed = sign(case.suggestions[0].text, "(moderator)")
                    draft = signed.replace("\n", "\n   │ ")
                    print(
                        f"   suggested reply ({case.suggestions[0].source}):\n   │ {draft}",
                        file=out,
                    )
            print("", file=out)
            print(
                render_text(
                    build_report(core.cases.list(), clock.now()), language=language, tz=tz
                ),
                file=out,
            )
            print(
                "\nNothing was sent: every reply waits for a moderator. "
                "Try it yourself with `huitaine console`.",
                file=out,
            )
        finally:
            core.close()
    return 0


def cmd_cases(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """List cases."""
    core = _open_core(args, config, SystemClock())
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
    core = _open_core(args, config, SystemClock())
    try:
        cases = core.cases.list()
        if args.now:
            now = core.clock.now()
        else:
            row = core.store.row("SELECT MAX(created_at) AS last FROM messages")
            now = datetime.fromisoformat(row["last"]) if row and row["last"] else core.clock.now()
        report = build_report(cases, now)
        if args.html:
            write_html_report(core, report, Path(args.html), config)
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


def write_html_report(core: Huitaine, report: Report, path: Path, config: Config) -> None:
    """Write the self-contained HTML report for the cases in `core`."""
    from bot.insights import build_insights
    from bot.report_html import render_html

    cases = core.cases.list()
    tz = config.community.tz
    insights = build_insights(core.store, cases, report.now, tz)
    waiting = sorted((c for c in cases if c.state.waiting), key=lambda c: (c.opened_at, c.id))
    document = render_html(
        report,
        insights,
        title=config.community.name,
        language=config.community.language,
        tz=tz,
        waiting=waiting[:50],
        waiting_total=len(waiting),
    )
    path.write_text(document, encoding="utf-8")


def cmd_audit(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Import exports into a database, replay them with their own timestamps, and report."""
    from adapters.exports.audit import run_audit
    from adapters.exports.common import StaffRule

    since = parse_timestamp(f"{args.since}T00:00:00+00:00") if args.since else None
    staff = StaffRule.of(
        list(config.staff.roles) + args.staff_role, list(config.staff.user_ids) + args.staff_id
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
            write_html_report(core, report, Path(args.html), config)
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


def cmd_console(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Run the terminal chat."""
    from adapters.console import run_console

    return run_console(config, database=args.db, stdin=sys.stdin, out=out)


def cmd_run(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Run the live bot on the configured platforms."""
    import asyncio

    from adapters.run import run

    return asyncio.run(run(config, args.platform, database=args.db))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="huitaine", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML configuration (see config.example.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="replay the bundled example community and show the result")
    demo.add_argument("--db", help="keep the database in this file (default: a temporary one)")
    demo.set_defaults(func=cmd_demo)

    rep = sub.add_parser("replay", help="ingest a JSONL history with its own timestamps")
    rep.add_argument("file")
    rep.add_argument("--db", help="SQLite file (default: storage.database)")
    rep.set_defaults(func=cmd_replay)

    cases = sub.add_parser("cases", help="list cases")
    cases.add_argument("--db")
    cases.add_argument("--json", action="store_true", help="a JSON array")
    cases.set_defaults(func=cmd_cases)

    report = sub.add_parser("report", help="response times and the one-week rule")
    report.add_argument("--db")
    report.add_argument("--json", action="store_true")
    report.add_argument("--now", action="store_true", help="judge deadlines at the current time")
    report.add_argument("--html", metavar="OUT.html", help="write the full report with charts")

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
    detect.add_argument("--jsonl", action="store_true", required=True)
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
    live.set_defaults(func=cmd_run)

    add_train_parser(sub)
    add_eval_parser(sub)

    console = sub.add_parser(
        "console", help="a terminal chat to try Huitaine as members and moderator"
    )
    console.add_argument("--db", help="SQLite file (default: a temporary one)")
    console.set_defaults(func=cmd_console)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `huitaine` script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config)
        result: int = args.func(args, config, sys.stdout)
    except (ConfigError, TemplateError, PlatformSetupError, FileNotFoundError, ValueError) as exc:
        print(f"huitaine: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return result


if __name__ == "__main__":
    raise SystemExit(main())
