"""What a self-hoster reads and runs: the README's commands, the licence, the container files."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.metrics import STALE_AFTER_S, Metrics, MetricsServer
from huitaine.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "compose.yaml").read_text(encoding="utf-8")


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n")[1].split("\n## ")[0]


def test_readme_keeps_its_first_two_commands() -> None:
    assert "pip install -e . && huitaine demo" in README
    assert "pip install -e '.[test]' && pytest" in README


def test_running_the_bot_installs_the_platform_extra_before_run() -> None:
    running = section(README, "Running the bot")
    install = running.index("pip install -e '.[telegram]'")
    assert install < running.index("huitaine run")
    for readme in ("adapters/telegram/README.md", "adapters/discord/README.md"):
        text = (ROOT / readme).read_text(encoding="utf-8")
        extra = readme.split("/")[1]
        assert f"pip install -e '.[{extra}]'" in text
        run = re.search(r"^huitaine .*\brun\b.*--platform", text, re.M)
        assert run is not None
        assert text.index(f"pip install -e '.[{extra}]'") < run.start()


def test_no_document_tells_users_to_install_the_local_torch_build() -> None:
    for path in [ROOT / "README.md", ROOT / "pyproject.toml", *ROOT.glob("docs/*.md")]:
        assert "torch==2.13.0" not in path.read_text(encoding="utf-8"), path
    # The optional torch path (another encoder) says how to get a CPU build.
    detector_doc = (ROOT / "docs" / "detector.md").read_text(encoding="utf-8")
    assert "--index-url https://download.pytorch.org/whl/cpu" in detector_doc


def test_the_audit_commands_write_nothing_into_the_clone() -> None:
    block = section(README, "Audit a community's history").split("out=$(mktemp -d)")[1]
    commands = [line for line in block.split("```")[0].splitlines() if line.strip()]
    assert commands
    for line in commands:
        written = re.findall(r"(?:>|--db|--html)\s+(\S+)", line)
        assert all(path.startswith('"$out/') for path in written), line


def test_licence_changelog_and_ignored_ci_data() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    assert "Huitaine contributors" in licence
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".ci-data/" in ignored
    assert ".env" in ignored


def _json_instruction(name: str) -> list[str]:
    match = re.search(rf"^{name} (\[.*\])$", DOCKERFILE, re.M)
    assert match is not None, name
    return list(json.loads(match[1]))


def test_the_image_runs_huitaine_run_with_the_database_on_the_volume() -> None:
    argv = _json_instruction("ENTRYPOINT") + _json_instruction("CMD")
    assert argv[0] == "huitaine"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "run"
    assert args.db.startswith("/data/")
    assert args.metrics_port == 9108
    assert 'VOLUME ["/data"]' in DOCKERFILE
    assert "TOKEN=" not in DOCKERFILE  # tokens come from the environment at run time


def test_compose_runs_one_service_with_tokens_from_the_environment() -> None:
    command = re.search(r"command:\n((?:\s+- .+\n)+)", COMPOSE)
    assert command is not None
    argv = [item.strip()[2:].strip('"') for item in command[1].splitlines()]
    args = build_parser().parse_args(argv)
    assert args.command == "run"
    assert str(args.config) == "/config/config.toml"
    assert args.db == "/data/huitaine.db"
    assert "TELEGRAM_TOKEN: ${TELEGRAM_TOKEN:-}" in COMPOSE
    assert "DISCORD_TOKEN: ${DISCORD_TOKEN:-}" in COMPOSE
    assert "huitaine-data:/data" in COMPOSE
    assert '"127.0.0.1:9108:9108"' in COMPOSE  # metrics stay on the host's loopback
    assert "healthcheck:" in COMPOSE


def _health_command() -> list[str]:
    match = re.search(r"HEALTHCHECK .*?CMD (\[.*?\])$", DOCKERFILE, re.S | re.M)
    assert match is not None
    return list(json.loads(match[1]))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Metrics, int, list[float]]]:
    from bot.app import Huitaine
    from bot.config import parse_config

    core = Huitaine(parse_config({}), database=tmp_path / "h.db")
    now = [0.0]
    metrics = Metrics(
        core.store.path, ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), monotonic=lambda: now[0]
    )
    srv = MetricsServer(metrics, "127.0.0.1", 0)
    srv.start()
    yield metrics, srv.address[1], now
    srv.stop()
    core.close()


def test_the_image_health_check_passes_then_fails_when_the_loop_stalls(
    server: tuple[Metrics, int, list[float]],
) -> None:
    _, port, now = server
    command = [sys.executable if part == "python" else part for part in _health_command()]
    command = [part.replace(":9108/", f":{port}/") for part in command]
    assert subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    now[0] += STALE_AFTER_S + 1
    assert subprocess.run(command, capture_output=True, timeout=30).returncode != 0


def test_the_image_entry_command_runs_the_demo(tmp_path: Path) -> None:
    # As `docker run --rm huitaine demo`: the entry point with the demo as its argument.
    entry = _json_instruction("ENTRYPOINT")
    assert entry == ["huitaine"]
    done = subprocess.run(
        [sys.executable, "-m", "huitaine.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Nothing was sent" in done.stdout
    assert list(tmp_path.iterdir()) == []
