"""Guards against name collisions with PyPI packages called `adapters` and `responses`."""

import ast
from pathlib import Path

import adapters
import bot

ROOT = Path(__file__).resolve().parent.parent


def test_adapters_is_ours() -> None:
    assert Path(adapters.__file__).resolve().parent == ROOT / "adapters"
    assert Path(bot.__file__).resolve().parent == ROOT / "bot"


def test_responses_is_a_data_folder_not_a_package() -> None:
    assert not (ROOT / "responses" / "__init__.py").exists()
    # Templates per language, and the community FAQ beside them (bot.faq).
    assert sorted(p.name for p in (ROOT / "responses").glob("*.toml")) == [
        "en.toml",
        "faq-en.toml",
        "faq-fr.toml",
        "fr.toml",
    ]


PLATFORM_SDKS = ("discord", "telegram", "aiohttp", "httpx")


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions too), read from its AST."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def test_the_core_imports_no_adapter_and_no_platform_sdk() -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "bot").rglob("*.py")
        for name in _imported_modules(path)
        if name.split(".")[0] in ("adapters", "huitaine", *PLATFORM_SDKS)
    }
    assert offenders == set()


def test_the_guard_sees_imports_hidden_in_functions(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "def f():\n    from adapters.discord import bot\n    import telegram.ext\n",
        encoding="utf-8",
    )
    assert _imported_modules(sneaky) == {"adapters.discord", "telegram.ext"}
