"""Bounded mutation fuzzer over every parser of outside data.

Each parser gets recorded or bundled inputs as seeds, mutated at random (odd types, missing and
extra fields, lone surrogates, huge numbers and strings, deep nesting, out-of-range dates, bytes
flipped or cut). A crash is any exception other than the parser's documented refusal (BadLine,
ConfigError, TemplateError, BadCallback, InvalidCustomId), a result the core cannot store, or
running out of the memory cap. Prints inputs tried and crashes found per parser; exits 1 when
any parser crashed, so CI can run it with a small budget.

Run: python bench/fuzz.py [--seconds 5] [--count N] [--seed 1] [--only replay,config] [--save DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import logging
import random
import resource
import sys
import tempfile
import time
import tomllib
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import Huitaine  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.config import ConfigError, load_config, parse_config  # noqa: E402
from bot.models import Message  # noqa: E402

TG_PAYLOADS = ROOT / "tests" / "adapters" / "telegram" / "payloads"
DC_PAYLOADS = ROOT / "tests" / "adapters" / "discord" / "payloads"
EXPORTS = ROOT / "tests" / "exports" / "fixtures"
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _deep(depth: int, kind: str = "list") -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


NASTY_STRINGS: list[str] = [
    "",
    " ",
    "\ud800",
    "\udc80",
    "a\udfffb",
    "a\x00b",
    "\u202eevil",
    "💥" * 3,
    "9" * 30,
    "x" * 70_000,
    "{member:x}",
    "{member:>999999999}",
    "{",
    "}",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "-1",
    "99999999999d",
    "A" * 300,
    "de",
    "Mention",
]
NASTY_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    2**64,
    -(2**70),
    10**30,
    253402300800,
    -62135596801,
    1.5,
    1e308,
    [],
    {},
    [1],
    ["x"],
    [123],
    {"id": 1},
    [{"id": "x"}],
    [{"type": "mention_name"}],
    _deep(300),
    _deep(300, "dict"),
    *NASTY_STRINGS,
]
NASTY_BYTES = [
    b"\\udc80",
    b"\\ud800",
    b"\\ud83d\\ude00",
    b"[" * 3000,
    b'{"a":' * 3000,
    b"9" * 5000,
    b"\xff",
    b"\x00",
    b'"',
    b"{",
    b"]",
    b"\\",
    b"\n",
    b"1e999",
]


def _nodes(value: Any, limit: int = 3000) -> list[tuple[Any, Any]]:
    """(container, key) pairs of a JSON-like value, breadth first, at most `limit`."""
    found: list[tuple[Any, Any]] = []
    queue = [value]
    while queue and len(found) < limit:
        node = queue.pop(0)
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            found.append((node, key))
            child = node[key]
            if isinstance(child, dict | list):
                queue.append(child)
    return found


def mutate_value(seed: Any, rng: random.Random) -> Any:
    """A copy of `seed` with one to three structural mutations."""
    value = copy.deepcopy(seed)
    for _ in range(rng.randint(1, 3)):
        nodes = _nodes(value)
        if not nodes:
            return rng.choice(NASTY_VALUES)
        container, key = rng.choice(nodes)
        op = rng.random()
        if op < 0.55:
            container[key] = copy.deepcopy(rng.choice(NASTY_VALUES))
        elif op < 0.7 and isinstance(container, dict):
            del container[key]
        elif op < 0.8:
            container[key] = [container[key]]
        elif op < 0.9 and isinstance(container, dict):
            container[rng.choice(NASTY_STRINGS[:8])] = rng.choice(NASTY_VALUES)
        else:
            container[key] = _deep(rng.choice((100, 900)), rng.choice(("list", "dict")))
    return value


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """`data` with one to three byte-level mutations."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(out) + 1)
        op = rng.random()
        if op < 0.4:
            out[at:at] = rng.choice(NASTY_BYTES)
        elif op < 0.6 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif op < 0.75:
            del out[at : at + rng.randint(1, 40)]
        elif op < 0.85:
            del out[at:]
        else:
            out[at:at] = out[max(0, at - 50) : at]
    return bytes(out)


def mutate_text(text: str, rng: random.Random) -> str:
    """`text` with characters inserted, replaced or cut."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(chars) + 1)
        op = rng.random()
        if op < 0.5:
            chars[at:at] = list(rng.choice([*NASTY_STRINGS[:10], ":", "0", "999999999999"]))
        elif op < 0.8 and chars:
            del chars[at : at + rng.randint(1, 5)]
        else:
            chars[at:at] = [chr(rng.randrange(0x110000))]
    return "".join(chars)


def check_message(message: Message) -> None:
    """Raise unless the core can store `message` (text fields storable, date in range)."""
    for value in (
        message.platform,
        message.community,
        message.channel,
        message.id,
        message.author.id,
        message.author.name,
        *message.mentions,
    ):
        if not isinstance(value, str):
            raise TypeError(f"non-text field {value!r:.40}")
        value.encode("utf-8")
    if not isinstance(message.text, str):
        raise TypeError("text is not a string")
    if not EARLIEST <= message.created_at < LATEST:
        raise ValueError(f"date {message.created_at} out of range")


@dataclass
class Target:
    """One parser: its seeds, how to mutate them, and how to feed it one input."""

    name: str
    seeds: list[Any]
    mutate: Callable[[Any, random.Random], Any]
    run: Callable[[Any], None]
    refusals: tuple[type[BaseException], ...] = ()


@dataclass
class Tally:
    """What one parser did under the fuzzer."""

    inputs: int = 0
    refused: int = 0
    crashes: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(ROOT) in f.filename]
    frames = [f for f in frames if "/bench/" not in f.filename] or frames
    place = f"{Path(frames[-1].filename).relative_to(ROOT)}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {place}"


def fuzz(target: Target, rng: random.Random, seconds: float, count: int) -> Tally:
    """Feed `target` mutated seeds until the time or count budget is spent."""
    tally = Tally()
    start = time.monotonic()
    while tally.inputs < count and time.monotonic() - start < seconds:
        try:
            data = target.mutate(rng.choice(target.seeds), rng)
        except RecursionError:  # a mutation too deep for json.dumps: draw another
            continue
        tally.inputs += 1
        try:
            target.run(data)
        except target.refusals:
            tally.refused += 1
            continue
        except (Exception, RecursionError, MemoryError) as exc:  # the findings
            tally.crashes += 1
            kind = _where(exc)
            tally.kinds[kind] += 1
            tally.examples.setdefault(kind, data)
    tally.seconds = time.monotonic() - start
    return tally


# -- targets ----------------------------------------------------------------------------------


def _rules_config(tmp: Path) -> Path:
    path = tmp / "rules.toml"
    path.write_text('[detection]\ndetector = "rules"\n', encoding="utf-8")
    return path


def _core(tmp: Path, name: str) -> tuple[Huitaine, ManualClock]:
    clock = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    config = parse_config({"detection": {"detector": "rules"}})
    return Huitaine(config, clock=clock, database=tmp / f"{name}.db"), clock


def telegram_convert() -> Target:
    from telegram import Update

    from adapters.telegram.convert import to_message

    seeds = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(TG_PAYLOADS.glob("*.json"))
        if "callback" not in p.name
    ]

    def run(data: Any) -> None:
        try:
            update = Update.de_json(data, None)
        except Exception as exc:
            raise _Refused from exc  # python-telegram-bot refuses it before our code runs
        message = update.effective_message if update is not None else None
        if message is not None:
            converted = to_message(message, bot_id=1, admin_ids=frozenset({5}), usernames={})
            if converted is not None:
                check_message(converted)

    return Target("telegram convert", seeds, mutate_value, run, (_Refused,))


class _Refused(Exception):
    """Refused by a dependency before Huitaine's code runs (counted apart, not a crash)."""


def discord_convert() -> Target:
    from adapters.discord.convert import GuildFacts, convert_payload, modal_values
    from adapters.discord.settings import parse_settings

    frames = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in DC_PAYLOADS.glob("*")}
    guild_payload = frames["guild_create.json"]["d"]
    guild = GuildFacts.from_payload(guild_payload)
    settings = parse_settings(parse_config({"discord": {"review_channel": 1, "guild_ids": []}}))
    seeds = [(name, frame["d"]) for name, frame in sorted(frames.items()) if "d" in frame]

    def mutate(seed: tuple[str, Any], rng: random.Random) -> tuple[str, Any]:
        return seed[0], mutate_value(seed[1], rng)

    def run(data: tuple[str, Any]) -> None:
        name, payload = data
        if name == "guild_create.json":
            GuildFacts.from_payload(payload)
        elif name.startswith("interaction"):
            modal_values(payload)
        else:
            message = convert_payload(payload, guild, settings, bot_id="42")
            if message is not None:
                check_message(message)

    return Target("discord convert", seeds, mutate, run)


def telegram_callback() -> Target:
    from adapters.telegram.keyboard import Act, BadCallback, Callback, decode, encode

    seeds = [encode(Callback(act, 7)) for act in Act if act is not Act.REASON]

    def mutate(seed: str, rng: random.Random) -> Any:
        return mutate_text(seed, rng) if rng.random() < 0.9 else rng.choice(NASTY_VALUES)

    return Target("telegram callback data", seeds, mutate, decode, (BadCallback,))


def discord_custom_id() -> Target:
    from adapters.discord.ids import Action, InvalidCustomId, make

    seeds = [make(Action.SEND, 7), make(Action.EDIT, 12), make(Action.CONFIRM, 3, "9")]

    def run(text: str) -> None:
        from adapters.discord.ids import decode

        decode(text)

    return Target("discord custom ids", seeds, mutate_text, run, (InvalidCustomId,))


def _export_target(name: str, fixture: Path, reader: Any, tmp: Path) -> Target:
    from adapters.exports.common import ImportStats, StaffRule

    raw = fixture.read_bytes()
    parsed = json.loads(raw)
    core, _ = _core(tmp, name.replace(" ", "-"))
    path = tmp / fixture.name

    def mutate(seed: bytes, rng: random.Random) -> bytes:
        if rng.random() < 0.5:
            return mutate_bytes(seed, rng)
        return json.dumps(mutate_value(parsed, rng), ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass"
        )

    def run(data: bytes) -> None:
        path.write_bytes(data)
        stats = ImportStats()
        messages = list(reader(path, StaffRule.of(["moderator"]), stats, progress=False))
        for message in messages:
            check_message(message)
        core.ingestor.store_many(messages)

    return Target(name, [raw], mutate, run)


def replay_jsonl(tmp: Path) -> Target:
    from bot.replay import BadLine, parse_event, replay

    lines = (ROOT / "examples" / "community.jsonl").read_bytes().splitlines()
    core, clock = _core(tmp, "replay")

    def mutate(seed: bytes, rng: random.Random) -> bytes:
        if rng.random() < 0.5:
            return mutate_bytes(seed, rng)
        value = mutate_value(json.loads(seed), rng)
        return json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")

    def run(line: bytes) -> None:
        try:
            parse_event(line)
        except BadLine:
            return
        summary = replay(core, clock, [line])
        if summary.lines != 1:
            raise AssertionError("a line was neither processed nor skipped")

    return Target("replay jsonl", lines, mutate, run, (BadLine,))


def config_toml(tmp: Path) -> Target:
    example = ROOT / "config.example.toml"
    seed = tomllib.loads(example.read_text(encoding="utf-8"))
    text = example.read_bytes()
    path = tmp / "fuzz.toml"

    def mutate(_: Any, rng: random.Random) -> Any:
        return mutate_bytes(text, rng) if rng.random() < 0.3 else mutate_value(seed, rng)

    def run(data: Any) -> None:
        if isinstance(data, bytes):
            path.write_bytes(data)
            load_config(path)
        else:
            parse_config(data)

    return Target("config", [seed], mutate, run, (ConfigError,))


def templates() -> Target:
    from bot.suggest import TemplateError, _parse_file, render

    seeds = [(p.name, p.read_text(encoding="utf-8")) for p in (ROOT / "responses").glob("*.toml")]
    odd = ["{member:x}", "{member:>999999999}", "{member!r}", "{0}", "{member.x}", "{member[0]}"]
    odd += ["[1]", "3", "{a = 1}", "true", '"x"', "{", "}}", "{{", "\\ud800"]

    def mutate(seed: tuple[str, str], rng: random.Random) -> tuple[str, str]:
        name, text = seed
        lines = text.splitlines()
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(lines))
            line = lines[at]
            if rng.random() < 0.6 and "=" in line:
                key = line.split("=", 1)[0]
                lines[at] = f"{key}= {rng.choice(odd)}" if rng.random() < 0.5 else line
                if '"' in line and rng.random() < 0.7:
                    cut = line.rfind('"')
                    lines[at] = line[:cut] + rng.choice(odd) + line[cut:]
            else:
                lines[at] = mutate_text(line, rng)
        return name, "\n".join(lines)

    def run(data: tuple[str, str]) -> None:
        for template in _parse_file(*data):
            written = len(template.text) + len(template.signature or "")
            for member in ("Ann", "{member}", "\ud800", "x" * 1000):
                text = render(template, member=member, community="C", moderator="M")
                # Each placeholder gives at most the value's length: no padding bombs.
                if len(text) > written * (1 + len(member)) + 2:
                    raise MemoryError(f"a render of {len(text)} characters")

    return Target("templates", seeds, mutate, run, (TemplateError,))


def detect_jsonl(tmp: Path) -> Target:
    from huitaine.cli import main

    config = _rules_config(tmp)
    seeds = [
        json.dumps({"id": i, "text": text}).encode()
        for i, text in enumerate(["where is my order?", "merci !", "c'est inadmissible"])
    ]

    def mutate(seed: bytes, rng: random.Random) -> bytes:
        if rng.random() < 0.5:
            return mutate_bytes(seed, rng)
        value = mutate_value(json.loads(seed), rng)
        return json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")

    def run(line: bytes) -> None:
        lines = [seeds[0], line.replace(b"\n", b" "), seeds[1]]
        stdin = io.TextIOWrapper(io.BytesIO(b"\n".join(lines) + b"\n"), encoding="utf-8")
        out = io.BytesIO()
        stdout = io.TextIOWrapper(out, encoding="utf-8")  # strict, as a pipe in a UTF-8 locale
        with _swapped(stdin, stdout):
            code = main(["--config", str(config), "detect", "--jsonl"])
            stdout.flush()
        rows = out.getvalue().decode("utf-8").split("\n")[:-1]
        if code != 0 or len(rows) != sum(1 for x in lines if x.strip()):
            raise AssertionError(f"exit {code}, {len(rows)} rows for {len(lines)} lines")

    return Target("detect --jsonl", seeds, mutate, run)


@contextlib.contextmanager
def _swapped(stdin: Any, stdout: Any) -> Iterator[None]:
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, io.StringIO()
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def targets(tmp: Path) -> list[Target]:
    """Every parser of outside data."""
    from adapters.exports.discord_export import read_discord_export
    from adapters.exports.telegram_export import read_telegram_export

    return [
        telegram_convert(),
        discord_convert(),
        telegram_callback(),
        discord_custom_id(),
        _export_target("discord export", EXPORTS / "discord_help.json", read_discord_export, tmp),
        _export_target(
            "telegram export", EXPORTS / "telegram_result.json", read_telegram_export, tmp
        ),
        replay_jsonl(tmp),
        config_toml(tmp),
        templates(),
        detect_jsonl(tmp),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="budget per parser")
    parser.add_argument("--count", type=int, default=10**9, help="at most this many inputs each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated parser names (substrings)")
    parser.add_argument("--memory-gb", type=float, default=6.0, help="address-space cap")
    parser.add_argument("--save", type=Path, help="write one crashing input per kind here")
    args = parser.parse_args()
    cap = int(args.memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    logging.disable(logging.CRITICAL)  # the parsers' skip lines would drown the table
    rng = random.Random(args.seed)
    wanted = [w for w in args.only.split(",") if w]
    total_crashes = 0
    print(f"{'parser':<24}{'inputs':>9}{'refused':>9}{'crashes':>9}{'kinds':>7}{'s':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for target in targets(Path(folder)):
            if wanted and not any(w in target.name for w in wanted):
                continue
            tally = fuzz(target, rng, args.seconds, args.count)
            total_crashes += tally.crashes
            print(
                f"{target.name:<24}{tally.inputs:>9}{tally.refused:>9}{tally.crashes:>9}"
                f"{len(tally.kinds):>7}"
                f"{tally.seconds:>7.1f}"
            )
            for kind, n in tally.kinds.most_common(5):
                print(f"    {n:>6} x {kind}")
            if args.save and tally.examples:
                args.save.mkdir(parents=True, exist_ok=True)
                for i, example in enumerate(tally.examples.values()):
                    name = f"{target.name.replace(' ', '_')}-{i}.txt"
                    (args.save / name).write_text(repr(example)[:1_000_000], encoding="utf-8")
    print("refused: turned away by the parser's own error (telegram convert: by")
    print("python-telegram-bot's Update.de_json, before Huitaine's code runs)")
    print(f"crashes: {total_crashes} (busy host: other work shares the 2 cores)")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
