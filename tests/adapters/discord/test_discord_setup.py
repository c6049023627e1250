"""Start-up: the token from the environment, the privileged intent checked, commands synced."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.discord.bot import DiscordSetupError, build, intents
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import ConfigError
from bot.runtime import Runtime
from huitaine.cli import main
from tests.adapters.discord import dpy_seams
from tests.adapters.discord.conftest import WAIT, StartBot, discord_config
from tests.adapters.discord.fake_discord import GUILD, FakeDiscord


async def test_the_bot_identifies_with_exactly_the_intents_it_needs(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    await start_bot()
    wanted = intents()
    assert (wanted.guilds, wanted.guild_messages, wanted.message_content) == (True, True, True)
    assert wanted.members is False
    assert wanted.presences is False
    assert fake.identifies[0]["intents"] == wanted.value == (1 << 0) | (1 << 9) | (1 << 15)


async def test_missing_message_content_intent_stops_start_up_with_the_fix(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.message_content = False
    with pytest.raises(DiscordSetupError, match="MESSAGE CONTENT INTENT"):
        await start_bot()
    assert fake.identifies == []  # refused before opening the gateway


async def test_a_4014_close_from_the_gateway_is_explained(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.refuse_content_intent = True
    bot = await start_bot(listen=False)
    with pytest.raises(DiscordSetupError, match="4014"):
        await asyncio.wait_for(bot.adapter.listen(), WAIT)


async def test_the_token_comes_only_from_the_environment(
    fake: FakeDiscord,
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = Huitaine(discord_config(), clock=clock, database=db_path)
    runtime = Runtime(core)
    adapter = build(core.config, runtime)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"discord\.token_env"):
        await adapter.connect()
    monkeypatch.setenv("DISCORD_TOKEN", "not-the-right-token")
    with pytest.raises(DiscordSetupError, match="token was refused") as refused:
        await adapter.connect()
    assert "not-the-right-token" not in str(refused.value)
    assert "not-the-right-token" not in caplog.text
    await adapter.disconnect()
    await runtime.close()


async def test_slash_commands_are_synced_to_the_configured_guilds(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    await start_bot(discord_config(sync_commands=True))
    puts = [r for r in fake.requests if r[0] == "PUT"]
    assert [path for _, path, _ in puts] == [
        f"/api/v10/applications/1300000000000000001/guilds/{GUILD}/commands"
    ]
    assert fake.commands_synced == ["cases", "case", "report"]
    for _, _, body in puts:
        assert [command["default_member_permissions"] for command in body] == [1 << 13] * 3


async def test_french_and_english_clients_each_read_the_commands_in_their_language(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    await start_bot(discord_config(sync_commands=True))
    ((_, _, body),) = [r for r in fake.requests if r[0] == "PUT"]
    commands = {command["name"]: command for command in body}
    french = {name: c["description_localizations"]["fr"] for name, c in commands.items()}
    assert french == {
        "cases": "Cas qui attendent une réponse",
        "case": "Afficher un cas et ses boutons",
        "report": "Délais et règle de la semaine",
    }
    assert commands["cases"]["description_localizations"]["en-GB"] == (
        "Cases still waiting for an answer"
    )
    (number,) = commands["case"]["options"]
    assert number["description_localizations"]["fr"] == "Le numéro du cas"
    assert number["description_localizations"]["en-US"] == "The case number"
    # Names stay as typed in every language; languages Huitaine does not speak get the default.
    assert all(not c.get("name_localizations") for c in body)
    assert "de" not in commands["report"]["description_localizations"]


def test_the_runner_explains_a_missing_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "huitaine.toml"
    config.write_text('[discord]\nreview_channel = "1187433010207518782"\n', encoding="utf-8")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    run = ["--config", str(config), "run", "--platform", "discord", "--db", str(tmp_path / "h.db")]
    assert main(run) == 2
    assert "config error at 'discord.token_env'" in capsys.readouterr().err
    config.write_text("[discord]\n", encoding="utf-8")
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-real-token")
    assert main(run) == 2
    assert "discord.review_channel" in capsys.readouterr().err


async def test_an_unreachable_discord_is_one_clear_error_without_the_token(
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "MTMwMDAwMDAwMDAwMDAwMDAwMQ.unreachable.test-token-xyz"
    monkeypatch.setenv("DISCORD_TOKEN", secret)
    caplog.set_level("DEBUG")
    core = Huitaine(discord_config(), clock=clock, database=db_path)
    runtime = Runtime(core)
    adapter = build(core.config, runtime)
    with dpy_seams.pointed_at("http://127.0.0.1:9"), pytest.raises(DiscordSetupError) as caught:
        await adapter.connect()  # nothing listens on port 9: the connection is refused
    await runtime.close()
    assert str(caught.value).startswith("Discord: cannot reach Discord")
    assert "check the network" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in caplog.text
