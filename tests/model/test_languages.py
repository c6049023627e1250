"""A community writing Spanish, German, Italian or Portuguese gets its messages read as such.

Language identification is lingua's, offline; the detector is the model detector with the fake
encoder (what it scores is measured by bench/detect_languages.py with the real one). The
moderators' side stays in English for such a community, or French if it says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.detect.language import LanguageIdentifier
from bot.detect.model import ModelDetector
from bot.detect.rules import RuleDetector
from tests.conftest import MessageFactory
from tests.model.conftest import FakeEncoder

REQUESTS = {
    "es": "¿Dónde está mi pedido? Llevo dos semanas esperando y nadie me contesta",
    "de": "Wo bleibt meine Bestellung? Ich warte seit zwei Wochen und niemand antwortet",
    "it": "Dov'è il mio ordine? Aspetto da due settimane e nessuno mi risponde",
    "pt": "Cadê meu pedido? Estou esperando há duas semanas e ninguém me responde",
}


@pytest.mark.parametrize("language", sorted(REQUESTS))
def test_messages_are_tagged_with_the_community_language_not_english(language: str) -> None:
    config = parse_config({"community": {"language": language, "languages": [language, "en"]}})
    identify = LanguageIdentifier(config.community.languages, default=config.community.language)
    assert identify.identify(REQUESTS[language]) == language
    assert identify.identify("where is my order? I have been waiting for two weeks") == "en"
    # Too short to tell: the community's own language, not English.
    assert identify.identify("ok") == language


def spanish_core(
    config: Config, clock: ManualClock, db_path: Path, encoder: FakeEncoder
) -> Huitaine:
    language = LanguageIdentifier(config.community.languages, default=config.community.language)
    detector = ModelDetector(
        encoder, rules=RuleDetector(language), community=config.community.name
    )
    return Huitaine(config, clock=clock, database=db_path, detector=detector)


def test_a_spanish_community_gets_spanish_cases_and_english_moderator_texts(
    clock: ManualClock, db_path: Path, msg: MessageFactory, fake_encoder: FakeEncoder
) -> None:
    config = parse_config({"community": {"name": "Taller", "language": "es"}})
    assert config.community.ui_language == "en"
    core = spanish_core(config, clock, db_path, fake_encoder)
    try:
        result = core.ingest(msg(REQUESTS["es"]))
        (case_id,) = result.case_ids
        case = core.cases.get(case_id)
        assert case.language == "es"
        # No Spanish template is bundled: the draft is in the moderators' language, to edit.
        assert case.suggestions
        assert {s.language for s in case.suggestions} == {"en"}
        assert core.report_text().startswith("Huitaine report")  # not a KeyError on "es"
    finally:
        core.close()


def test_french_moderators_of_a_spanish_speaking_community_keep_french_texts(
    clock: ManualClock, db_path: Path, msg: MessageFactory, fake_encoder: FakeEncoder
) -> None:
    config = parse_config({"community": {"language": "fr", "languages": ["fr", "es"]}})
    assert config.community.ui_language == "fr"
    core = spanish_core(config, clock, db_path, fake_encoder)
    try:
        (case_id,) = core.ingest(msg(REQUESTS["es"])).case_ids
        case = core.cases.get(case_id)
        assert case.language == "es"
        assert {s.language for s in case.suggestions} == {"fr"}
    finally:
        core.close()
