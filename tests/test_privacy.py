"""Members' data on a real SQLite file: forget, deleted messages, retention, export.

Each test reads the database file's bytes (and its WAL) to prove the words are gone from disk,
not only from the query results.
"""

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, ConfigError, parse_config
from bot.models import CaseState, DismissReason
from bot.privacy import RetentionJob, compact, forget_member
from bot.report import build_report
from bot.runtime import Runtime
from bot.storage import Store
from huitaine.cli import main
from tests.conftest import MOD, START, MessageFactory

# What would identify Alice if it were left anywhere in the file.
NAME = "Zorglub"
ORDER = "4815162342"
PHONE = "06 12 34 56 78"
STREET = "rue des Lilas"
ALICE = ("u-alice", f"Alice {NAME}")
# Bob is not forgotten: his words must survive Alice's erasure.
BOB_WORDS = "adresse de livraison Quimper"


def on_disk(db: Path) -> bytes:
    """The database file and its WAL, as they are on disk."""
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def left_on_disk(db: Path, *words: str) -> list[str]:
    data = on_disk(db)
    return [word for word in words if word.encode() in data]


@dataclass
class Story:
    core: Huitaine
    answered: int
    waiting: int | None
    bob: int


@pytest.fixture(autouse=True)
def _sqlite_that_keeps_deleted_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian's SQLite overwrites deleted content by default, most builds do not: these
    tests run as on the latter, so they fail if Huitaine stops asking for it."""
    connect = sqlite3.connect

    def plain(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete = OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", plain)


@pytest.fixture
def open_core(config: Config, clock: ManualClock, db_path: Path) -> Iterator[Huitaine]:
    app = Huitaine(config, clock=clock, database=db_path)
    yield app
    app.close()


def tell_story(
    core: Huitaine, clock: ManualClock, msg: MessageFactory, *, leave_waiting: bool
) -> Story:
    """Alice complains (answered by an approved reply and a staff message), asks again
    (waiting, or dismissed), and appears in a reminder and a digest; Bob asks too."""
    first = msg(
        f"Ma commande {ORDER} n'est jamais arrivée, c'est inadmissible ! Appelez-moi au {PHONE}",
        author=ALICE[0],
        name=ALICE[1],
        id="a1",
    )
    answered = core.ingest(first).case_ids[0]
    clock.advance(timedelta(hours=1))
    reply = core.review.approve(MOD, answered)
    core.review.mark_sent(reply.id, "p1")
    core.ingest(
        msg(
            f"Alice {NAME}, votre commande {ORDER} part demain",
            author="staff-1",
            name="Camille",
            staff=True,
            reply_to="a1",
        )
    )
    bob = core.ingest(
        msg(f"Comment changer mon {BOB_WORDS} ?", author="u-bob", name="Bob", id="b1")
    ).case_ids[0]
    core.review.mark_sent(core.review.approve(MOD, bob).id, "p2")
    clock.advance(timedelta(days=2))
    second = msg(
        f"Où est mon remboursement ? J'habite 17 {STREET}, 75011 Paris",
        author=ALICE[0],
        name=ALICE[1],
        id="a2",
    )
    waiting = core.ingest(second).case_ids[0]
    # A reminder and the weekly digest (Mondays at 9:00, as START is) quote her name and words.
    clock.advance(timedelta(hours=22, minutes=30))
    notices = core.tick()
    assert [NAME in notice.text for notice in notices] == [True]
    core.scheduler.mark_delivered(notices[0].id, clock.now())
    clock.set(START + timedelta(days=7, minutes=1))
    (digest,) = core.digests.due(clock.now())
    assert NAME in digest.text
    core.digests.mark_delivered(digest.id, clock.now())
    if not leave_waiting:
        core.review.dismiss(MOD, waiting, DismissReason.HANDLED_ELSEWHERE)
    return Story(core, answered, waiting if leave_waiting else None, bob)


def figures(core: Huitaine) -> dict[str, object]:
    return build_report(core.cases.list(), START + timedelta(days=30)).as_dict()


def test_forget_erases_the_member_from_the_file_and_keeps_the_reports_figures(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory, db_path: Path, capsys
) -> None:
    story = tell_story(open_core, clock, msg, leave_waiting=False)
    before = figures(open_core)
    # The test can fail: every distinctive word is on disk before.
    assert left_on_disk(db_path, NAME, ORDER, PHONE, STREET) == [NAME, ORDER, PHONE, STREET]
    open_core.close()

    assert main(["forget", "discord", "u-alice", "--db", str(db_path)]) == 0
    assert "forgot discord member u-alice: 2 messages erased" in capsys.readouterr().out

    assert left_on_disk(db_path, NAME, ORDER, PHONE, STREET, "u-alice") == []
    assert BOB_WORDS in on_disk(db_path).decode("utf-8", "replace")
    again = Huitaine(open_core.config, clock=clock, database=db_path)
    try:
        assert figures(again) == before
        assert again.cases.get(story.answered).state is CaseState.ANSWERED
        assert again.cases.get(story.answered).author.name == ""
        # The audit log keeps the moderators' decisions and says a deletion happened.
        log = again.review.audit_log(story.answered)
        assert [row["action"] for row in log] == ["approve", "forget"]
        assert log[0]["actor_name"] == "Camille"
        assert log[0]["text"] is None
        assert log[1]["actor_id"] == ""
        assert log[1]["text"] is None
        # Bob's case, reply and suggestions are his and stay whole.
        assert "Bob" in again.review.outbox()[1].text
        assert again.cases.get(story.bob).excerpt.startswith("Comment changer")
    finally:
        again.close()


def test_forget_withdraws_a_waiting_case_and_no_reminder_follows(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory, db_path: Path
) -> None:
    story = tell_story(open_core, clock, msg, leave_waiting=True)
    assert story.waiting is not None
    store = open_core.store
    summary = forget_member(store, "discord", "u-alice", clock.now())
    assert (summary.messages, summary.cases, summary.withdrawn) == (2, 2, 1)
    assert summary.addressed == 1  # Camille's reply to her
    assert compact(store)
    case = open_core.cases.get(story.waiting)
    assert case.state is CaseState.WITHDRAWN
    assert (case.excerpt, case.message_ids, case.suggestions) == ("", (), ())
    assert figures(open_core)["by_kind_state"] == {
        "complaint": {"answered": 1, "withdrawn": 1},
        "question": {"answered": 1},
    }
    # Nothing is waiting on her any more: no reminder, no escalation.
    assert open_core.tick(START + timedelta(days=20)) == []
    assert left_on_disk(db_path, NAME, ORDER, PHONE, STREET, "u-alice") == []
    # Forgetting twice finds nothing and breaks nothing.
    assert not forget_member(store, "discord", "u-alice", clock.now()).found


def test_a_deleted_message_leaves_no_text_in_the_file(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory, db_path: Path
) -> None:
    case_id = open_core.ingest(
        msg(
            f"Colis {ORDER} jamais arrivé, c'est inadmissible, rappelez-moi au {PHONE}",
            id="d1",
        )
    ).case_ids[0]
    assert open_core.cases.get(case_id).suggestions  # a draft quoting her name exists
    assert left_on_disk(db_path, ORDER, PHONE) == [ORDER, PHONE]

    open_core.delete("discord", "guild-1", "general", "d1", START + timedelta(minutes=3))

    case = open_core.cases.get(case_id)
    assert case.state is CaseState.WITHDRAWN
    assert (case.excerpt, case.suggestions) == ("", ())
    row = open_core.store.row("SELECT text, deleted_at FROM messages WHERE id = 'd1'")
    assert row is not None
    assert row["text"] == ""
    assert row["deleted_at"] is not None
    assert left_on_disk(db_path, ORDER, PHONE) == []


def test_deleting_the_first_message_of_a_case_keeps_an_excerpt_of_the_rest(
    open_core: Huitaine, msg: MessageFactory, db_path: Path
) -> None:
    case_id = open_core.ingest(
        msg(f"Commande {ORDER} toujours rien reçu, c'est inadmissible", id="f1")
    ).case_ids[0]
    open_core.ingest(msg("vous pouvez vérifier ?", id="f2", after=timedelta(minutes=2)))

    open_core.delete("discord", "guild-1", "general", "f1", START + timedelta(minutes=5))

    case = open_core.cases.get(case_id)
    assert case.state is CaseState.SUGGESTED  # the follow-up still waits for an answer
    assert case.excerpt == "vous pouvez vérifier ?"
    assert case.suggestions
    assert left_on_disk(db_path, ORDER) == []


async def test_retention_erases_old_texts_from_the_scheduler_tick_and_keeps_figures(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory, db_path: Path
) -> None:
    tell_story(open_core, clock, msg, leave_waiting=False)
    # A year later, one case still waits: it keeps everything whatever its age.
    still = open_core.ingest(
        msg(
            f"Mon {STREET} est mal écrit, vous pouvez corriger ?",
            author="u-carol",
            name="Carol",
            at=START + timedelta(days=10),
        )
    ).case_ids[0]
    before = figures(open_core)
    clock.set(START + timedelta(days=400))
    runtime = Runtime(open_core)
    try:
        await runtime.tick()
        # The day's purge is done: the next tick does not purge again.
        assert await runtime.call(runtime._retention.run_if_due, clock.now()) is None
    finally:
        runtime._executor.shutdown(wait=True)

    assert figures(open_core) == before
    assert left_on_disk(db_path, NAME, ORDER, PHONE, "u-alice", BOB_WORDS) == []
    assert open_core.cases.get(still).excerpt.startswith(f"Mon {STREET}")
    assert open_core.store.rows("SELECT DISTINCT text FROM outgoing") == [{"text": ""}]


def test_retention_erases_only_what_is_older_than_the_configured_age(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory
) -> None:
    open_core.ingest(msg("vieux message du 2 novembre", id="old"))
    open_core.ingest(msg("message récent", id="new", at=START + timedelta(days=300)))
    job = RetentionJob(open_core.store, parse_config({}).retention)
    summary = job.run_if_due(START + timedelta(days=366))
    assert summary is not None
    assert summary.messages == 1
    texts = {r["id"]: r["text"] for r in open_core.store.rows("SELECT id, text FROM messages")}
    assert texts == {"old": "", "new": "message récent"}
    never = RetentionJob(
        open_core.store, parse_config({"retention": {"erase_after": "never"}}).retention
    )
    assert never.run_if_due(START + timedelta(days=9999)) is None


def test_export_member_prints_their_messages_and_cases(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory, db_path: Path, capsys
) -> None:
    story = tell_story(open_core, clock, msg, leave_waiting=True)
    open_core.close()
    assert main(["export-member", "discord", "u-alice", "--db", str(db_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["names"] == [ALICE[1]]
    assert [m["id"] for m in data["messages"]] == ["a1", "a2"]
    assert PHONE in data["messages"][0]["text"]
    assert [c["id"] for c in data["cases"]] == [story.answered, story.waiting]
    assert data["cases"][1]["state"] == "suggested"
    assert data["cases"][1]["reminders"]
    assert [r["state"] for r in data["replies"]] == ["sent"]
    assert BOB_WORDS not in json.dumps(data, ensure_ascii=False)


def test_cli_refuses_a_database_that_does_not_exist(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.db"
    assert main(["forget", "discord", "u-alice", "--db", str(missing)]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not missing.exists()


def test_purge_command_applies_retention(
    open_core: Huitaine, msg: MessageFactory, db_path: Path, capsys
) -> None:
    # START is in the past of the machine's clock only after 2027-11; write an old message.
    open_core.ingest(msg(f"appelez-moi au {PHONE}", at=START - timedelta(days=4000)))
    open_core.close()
    assert main(["purge", "--db", str(db_path)]) == 0
    assert "the texts of 1 messages" in capsys.readouterr().out
    assert left_on_disk(db_path, PHONE) == []


def test_retention_config_is_validated_once() -> None:
    assert parse_config({}).retention.erase_after == timedelta(days=365)
    assert parse_config({"retention": {"erase_after": "30d"}}).retention.erase_after == timedelta(
        days=30
    )
    assert parse_config({"retention": {"erase_after": "never"}}).retention.erase_after is None
    for value, fix in (
        ("3d", "7d"),
        ("soon", "days/hours/minutes"),
        (365, "48h"),
        ("99999999999d", "never"),
        ("40000d", "never"),
    ):
        with pytest.raises(ConfigError, match=f"retention.erase_after.*{fix}"):
            parse_config({"retention": {"erase_after": value}})
    with pytest.raises(ConfigError, match=r"retention\.keep"):
        parse_config({"retention": {"keep": "30d"}})


def test_store_reopens_after_forget(
    db_path: Path, open_core: Huitaine, msg: MessageFactory
) -> None:
    open_core.ingest(msg("bonjour", author="u-alice"))
    open_core.close()
    store = Store(db_path)
    forget_member(store, "discord", "u-alice", START)
    assert compact(store)
    assert store.row("PRAGMA integrity_check") == {"integrity_check": "ok"}
    store.close()


def test_a_deleted_message_among_others_leaves_no_bytes_in_free_space(
    open_core: Huitaine, msg: MessageFactory, db_path: Path
) -> None:
    # Neighbours share the page, and a long text spills onto overflow pages: without
    # overwriting, the freed space would keep the words.
    long = f"Mon numéro est le {PHONE}. " + "Je détaille ma commande. " * 300 + ORDER
    crowd_around(open_core, msg, long, f"Commande {ORDER} jamais arrivée, mon {STREET}")
    open_core.store.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the words reach the main file
    assert left_on_disk(db_path, PHONE, ORDER, STREET) == [PHONE, ORDER, STREET]

    for message in open_core.store.rows("SELECT id FROM messages WHERE author_id = 'u-alice'"):
        open_core.delete("discord", "guild-1", "general", message["id"], START)

    assert left_on_disk(db_path, PHONE, ORDER, STREET) == []


def crowd_around(core: Huitaine, msg: MessageFactory, *texts: str) -> None:
    """Alice's texts between two crowds of neighbours, so that pages are shared and split."""
    for n in range(40):
        core.ingest(msg(f"bonjour à tous, message {n}", author=f"u-{n}", name=f"N{n}"))
    for text in texts:
        core.ingest(msg(text, author=ALICE[0], name=ALICE[1]))
    for n in range(40):
        core.ingest(msg(f"bonne soirée, message {n}", author=f"u-{n}", name=f"N{n}"))


def test_forget_also_clears_free_space_left_by_an_earlier_version(
    open_core: Huitaine, msg: MessageFactory, db_path: Path, capsys
) -> None:
    # Written as by a Huitaine that did not yet overwrite freed space: processing left copies
    # of the texts in free space, and only rewriting the file removes them.
    open_core.store.execute("PRAGMA secure_delete = OFF")
    long = f"Mon numéro est le {PHONE}. " + "Je détaille ma commande. " * 300 + ORDER
    crowd_around(open_core, msg, long, f"Commande {ORDER} jamais arrivée, mon {STREET}")
    open_core.close()
    assert left_on_disk(db_path, PHONE, ORDER, STREET) == [PHONE, ORDER, STREET]

    assert main(["forget", "discord", "u-alice", "--db", str(db_path)]) == 0

    assert left_on_disk(db_path, NAME, PHONE, ORDER, STREET) == []


def test_a_reader_in_the_way_delays_the_wal_cleanup_to_the_daily_run(
    open_core: Huitaine, msg: MessageFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.privacy.CHECKPOINT_WAIT_MS", 0)  # give up at once, no real wait
    open_core.ingest(msg(f"rappelez-moi au {PHONE}, c'est inadmissible", id="r1"))
    reader = sqlite3.connect(db_path)  # e.g. `huitaine report` run by hand meanwhile
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM messages").fetchall()

    result = open_core.delete("discord", "guild-1", "general", "r1", START)

    assert result.case_ids  # the deletion itself went through at once
    assert left_on_disk(db_path, PHONE) == [PHONE]  # an older copy waits in the WAL
    reader.rollback()
    reader.close()
    RetentionJob(open_core.store, open_core.config.retention).run_if_due(START)
    assert left_on_disk(db_path, PHONE) == []


def test_a_forgotten_members_approved_reply_is_no_longer_offered_to_others(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory
) -> None:
    question = "comment modifier l'adresse de livraison de ma commande ?"
    theirs = open_core.ingest(msg(question, author=ALICE[0], name=ALICE[1])).case_ids[0]
    reply = f"Bonjour Alice {NAME}, votre commande {ORDER} est modifiée. Camille"
    open_core.review.mark_sent(open_core.review.approve(MOD, theirs, text=reply).id, "p1")
    clock.advance(timedelta(days=1))
    bob = open_core.ingest(msg(question, author="u-bob", name="Bob")).case_ids[0]
    offered = [s.text for s in open_core.cases.get(bob).suggestions]
    assert any(ORDER in text for text in offered)  # her reply, her order number, offered to Bob

    forget_member(open_core.store, "discord", "u-alice", clock.now())

    assert not any(ORDER in s.text for s in open_core.cases.get(bob).suggestions)
    carol = open_core.ingest(msg(question, author="u-carol", name="Carol")).case_ids[0]
    assert not any(ORDER in s.text for s in open_core.cases.get(carol).suggestions)


def test_a_staff_answer_copied_as_a_draft_goes_with_the_member_it_answered(
    open_core: Huitaine, clock: ManualClock, msg: MessageFactory
) -> None:
    # Alice's message opened no case, but staff answered it with her order number; retrieval
    # offered that answer to Bob as a draft named after it (`history:KEY`).
    asked = msg(
        f"bonjour, c'est pour la commande {ORDER}", author=ALICE[0], name=ALICE[1], id="a1"
    )
    open_core.ingest(asked)
    answer = msg(
        f"Alice, la commande {ORDER} part demain.",
        author="u-sam",
        name="Sam",
        staff=True,
        reply_to="a1",
        id="s1",
    )
    open_core.ingest(answer)
    bob = open_core.ingest(msg("où en est ma commande ?", author="u-bob", name="Bob")).case_ids[0]
    open_core.store.execute(
        "INSERT INTO suggestions (case_id, rank, text, language, source, score)"
        " VALUES (?, 9, ?, 'fr', ?, 0.9)",
        (bob, answer.text, f"history:{answer.key}"),
    )
    assert any(ORDER in s.text for s in open_core.cases.get(bob).suggestions)

    forget_member(open_core.store, "discord", "u-alice", clock.now())

    assert not any(ORDER in s.text for s in open_core.cases.get(bob).suggestions)
    assert open_core.cases.get(bob).suggestions  # Bob's own drafts stay
