"""Importers on hand-built exports in the real DiscordChatExporter and Telegram Desktop formats."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.exports.audit import ExportFormat, detect_format, run_audit
from adapters.exports.common import ImportStats, StaffRule
from adapters.exports.discord_export import read_discord_export
from adapters.exports.telegram_export import flatten_text, read_telegram_export
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.models import CaseState, Kind

FIXTURES = Path(__file__).parent / "fixtures"
DISCORD = FIXTURES / "discord_help.json"
TELEGRAM = FIXTURES / "telegram_result.json"


def test_discord_export_messages_replies_roles_and_skips() -> None:
    stats = ImportStats()
    messages = list(
        read_discord_export(DISCORD, StaffRule.of(["moderator"]), stats, progress=False)
    )
    assert [m.id for m in messages] == [
        "900000000000000002",
        "900000000000000003",
        "900000000000000004",
        "900000000000000006",
    ]
    first, deleted_user, reply, bot = messages
    assert first.author.name == "Zoé"
    assert first.edited
    assert first.created_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert first.community == "810000000000000001"
    assert first.channel == "820000000000000002"
    assert deleted_user.author.name == "Deleted User"
    assert reply.author.is_staff
    assert reply.reply_to == "900000000000000002"
    assert reply.mentions == ("700000000000000001",)
    assert bot.author.is_bot
    assert stats.read == 6
    assert stats.kept == 4
    assert stats.skipped == {"service message (GuildMemberJoin)": 1, "bad timestamp": 1}
    assert any("message #5" in example for example in stats.examples)


def test_telegram_export_entities_topics_deleted_accounts() -> None:
    stats = ImportStats()
    staff = StaffRule.of(user_ids=["user111"])
    messages = list(read_telegram_export(TELEGRAM, staff, stats, progress=False))
    assert [m.id for m in messages] == ["3", "4", "5"]
    complaint, deleted, answer = messages
    assert (
        complaint.text == "toujours rien reçu pour la commande 4471, vous pouvez me rappeler svp"
    )
    assert complaint.thread == "2"
    assert complaint.reply_to is None
    assert complaint.author.name == "Jérôme"
    assert complaint.community == "1987654321"
    assert deleted.author.name == "Deleted Account"
    assert deleted.author.id == "user333"
    assert answer.author.is_staff
    assert answer.edited
    assert answer.mentions == ("user222",)
    assert stats.skipped["bad date"] == 1
    assert stats.skipped["service message (topic_created)"] == 1


def test_flatten_text_handles_strings_lists_and_garbage() -> None:
    assert flatten_text("plain") == "plain"
    assert flatten_text(["a", {"type": "link", "text": "b"}, 3]) == "ab"
    assert flatten_text(None) == ""


@pytest.mark.parametrize("name", ["discord_help.json", "telegram_result.json"])
def test_truncated_file_keeps_what_came_before(tmp_path: Path, name: str) -> None:
    source = (FIXTURES / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(source[: int(len(source) * 0.75)])
    stats = ImportStats()
    reader = read_discord_export if name.startswith("discord") else read_telegram_export
    messages = list(reader(cut, StaffRule(), stats, progress=False))
    assert messages
    assert stats.truncated is not None
    assert "truncated" in stats.summary()


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(DISCORD) is ExportFormat.DISCORD
    assert detect_format(TELEGRAM) is ExportFormat.TELEGRAM
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match="not a DiscordChatExporter"):
        detect_format(other)


def test_audit_opens_and_answers_cases_and_reimport_adds_nothing(
    config: Config, db_path: Path
) -> None:
    clock = ManualClock(datetime(1970, 1, 1, tzinfo=UTC))
    core = Huitaine(config, clock=clock, database=db_path)
    staff = StaffRule.of(["moderator"], ["user111"])
    result = run_audit(core, clock, [DISCORD, TELEGRAM], staff=staff, progress=False)
    assert result.added == 7
    cases = {c.excerpt[:20]: c for c in core.cases.list()}
    zoe = cases["Bonjour, ma commande"]
    assert zoe.kind is Kind.COMPLAINT
    assert zoe.state is CaseState.ANSWERED
    assert zoe.first_response_at is not None
    assert (zoe.first_response_at - zoe.opened_at).total_seconds() == 2.5 * 3600
    jerome = cases["toujours rien reçu p"]
    assert jerome.state is CaseState.ANSWERED  # staff answered in the same forum topic
    assert cases["how do I change my d"].state is CaseState.SUGGESTED
    again = run_audit(core, clock, [DISCORD, TELEGRAM], staff=staff, progress=False)
    assert again.added == 0
    assert again.processed == 0
    assert len(core.cases.list()) == len(cases)
    core.close()
