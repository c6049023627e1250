"""Property-based tests over every parser of outside data: whatever comes in, the parser either
refuses it with its own error or returns something the core can store; nothing else escapes.

Example counts are small so the suite stays quick; bench/fuzz.py runs the long campaign.
Raise them with HUITAINE_FUZZ_EXAMPLES=500 for a deeper local run.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from adapters.discord import ids
from adapters.discord.convert import GuildFacts, convert_payload, modal_values
from adapters.exports.common import ImportStats, StaffRule
from adapters.exports.discord_export import read_discord_export
from adapters.exports.telegram_export import read_telegram_export
from adapters.telegram import keyboard
from adapters.telegram.convert import to_message
from bot.app import Huitaine
from bot.clock import EARLIEST, LATEST, ManualClock
from bot.config import ConfigError, parse_config
from bot.models import Message
from bot.replay import BadLine, parse_event, replay
from bot.suggest import TemplateError, _parse_file, render
from huitaine.cli import _detect_records, _json_line
from tests.adapters.discord.test_discord_convert import BOT_ID, GUILD_FACTS
from tests.adapters.discord.test_discord_convert import payload as discord_payload
from tests.adapters.discord.test_discord_convert import settings as discord_settings
from tests.adapters.telegram.world import payload as telegram_payload

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "exports" / "fixtures"
EXAMPLES = int(os.environ.get("HUITAINE_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis folder left in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Odd values the platforms never send, mixed with ordinary JSON.
ODD = st.sampled_from(
    ["\ud800", "\udc80", "9" * 25, 2**64, -1, "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | ODD
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def _apply(seed: Any, changes: list[tuple[int, Any]]) -> Any:
    """`seed` with the node at each (index modulo the node count) replaced."""
    value = copy.deepcopy(seed)
    for index, replacement in changes:
        nodes: list[tuple[Any, Any]] = []
        queue = [value]
        while queue:
            node = queue.pop(0)
            for key in list(node) if isinstance(node, dict) else range(len(node)):
                nodes.append((node, key))
                if isinstance(node[key], dict | list):
                    queue.append(node[key])
        if nodes:
            container, key = nodes[index % len(nodes)]
            container[key] = replacement
    return value


def mutated(seed: Any) -> st.SearchStrategy[Any]:
    """Copies of `seed` with one to three values replaced by odd ones."""
    changes = st.lists(st.tuples(st.integers(0, 10**6), JSON), min_size=1, max_size=3)
    return changes.map(lambda c: _apply(seed, c))


def storable(message: Message) -> None:
    """What the core needs of a message: text fields that encode, a date in range."""
    for value in (message.id, message.channel, message.author.id, message.author.name):
        assert isinstance(value, str)
        value.encode("utf-8")
    assert isinstance(message.text, str)
    assert all(isinstance(m, str) for m in message.mentions)
    assert EARLIEST <= message.created_at < LATEST


# -- platforms --------------------------------------------------------------------------------


@FUZZ
@given(
    mutated(telegram_payload("group_complaint_fr")) | mutated(telegram_payload("staff_reply_fr"))
)
def test_telegram_conversion_never_raises(data: dict[str, Any]) -> None:
    try:
        update = Update.de_json(data, None)
    except Exception:
        return  # python-telegram-bot refused it before our code runs
    message = update.effective_message if update is not None else None
    if message is not None:
        converted = to_message(message, bot_id=1, admin_ids=frozenset({5}))
        if converted is not None:
            storable(converted)


@FUZZ
@given(
    mutated(discord_payload("message_create_question_en.json"))
    | mutated(discord_payload("message_create_staff_reply_in_thread_fr.json"))
)
def test_discord_conversion_never_raises(data: dict[str, Any]) -> None:
    message = convert_payload(data, GUILD_FACTS, discord_settings(), bot_id=BOT_ID)
    if message is not None:
        storable(message)


@FUZZ
@given(
    mutated(discord_payload("guild_create.json")),
    mutated(discord_payload("interaction_modal_submit_label.json")),
)
def test_discord_guild_and_modal_payloads_never_raise(guild: Any, modal: Any) -> None:
    GuildFacts.from_payload(guild)
    assert all(isinstance(v, str) for v in modal_values(modal).values())


@FUZZ
@given(st.text(max_size=80) | JSON)
def test_callback_data_is_decoded_or_refused(data: Any) -> None:
    with contextlib.suppress(keyboard.BadCallback):
        keyboard.decode(data)


@FUZZ
@given(st.sampled_from(list(keyboard.Act)), st.integers(1, keyboard.MAX_CASE_ID))
def test_callback_data_round_trips(act: keyboard.Act, case_id: int) -> None:
    arg = next(iter(keyboard.REASONS)) if act is keyboard.Act.REASON else None
    callback = keyboard.Callback(act, case_id, arg)
    assert keyboard.decode(keyboard.encode(callback)) == callback


@FUZZ
@given(st.text(max_size=120) | st.text(max_size=60).map(lambda t: f"huitaine:v1:{t}"))
def test_custom_ids_are_decoded_or_refused(text: str) -> None:
    with contextlib.suppress(ids.InvalidCustomId):
        ids.decode(text)


@FUZZ
@given(st.sampled_from(list(ids.Action)), st.integers(1, 2**63 - 1))
def test_custom_ids_round_trip(action: ids.Action, case_id: int) -> None:
    arg = {ids.Action.REASON: "spam", ids.Action.CONFIRM: "9", ids.Action.RETRY: "9"}.get(action)
    try:
        made = ids.make(action, case_id, arg)
    except ids.InvalidCustomId:
        return  # an action whose argument is of another kind
    assert ids.decode(made) == ids.CustomId(action, case_id, arg)


# -- exports ----------------------------------------------------------------------------------


def _read_export(reader: Callable[..., Any], data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_bytes(data)
        stats = ImportStats()
        for message in reader(path, StaffRule.of(["moderator"]), stats, progress=False):
            storable(message)
        assert stats.kept + sum(stats.skipped.values()) == stats.read


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


DISCORD_EXPORT = json.loads((FIXTURES / "discord_help.json").read_bytes())
TELEGRAM_EXPORT = json.loads((FIXTURES / "telegram_result.json").read_bytes())


@FUZZ
@given(
    mutated(DISCORD_EXPORT).map(_dumps)
    | st.binary(max_size=300).map(
        lambda b: (FIXTURES / "discord_help.json").read_bytes()[:900] + b
    )
)
def test_discord_export_reader_never_raises(data: bytes) -> None:
    _read_export(read_discord_export, data)


@FUZZ
@given(
    mutated(TELEGRAM_EXPORT).map(_dumps)
    | st.binary(max_size=300).map(
        lambda b: (FIXTURES / "telegram_result.json").read_bytes()[:900] + b
    )
)
def test_telegram_export_reader_never_raises(data: bytes) -> None:
    _read_export(read_telegram_export, data)


# -- JSONL, config, templates -----------------------------------------------------------------

HISTORY = (ROOT / "examples" / "community.jsonl").read_bytes().splitlines()


@FUZZ
@given(
    st.sampled_from(HISTORY[:20]).flatmap(lambda line: mutated(json.loads(line))).map(_dumps)
    | st.binary(max_size=200)
)
def test_replay_lines_are_parsed_or_refused(line: bytes) -> None:
    try:
        event = parse_event(line)
    except BadLine:
        return
    storable(event.message)


@pytest.fixture(scope="module")
def replay_core(tmp_path_factory: pytest.TempPathFactory) -> Any:
    clock = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    config = parse_config({"detection": {"detector": "rules"}})
    core = Huitaine(config, clock=clock, database=tmp_path_factory.mktemp("replay") / "h.db")
    yield core, clock
    core.close()


@FUZZ
@given(
    st.lists(st.sampled_from(HISTORY).flatmap(lambda line: mutated(json.loads(line))), max_size=4)
)
def test_a_replay_of_odd_lines_processes_or_skips_each(
    replay_core: Any, records: list[Any]
) -> None:
    core, clock = replay_core
    lines = [json.dumps(r).encode() for r in records]
    summary = replay(core, clock, lines)
    assert summary.lines == len(lines)


EXAMPLE_CONFIG = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))


@FUZZ
@given(mutated(EXAMPLE_CONFIG))
def test_config_is_accepted_or_refused_with_the_key(raw: dict[str, Any]) -> None:
    refusal = "config error at '"
    try:
        parse_config(raw)
    except ConfigError as exc:
        refusal = str(exc)
    assert refusal.startswith("config error at '")


PLACEHOLDER = st.sampled_from(["member", "moderator", "community", "x", "0", "member.a", ""])
TEMPLATE_TEXT = st.lists(
    st.text(max_size=5).map(lambda t: t.replace("{", "").replace("}", ""))
    | st.tuples(PLACEHOLDER, st.sampled_from(["", ":x", ":>9", "!r", "!s:^3"])).map(
        lambda p: "{" + p[0] + p[1] + "}"
    )
    | st.sampled_from(["{", "}", "{{", "}}"]),
    max_size=6,
).map("".join)


@FUZZ
@given(TEMPLATE_TEXT, st.text(max_size=30))
def test_templates_load_or_name_the_problem_and_always_render(text: str, member: str) -> None:
    content = (
        'language = "en"\nsignature = "— {moderator}"\n[[template]]\nid = "t"\n'
        f'kind = "question"\ntext = {json.dumps(text)}\n'
    )
    try:
        templates = _parse_file("en.toml", content)
    except TemplateError as exc:
        templates, refusal = [], str(exc)
    else:
        refusal = "en.toml"
    assert refusal.startswith("en.toml")
    for template in templates:
        rendered = render(template, member=member, community="C", moderator="M")
        assert len(rendered) <= len(text) + 4 * len(member) + 40


@FUZZ
@given(st.lists(st.binary(max_size=60) | JSON.map(json.dumps).map(str.encode), max_size=5))
def test_detect_jsonl_reports_every_line(lines: list[bytes]) -> None:
    text = b"\n".join(line.replace(b"\n", b" ") for line in lines).decode("utf-8", "replace")
    records = list(_detect_records(text.splitlines(keepends=True)))
    assert len(records) == sum(1 for line in text.splitlines() if line.strip())
    for ident, _, error in records:
        line = _json_line({"id": ident, "error": error})
        json.loads(line.encode("utf-8"))
