"""From a member's message to a case: opening, joining, answering, editing, withdrawing."""

from datetime import timedelta

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.ingest import Outcome
from bot.models import CaseState, Kind
from tests.conftest import START, MessageFactory


def test_french_complaint_opens_a_complaint_case_due_in_24h(
    core: Huitaine, msg: MessageFactory
) -> None:
    result = core.ingest(msg("Ma commande n'est toujours pas arrivée, c'est inadmissible !"))
    assert result.outcome is Outcome.OPENED
    case = core.cases.get(result.case_ids[0])
    assert case.kind is Kind.COMPLAINT
    assert case.language == "fr"
    assert case.target_at == START + timedelta(hours=24)
    assert case.due_at == START + timedelta(days=7)
    assert case.state is CaseState.SUGGESTED
    assert case.suggestions
    assert case.suggestions[0].language == "fr"
    assert case.reasons


def test_english_question_opens_a_question_case_due_in_48h(
    core: Huitaine, msg: MessageFactory
) -> None:
    result = core.ingest(msg("anyone know how to reset my password", author="u-bob", name="Bob"))
    case = core.cases.get(result.case_ids[0])
    assert case.kind is Kind.QUESTION
    assert case.language == "en"
    assert case.target_at == START + timedelta(hours=48)
    assert case.suggestions[0].language == "en"


def test_chit_chat_opens_nothing(core: Huitaine, msg: MessageFactory) -> None:
    for text in ("bonjour tout le monde", "lol", "merci !", "", "👍"):
        assert core.ingest(msg(text)).outcome is Outcome.STORED
    assert core.cases.list() == []


def test_staff_and_bots_never_open_cases(core: Huitaine, msg: MessageFactory) -> None:
    assert core.ingest(msg("Pourquoi ça ne marche pas ?", staff=True)).case_ids == ()
    assert core.ingest(msg("Why is it broken?", bot=True)).outcome is Outcome.IGNORED
    assert core.cases.list() == []


def test_configured_staff_id_counts_as_staff(clock: ManualClock, db_path, msg) -> None:
    from bot.config import parse_config

    app = Huitaine(
        parse_config({"staff": {"user_ids": ["discord:u-boss", "telegram:u-chief"]}}),
        clock=clock,
        database=db_path,
    )
    assert app.ingest(msg("how do I refund this?", author="u-boss")).case_ids == ()
    # The same id listed for another platform is somebody else: their question opens a case.
    assert len(app.ingest(msg("how do I refund that?", author="u-chief")).case_ids) == 1
    app.close()


def test_same_message_twice_opens_one_case(core: Huitaine, msg: MessageFactory) -> None:
    message = msg("Où en est mon remboursement ?")
    assert core.ingest(message).outcome is Outcome.OPENED
    assert core.ingest(message).outcome is Outcome.DUPLICATE
    assert len(core.cases.list()) == 1
    assert core.store.row("SELECT COUNT(*) AS n FROM messages") == {"n": 1}


def test_staff_reply_answers_and_records_first_response_time(
    core: Huitaine, msg: MessageFactory
) -> None:
    question = msg("how do I change my username?", id="q1")
    case_id = core.ingest(question).case_ids[0]
    reply = msg(
        "Settings → Profile → Edit",
        author="staff-1",
        name="Camille",
        staff=True,
        reply_to="q1",
        after=timedelta(hours=3, minutes=20),
    )
    result = core.ingest(reply)
    assert result.outcome is Outcome.ANSWERED
    case = core.cases.get(case_id)
    assert case.state is CaseState.ANSWERED
    assert case.answered_by == "Camille"
    assert case.first_response_at is not None
    assert case.first_response_at - case.opened_at == timedelta(hours=3, minutes=20)


def test_staff_mention_in_same_channel_answers(core: Huitaine, msg: MessageFactory) -> None:
    case_id = core.ingest(msg("toujours rien reçu pour ma commande")).case_ids[0]
    other = core.ingest(msg("how do I pay?", author="u-bob", name="Bob")).case_ids[0]
    core.ingest(
        msg("@Alice je regarde ça", author="s", name="Sam", staff=True, after=timedelta(hours=1))
    )
    assert core.cases.get(case_id).state is CaseState.ANSWERED
    assert core.cases.get(other).state is CaseState.SUGGESTED
    core.ingest(
        msg(
            "on it",
            author="s",
            name="Sam",
            staff=True,
            mentions=("u-bob",),
            after=timedelta(hours=2),
        )
    )
    assert core.cases.get(other).state is CaseState.ANSWERED


def test_mention_in_another_channel_does_not_answer(core: Huitaine, msg: MessageFactory) -> None:
    case_id = core.ingest(msg("still waiting for my refund")).case_ids[0]
    core.ingest(
        msg(
            "@Alice hi",
            author="s",
            name="Sam",
            staff=True,
            channel="random",
            mentions=("u-alice",),
        )
    )
    assert core.cases.get(case_id).state.waiting


def test_staff_message_in_the_thread_answers(core: Huitaine, msg: MessageFactory) -> None:
    case_id = core.ingest(msg("comment on active le mode sombre ?", thread="t1")).case_ids[0]
    core.ingest(msg("Dans Réglages > Apparence", author="s", name="Sam", staff=True, thread="t1"))
    assert core.cases.get(case_id).state is CaseState.ANSWERED


def test_follow_ups_within_the_window_join_the_case(core: Huitaine, msg: MessageFactory) -> None:
    first = core.ingest(msg("comment je fais pour suivre mon colis ?")).case_ids[0]
    joined = core.ingest(msg("c'est la commande 4471", after=timedelta(minutes=20)))
    assert joined.outcome is Outcome.JOINED
    assert joined.case_ids == (first,)
    later = core.ingest(msg("et je n'arrive pas à payer non plus ?", after=timedelta(hours=3)))
    assert later.outcome is Outcome.OPENED
    assert core.cases.get(first).message_ids == ("m1", "m2")


def test_a_complaint_follow_up_turns_a_question_into_a_complaint(
    core: Huitaine, msg: MessageFactory
) -> None:
    case_id = core.ingest(msg("when will my order ship?")).case_ids[0]
    core.ingest(msg("this is unacceptable, I want a refund", after=timedelta(minutes=10)))
    case = core.cases.get(case_id)
    assert case.kind is Kind.COMPLAINT
    assert case.target_at == START + timedelta(hours=24)


def test_edit_re_runs_detection(core: Huitaine, msg: MessageFactory) -> None:
    original = msg("bonjour", id="e1")
    core.ingest(original)
    assert core.cases.list() == []
    from dataclasses import replace

    edited = replace(original, text="bonjour, comment on change son adresse de livraison ?")
    result = core.edit(edited, START + timedelta(minutes=5))
    assert result.outcome is Outcome.OPENED
    case = core.cases.get(result.case_ids[0])
    assert case.opened_at == START  # the member has waited since the first post


def test_delete_withdraws_an_open_case(core: Huitaine, msg: MessageFactory) -> None:
    case_id = core.ingest(msg("c'est une arnaque, remboursez-moi", id="d1")).case_ids[0]
    result = core.delete("discord", "guild-1", "general", "d1", START + timedelta(minutes=3))
    assert result.outcome is Outcome.WITHDRAWN
    assert core.cases.get(case_id).state is CaseState.WITHDRAWN
    assert core.delete("discord", "guild-1", "general", "nope", START).outcome is Outcome.UNKNOWN


def test_odd_texts_are_handled(core: Huitaine, msg: MessageFactory) -> None:
    texts = [
        "",
        "x" * 100_000,
        "\x00\x01\x02binary\xff\ufffd" * 50,
        "re\u200bfund\u200d now?",
        "مرحبا، أين طلبي؟",
        "שלום, איפה ההזמנה שלי?",
        "\ud800 lone surrogate",
    ]
    for text in texts:
        core.ingest(msg(text))
    stored = core.store.rows("SELECT text FROM messages ORDER BY rowid")
    assert len(stored) == len(texts)
    assert len(stored[1]["text"]) <= 20_000
    assert "\x00" not in stored[2]["text"]
