"""The bot token stays secret, and a refused token or an unreachable Bot API is one clear line."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

from adapters.telegram import build
from bot.adapter import PlatformSetupError
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.runtime import Runtime
from tests.adapters.telegram.conftest import telegram_config
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import GROUP_ID, MOD_ID, TOKEN_ENV

WRONG = "7000000002:AAF-a-token-telegram-does-not-know-0000"


async def test_a_refused_token_is_named_by_its_variable_never_printed(
    fake: FakeBotApi,
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # PTB and httpx log every URL at DEBUG, token included
    monkeypatch.setenv(TOKEN_ENV, WRONG)
    config = telegram_config(fake)
    runtime = Runtime(Huitaine(config, clock=clock, database=db_path))
    adapter = build(config, runtime)
    with pytest.raises(PlatformSetupError) as caught:
        await adapter.connect()
    await adapter.disconnect()
    await runtime.close()
    assert f"${TOKEN_ENV}" in str(caught.value)
    assert "BotFather" in str(caught.value)
    assert "Set Bot API URL" in caplog.text or "HTTP Request" in caplog.text
    for output in (caplog.text, str(caught.value)):
        assert WRONG not in output
        assert WRONG.split(":")[1] not in output


async def _huitaine_run(config_file: Path, db: Path, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from huitaine.cli import main; raise SystemExit(main())",
        "--config",
        str(config_file),
        "-v",
        "run",
        "--db",
        str(db),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


def _config_file(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "huitaine.toml"
    path.write_text(
        '[detection]\ndetector = "rules"\n[telegram]\n'
        f'token_env = "{TOKEN_ENV}"\nmoderators_chat = {MOD_ID}\n'
        f'community_chats = [{GROUP_ID}]\nbase_url = "{base_url}"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("reachable", [True, False], ids=["refused", "unreachable"])
async def test_huitaine_run_ends_with_one_clear_line_and_no_token(
    fake: FakeBotApi, tmp_path: Path, reachable: bool
) -> None:
    import os

    base_url = fake.base_url if reachable else "http://127.0.0.1:9/bot"
    env = {**os.environ, TOKEN_ENV: WRONG, "PYTHONPATH": str(Path.cwd())}
    env.pop("DISCORD_TOKEN", None)
    code, output = await _huitaine_run(_config_file(tmp_path, base_url), tmp_path / "x.db", env)
    assert code == 2
    assert "Traceback" not in output
    assert WRONG not in output
    assert WRONG.split(":")[1] not in output
    last = output.strip().splitlines()[-1]
    expected = "rejected the bot token" if reachable else "cannot reach the Bot API"
    assert last.startswith("huitaine: telegram: ")
    assert expected in last
