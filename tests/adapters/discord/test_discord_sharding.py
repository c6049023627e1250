"""Discord sharding through discord.py's own AutoShardedClient: `[discord] shard_count` and
`shard_ids` say which shards this process runs; without them, one plain connection."""

from __future__ import annotations

import discord
import pytest

from adapters.discord.settings import parse_settings
from bot.config import ConfigError
from tests.adapters.discord.conftest import StartBot, discord_config
from tests.adapters.discord.fake_discord import ALICE, GENERAL, REVIEW, FakeDiscord


def test_without_shard_keys_the_bot_opens_one_unsharded_connection() -> None:
    assert parse_settings(discord_config()).client_options() == {}


def test_shard_ids_need_a_count_and_must_lie_below_it() -> None:
    with pytest.raises(ConfigError, match=r"discord\.shard_ids"):
        parse_settings(discord_config(shard_ids=[0]))
    with pytest.raises(ConfigError, match=r"discord\.shard_ids"):
        parse_settings(discord_config(shard_count=2, shard_ids=[2]))
    with pytest.raises(ConfigError, match=r"discord\.shard_count"):
        parse_settings(discord_config(shard_count=0))
    settings = parse_settings(discord_config(shard_count=4, shard_ids=[3, 1]))
    assert settings.client_options() == {"shard_count": 4, "shard_ids": [1, 3]}


async def test_a_process_runs_the_shards_it_is_given_and_reads_their_guilds(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot(discord_config(shard_count=2, shard_ids=[1]))
    assert isinstance(bot.adapter.client, discord.AutoShardedClient)
    # The gateway is told which shard this connection is, out of how many.
    assert [identify["shard"] for identify in fake.identifies] == [[1, 2]]
    await fake.say(ALICE, GENERAL, "My order never arrived and nobody answers, this is a joke")
    await fake.wait_for(lambda: len(fake.channel_posts(REVIEW)) >= 1)
