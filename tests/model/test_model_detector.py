"""The model detector's plumbing, with a tiny fake encoder: no torch needed."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.detect.encoders import EncoderOptions, data_dir
from bot.detect.head import Head, fit_task
from bot.detect.learning_log import log_path, read_journal
from bot.detect.model import (
    PRAISE,
    HeadStore,
    ModelDetector,
    build_model_detector,
    community_key,
)
from bot.detect.rules import RuleDetector
from bot.detect.train import add_eval_parser, add_train_parser, decisions_examples
from bot.models import DismissReason, Kind
from bot.privacy import forget_member
from bot.storage import Store
from tests.conftest import MOD, MessageFactory
from tests.model.conftest import FakeEncoder


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_parser(sub)
    add_eval_parser(sub)
    return parser.parse_args(argv)


def test_scores_are_probabilities_one_per_text_in_order(fake_encoder: FakeEncoder) -> None:
    detector = ModelDetector(fake_encoder)
    texts = [
        "toujours rien reçu",
        "",
        "   ",
        "where is my order??",
        "merci beaucoup !",
        "😡😡😡",
        "a" * 50_000,
        "vous pouvez me rappeler svp",
    ]
    try:
        detections = detector.detect_batch(texts)
    finally:
        detector.close()
    assert len(detections) == len(texts)
    for detection in detections:
        assert 0.0 <= detection.question <= 1.0
        assert 0.0 <= detection.complaint <= 1.0
    assert detections[1].confidence == 0.0  # nothing to detect in an empty message
    assert detections[0].language == "fr"
    assert detections[3].language == "en"


def test_a_head_survives_a_round_trip_to_disk(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(float)
    head = Head("enc", 5, {"question": fit_task(x, y)})
    head.save(tmp_path / "h.npz")
    loaded = Head.load(tmp_path / "h.npz")
    assert np.allclose(loaded.predict(x)["question"], head.predict(x)["question"])
    assert np.all(loaded.predict(x)["complaint"] == 0.0)  # no complaint classifier trained
    accuracy = float(((head.predict(x)["question"] >= 0.5) == (y == 1)).mean())
    assert accuracy > 0.85


def test_rules_take_over_with_a_log_line_when_the_model_cannot_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    options = EncoderOptions(model=str(tmp_path / "no-such-model"))
    with caplog.at_level(logging.WARNING, logger="bot.detect.model"):
        detector = build_model_detector(options)
    assert isinstance(detector, RuleDetector)
    assert "using the rule detector" in caplog.text
    assert detector.detect_batch(["where is my refund?"])[0].kind() is not Kind.OTHER


def open_cases(core: Huitaine, msg: MessageFactory, texts: list[str]) -> list[int]:
    ids = []
    for n, text in enumerate(texts):
        result = core.ingest(msg(text, author=f"u-{n}", name=f"Member {n}", channel=f"c{n}"))
        ids.extend(result.case_ids)
    return ids


def test_moderators_dismissals_teach_the_detector(
    config: Config,
    clock: ManualClock,
    db_path: Path,
    msg: MessageFactory,
    fake_encoder: FakeEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bot commands like "?rank" look like questions; once dismissed, they stop opening cases."""
    detector = ModelDetector(fake_encoder, community=config.community.name)
    core = Huitaine(config, clock=clock, database=db_path, detector=detector)
    try:
        commands = ["?rank", "?daily", "?balance", "?top", "?level", "?inventory", "?shop"]
        case_ids = open_cases(core, msg, commands)
        assert len(case_ids) >= 5  # the default head takes most of them for questions
        before = detector.detect_batch(["?weekly"])[0]
        assert before.kind(config.detection.threshold) is Kind.QUESTION
        for case_id in case_ids:
            core.review.dismiss(MOD, case_id, DismissReason.NOT_A_REQUEST)
        core.store.close()

        # The fake encoder is crude (hashed trigrams), so the few decisions weigh more here.
        args = parse("train", "--from-db", "--db", str(db_path), "--weight", "10")
        from bot.detect import train

        monkeypatch.setattr(train, "load_encoder", lambda options: fake_encoder)

        lines: list[str] = []

        class Out:
            def write(self, text: str) -> int:
                lines.append(text)
                return len(text)

            def flush(self) -> None:
                pass

        assert train.cmd_train(args, config, Out()) == 0  # type: ignore[arg-type]
        assert f"trained on {len(case_ids)} examples" in "".join(lines)

        after = detector.detect_batch(["?weekly"])[0]
        assert after.question < before.question
        assert after.kind(config.detection.threshold) is Kind.OTHER
        # A community without a head of its own gets the deployment's trained head.
        assert detector.detect_for("discord:another", ["?weekly"])[0] == after

        # The journal records which cases the head learned from; forgetting the member of one
        # of them removes the head at once (`huitaine train` again refits it without them).
        root = detector.heads.root
        journal = read_journal(log_path(root, community_key(config.community.name)))
        assert sorted(journal.trained_on) == sorted(case_ids)
        store = Store(db_path)
        try:
            row = store.row("SELECT author_id FROM cases WHERE id = ?", (case_ids[0],))
            assert row is not None
            forget_member(store, "discord", str(row["author_id"]), clock.now())
        finally:
            store.close()
        assert not detector.heads.path_for(config.community.name).exists()
        assert detector.detect_batch(["?weekly"])[0] == before
    finally:
        detector.close()


@pytest.mark.sqlite_only  # bot.detect.train reads the SQLite file
def test_decisions_become_labels(core: Huitaine, msg: MessageFactory, db_path: Path) -> None:
    ids = open_cases(
        core,
        msg,
        ["where is my refund??", "how do i reset my password?", "?rank", "is this a scam?!"],
    )
    assert len(ids) == 4
    core.review.approve(MOD, ids[0], text="On it, {member}!")
    core.review.dismiss(MOD, ids[2], DismissReason.SPAM)
    core.review.dismiss(MOD, ids[3], DismissReason.DUPLICATE)  # a real request: not a "no"
    examples = {e.text: e for e in decisions_examples(str(db_path))}
    assert set(examples) == {"where is my refund??", "?rank"}
    assert (examples["?rank"].question, examples["?rank"].complaint) == (0, 0)
    refund = examples["where is my refund??"]
    assert 1 in (refund.question, refund.complaint)


def test_train_on_a_csv_then_eval_prints_metrics(
    config: Config,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from bot.detect import model, train

    shared = FakeEncoder()
    monkeypatch.setattr(train, "load_encoder", lambda options: shared)
    monkeypatch.setattr(model, "load_encoder", lambda options: shared)
    labelled = tmp_path / "mine.csv"
    labelled.write_text(
        "text,label\n"
        + "".join(f"?cmd{n},0\n" for n in range(10))
        + "".join(f"how do I fix error {n}?,1\n" for n in range(10)),
        encoding="utf-8",
    )
    assert (
        train.cmd_train(
            parse("train", "--csv", str(labelled), "--task", "question"), config, sys.stdout
        )
        == 0
    )
    assert any(p.name.startswith("Atelier") for p in (data_dir() / "heads").iterdir())
    assert (
        train.cmd_eval(
            parse("eval", str(labelled), "--task", "question", "--detector", "model"),
            config,
            sys.stdout,
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "20 rows, 10 questions" in out
    assert "macro-F1" in out
    assert "gold \\ pred" in out
    assert "<- used above" in out  # the threshold sweep


def test_heads_are_per_community(fake_encoder: FakeEncoder, tmp_path: Path) -> None:
    store = HeadStore(fake_encoder, RuleDetector(), root=tmp_path)
    assert store.path_for("guild/1") != store.path_for("guild_1")
    assert store.for_community("nobody") is store.default()


def test_the_default_head_reads_praise_and_scores_alike_in_a_batch_or_alone(
    fake_encoder: FakeEncoder, tmp_path: Path
) -> None:
    store = HeadStore(fake_encoder, RuleDetector(), root=tmp_path)
    assert PRAISE in store.default().tasks
    detector = ModelDetector(fake_encoder, heads=store)
    texts = ["trop bien la newsletter de cette semaine", "merci pour rien, toujours rien reçu"]
    try:
        batched = detector.detect_batch(texts)
        alone = [detector.detect_batch([text])[0] for text in texts]
    finally:
        detector.close()
    assert [(d.question, d.complaint) for d in batched] == [
        (d.question, d.complaint) for d in alone
    ]
