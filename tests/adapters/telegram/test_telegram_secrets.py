"""A full run never writes the bot token anywhere: logs, the database file, the HTML report."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from huitaine.cli import main
from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.world import CAMILLE, payload


def _files(database: Path, report: Path) -> dict[str, str]:
    """Everything the run left on disk, as text (bytes that are not UTF-8 replaced)."""
    found = {"HTML report": report.read_text(encoding="utf-8")}
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{database}{suffix}")
        if path.exists():
            found[path.name] = path.read_bytes().decode("utf-8", "replace")
    return found


async def test_the_token_is_in_no_output_of_a_full_run(
    tg: Harness,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every URL the SDK calls, token included, at DEBUG
    token = tg.fake.token
    await tg.push(payload("group_complaint_fr"))
    await tg.press(CAMILLE, tg.card_of(1)["message_id"], "h1:send:1")  # a reply goes out
    await tg.restart()  # start-up logs too
    await tg.stop()
    report = tmp_path / "report.html"
    assert main(["report", "--db", str(tg.database), "--html", str(report)]) == 0
    printed = capsys.readouterr()
    outputs = {"logs": caplog.text, "terminal": printed.out + printed.err}
    outputs |= _files(tg.database, report)
    assert "HTTP Request: POST" in caplog.text  # the URLs were logged…
    for secret in (token, token.split(":")[1]):  # …and the token in none of it
        assert [name for name, text in outputs.items() if secret in text] == []
