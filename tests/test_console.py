"""The console adapter: a member's complaint, the moderator's decision, time passing."""

from pathlib import Path

from adapters.console import ConsoleSession
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.models import CaseState, SendState


def session(config: Config, clock: ManualClock, db_path: Path) -> tuple[ConsoleSession, list[str]]:
    out: list[str] = []
    core = Huitaine(config, clock=clock, database=db_path)
    return ConsoleSession(core, clock, out.append), out


def test_member_complaint_then_moderator_approves(
    config: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, out = session(config, clock, db_path)
    chat.handle("alice: ma commande n'est jamais arrivée, toujours rien reçu")
    assert any("cas n°1 ouvert" in line and "réclamation" in line for line in out)
    chat.handle("/case 1")
    assert any("[1]" in line for line in out)
    chat.handle("/approve 1")
    sent = [line for line in out if line.startswith("  ✉")]
    assert len(sent) == 1
    assert "alice" in sent[0].lower()
    assert chat.core.cases.get(1).state is CaseState.ANSWERED
    chat.handle("/approve 1")
    assert out[-1].startswith("  ✗")
    chat.core.close()


def test_non_moderator_is_refused_and_time_fires_reminders(
    config: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, out = session(config, clock, db_path)
    chat.handle("#help bob: how do I reset my password")
    chat.handle("/as bob")
    chat.handle("/approve 1")
    assert "seuls les modérateurs" in out[-1]  # the community speaks French
    chat.handle("/advance 47h")
    assert any("⏰" in line for line in out)
    chat.handle("/advance 6d")
    assert any("🚨" in line for line in out)
    chat.handle("/as sam moderator")
    chat.handle("/edit 1 Hi Bob, Settings > Security > Reset. Sam")
    assert any("Hi Bob, Settings" in line for line in out)
    chat.handle("/report")
    # Answered by Sam's edit, but 7 days 23 hours after the question: the week was not kept.
    assert "question: 1 (répondu 1)" in out[-1]
    assert "Répondu en 7 jours: 0/1 (0%)" in out[-1]
    assert chat.handle("/quit") is False
    chat.core.close()


def test_staff_reply_and_bad_commands_never_crash(
    config: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, _out = session(config, clock, db_path)
    chat.handle("zoé: quelqu'un sait comment on fait pour changer d'adresse")
    chat.handle("/staff sam: @zoé dans votre profil !")
    assert chat.core.cases.get(1).state is CaseState.ANSWERED
    for line in (
        "/case",
        "/case abc",
        "/approve 99",
        "/dismiss 1 nonsense",
        "/advance soon",
        "just text",
        "/nope",
        "\x00\x01",
    ):
        assert chat.handle(line) is True
    chat.core.close()


def test_a_reply_the_terminal_could_not_print_waits_in_doubt(
    config: Config, clock: ManualClock, db_path: Path
) -> None:
    # The console sends through the same rule as every platform: a failure while posting
    # leaves the reply in doubt for a moderator, never marked sent, never lost.
    out: list[str] = []
    core = Huitaine(config, clock=clock, database=db_path)

    def write(text: str) -> None:
        if text.lstrip().startswith("✉"):
            raise BrokenPipeError("terminal closed")
        out.append(text)

    chat = ConsoleSession(core, clock, write)
    chat.handle("alice: ma commande n'est jamais arrivée, toujours rien reçu")
    chat.handle("/approve 1")
    (reply,) = core.review.outbox(SendState.UNCONFIRMED)
    assert reply.case_id == 1
    assert core.cases.get(1).state is not CaseState.ANSWERED
    core.close()


def test_a_second_community_has_its_own_language_and_moderators(
    clock: ManualClock, db_path: Path
) -> None:
    from bot.config import parse_config

    config = parse_config(
        {
            "community": {"language": "fr"},
            "detection": {"detector": "rules"},
            "communities": {"console:shop": {"community": {"language": "en"}}},
        }
    )
    chat, out = session(config, clock, db_path)
    chat.handle("/community shop!")
    assert out[-1].startswith("  ✗ écrivez /community NOM")
    chat.handle("/community shop")
    chat.handle("alice: how do I reset my password?")
    assert chat.core.cases.get(1).community == "shop"
    chat.handle("/case 1")
    assert any(
        line.startswith("  Case #1 — question") and "in shop #general" in line for line in out
    )
    # The first community's moderator is nobody in the shop; the shop's own moderator decides.
    chat.handle("/approve 1")
    assert "seuls les modérateurs" in out[-1]
    chat.handle("/as sam moderator")  # a moderator where members now write: the shop
    chat.handle("/approve 1")
    assert any(line.startswith("  ✉ sam → shop #general") for line in out)
    assert chat.core.cases.get(1).state is CaseState.ANSWERED
    chat.core.close()
