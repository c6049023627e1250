"""Guards against name collisions with PyPI packages called `adapters` and `responses`."""

from pathlib import Path

import adapters
import bot

ROOT = Path(__file__).resolve().parent.parent


def test_adapters_is_ours() -> None:
    assert Path(adapters.__file__).resolve().parent == ROOT / "adapters"
    assert Path(bot.__file__).resolve().parent == ROOT / "bot"


def test_responses_is_a_data_folder_not_a_package() -> None:
    assert not (ROOT / "responses" / "__init__.py").exists()
    assert sorted(p.name for p in (ROOT / "responses").glob("*.toml")) == ["en.toml", "fr.toml"]


def test_core_imports_no_platform_sdk() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for sdk in ("import discord", "from discord", "import telegram", "from telegram"):
            assert sdk not in source, f"{path} imports a platform SDK"
