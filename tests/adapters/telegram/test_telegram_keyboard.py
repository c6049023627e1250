"""The callback-data codec: compact, versioned, and strict about what it accepts."""

from __future__ import annotations

import pytest

from adapters.telegram.keyboard import (
    MAX_CASE_ID,
    REASONS,
    Act,
    BadCallback,
    Callback,
    case_keyboard,
    decode,
    draft_keyboard,
    encode,
    reasons_keyboard,
)
from bot.cardview import CardAction
from bot.models import DismissReason


@pytest.mark.parametrize("action", [a for a in Act if a is not Act.REASON])
def test_every_action_round_trips(action: Act) -> None:
    callback = Callback(action, 123)
    assert decode(encode(callback)) == callback


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_round_trips(code: str) -> None:
    callback = Callback(Act.REASON, 7, code)
    assert decode(encode(callback)).reason is REASONS[code]


def test_data_is_compact_and_versioned() -> None:
    assert encode(Callback(Act.SEND, 123)) == "h1:send:123"
    longest = encode(Callback(Act.REASON, MAX_CASE_ID, "he"))
    assert len(longest.encode()) <= 64


def test_every_button_fits_the_bot_api_limit() -> None:
    markups = [
        case_keyboard(MAX_CASE_ID, "fr", list(CardAction)),
        reasons_keyboard(MAX_CASE_ID, "fr"),
        draft_keyboard(MAX_CASE_ID, "fr"),
    ]
    for markup in markups:
        assert markup is not None
        for row in markup.inline_keyboard:
            for button in row:
                assert isinstance(button.callback_data, str)
                assert len(button.callback_data.encode()) <= 64
                assert decode(button.callback_data).case_id == MAX_CASE_ID


def test_a_closed_case_has_no_buttons() -> None:
    assert case_keyboard(1, "fr", ()) is None


def test_the_keyboard_offers_exactly_the_actions_the_core_allows() -> None:
    markup = case_keyboard(1, "en", [CardAction.EDIT, CardAction.DISMISS])
    assert markup is not None
    actions = {decode(b.callback_data).action for row in markup.inline_keyboard for b in row}
    assert actions == {Act.EDIT, Act.DISMISS}


@pytest.mark.parametrize(
    "data",
    [
        "",
        "h1",
        "h1:send",
        "h1:send:",
        "h1:send:0",
        "h1:send:007",
        "h1:send:-1",
        "h1:send:1.5",
        "h1:send:1:nr",  # only a dismiss reason carries an argument
        "h1:why:1",  # and a dismiss reason must
        "h1:why:1:zz",
        "h1:nuke:1",
        "h1:SEND:1",
        "h1:send:1 ",
        "h1:send:1\n",
        "h1:send:١٢",  # digits, but not ASCII ones
        "h1:send:9999999999999999",
        "h1:send:1:nr:extra",
        "h1::send:1",
    ],
)
def test_forged_data_is_refused(data: str) -> None:
    with pytest.raises(BadCallback):
        decode(data)


@pytest.mark.parametrize("data", ["h0:send:1", "h2:send:1", "H1:send:1", "send:1", "x"])
def test_another_version_is_refused(data: str) -> None:
    with pytest.raises(BadCallback, match="version"):
        decode(data)


def test_oversize_data_is_refused_before_parsing() -> None:
    with pytest.raises(BadCallback, match="64 bytes"):
        decode("h1:send:1" + "0" * 60)
    with pytest.raises(BadCallback, match="64 bytes"):
        decode("é" * 33)  # 33 characters, 66 bytes


@pytest.mark.parametrize("data", [None, 12, b"h1:send:1", ["h1:send:1"]])
def test_data_that_is_not_text_is_refused(data: object) -> None:
    with pytest.raises(BadCallback):
        decode(data)


def test_encode_refuses_what_decode_would() -> None:
    with pytest.raises(ValueError, match="range"):
        encode(Callback(Act.SEND, 0))
    with pytest.raises(ValueError, match="argument"):
        encode(Callback(Act.SEND, 1, "nr"))
    with pytest.raises(ValueError, match="reason"):
        encode(Callback(Act.REASON, 1, "zz"))


def test_reason_codes_cover_every_dismiss_reason() -> None:
    assert set(REASONS.values()) == set(DismissReason)
