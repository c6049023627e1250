"""The custom-id codec: what every button and modal carries, and what is refused."""

from __future__ import annotations

import re

import pytest

from adapters.discord import ids
from adapters.discord.ids import Action, CustomId, InvalidCustomId, decode, encode, make
from bot.models import DismissReason


@pytest.mark.parametrize(
    "custom_id",
    [
        CustomId(Action.SEND, 1),
        CustomId(Action.EDIT, 42),
        CustomId(Action.SUBMIT, 2**63 - 1),
        CustomId(Action.DISMISS, 7),
        *(CustomId(Action.REASON, 7, reason.value) for reason in DismissReason),
        CustomId(Action.SNOOZE, 3),
        CustomId(Action.MINE, 3),
        CustomId(Action.CONFIRM, 3, "12"),
        CustomId(Action.RETRY, 3, "9223372036854775807"),
        CustomId(Action.HELPER_OK, 5),
        CustomId(Action.TAKE_OVER, 5),
    ],
)
def test_round_trip_within_discord_limits(custom_id: CustomId) -> None:
    text = encode(custom_id)
    assert len(text) <= 100
    assert decode(text) == custom_id
    # discord.py's DynamicItem template matches every id we produce.
    assert re.fullmatch(ids.TEMPLATE, text)


def test_the_shape_of_an_id() -> None:
    assert make(Action.SEND, 12) == "huitaine:v1:send:12"
    assert make(Action.REASON, 12, "spam") == "huitaine:v1:reason:12:spam"
    assert decode("huitaine:v1:reason:12:spam").reason is DismissReason.SPAM
    assert decode("huitaine:v1:retry:12:5").reply_id == 5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "send:1",
        "other:v1:send:1",
        "huitaine:v2:send:1",
        "huitaine:v1:send",
        "huitaine:v1:send:",
        "huitaine:v1:send:0",
        "huitaine:v1:send:01",
        "huitaine:v1:send:-1",
        "huitaine:v1:send:1.0",
        "huitaine:v1:send:9223372036854775808",
        "huitaine:v1:send:99999999999999999999",
        "huitaine:v1:SEND:1",
        "huitaine:v1:launch:1",
        "huitaine:v1:send:1:extra",
        "huitaine:v1:reason:1",
        "huitaine:v1:reason:1:because",
        "huitaine:v1:confirm:1",
        "huitaine:v1:confirm:1:0",
        "huitaine:v1:confirm:1:abc",
        "huitaine:v1:helperok:1:2",
        "huitaine:v1:takeover:1:spam",
        "huitaine:v1:take_over:1",
        "huitaine:v1:send:1\n",
        "huitaine:v1:send:1 ",
        " huitaine:v1:send:1",
        "huitaine:v1:send:1" + "0" * 90,
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidCustomId):
        decode(text)


def test_a_bad_id_cannot_even_be_built() -> None:
    with pytest.raises(InvalidCustomId):
        CustomId(Action.REASON, 1, "because")
    with pytest.raises(InvalidCustomId):
        CustomId(Action.SEND, 0)
    with pytest.raises(InvalidCustomId):
        decode("huitaine:v1:send:1").reason  # noqa: B018


def test_only_our_prefix_reaches_the_codec() -> None:
    assert ids.is_ours("huitaine:whatever")
    assert not ids.is_ours("someone-elses-button")
    assert re.fullmatch(ids.TEMPLATE, "someone-elses-button") is None
