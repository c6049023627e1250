"""Reply templates: bundled files load, fit the language and topic, and bad files are named."""

from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.models import Actor, Kind, Standing
from bot.suggest import Suggester, TemplateError, load_templates
from tests.conftest import MessageFactory


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester(load_templates(), fallback_language="en")


def test_french_and_english_members_get_the_same_topics() -> None:
    templates = load_templates()
    covered = {
        # Ids are written "fr-refund" / "en-refund": the part after the language names the topic.
        language: {(t.kind, t.id.split("-", 1)[1]) for t in templates if t.language == language}
        for language in ("fr", "en")
    }
    # A community that switches language loses no draft: every topic exists in both.
    assert covered["fr"] == covered["en"]
    assert {kind for kind, _ in covered["fr"]} == {Kind.QUESTION, Kind.COMPLAINT}


@pytest.mark.parametrize(
    ("text", "kind", "language", "template"),
    [
        ("ma commande n'est jamais arrivée", Kind.COMPLAINT, "fr", "fr-late-delivery"),
        ("je veux être remboursé", Kind.COMPLAINT, "fr", "fr-refund"),
        ("my package never arrived", Kind.COMPLAINT, "en", "en-late-delivery"),
        ("I want a refund", Kind.COMPLAINT, "en", "en-refund"),
        ("how do I reset my password", Kind.QUESTION, "en", "en-account"),
        ("comment je change mon mot de passe", Kind.QUESTION, "fr", "fr-account"),
    ],
)
def test_topic_and_language_are_respected(
    suggester: Suggester, text: str, kind: Kind, language: str, template: str
) -> None:
    suggestions = suggester.suggest(
        text=text, kind=kind, language=language, member="Zoé", community="Atelier"
    )
    assert suggestions
    best = suggestions[0]
    assert best.language == language
    assert best.source == f"template:{template}"
    assert "Zoé" in best.text
    assert "{moderator}" in best.text  # filled only when a moderator approves


def test_unknown_language_falls_back_and_other_gets_nothing(suggester: Suggester) -> None:
    fallback = suggester.suggest(
        text="hola", kind=Kind.QUESTION, language="es", member="A", community="C"
    )
    assert fallback
    assert fallback[0].language == "en"
    assert (
        suggester.suggest(text="x", kind=Kind.OTHER, language="fr", member="A", community="C")
        == []
    )


def test_a_generic_template_always_answers(suggester: Suggester) -> None:
    for language in ("fr", "en"):
        for kind in (Kind.QUESTION, Kind.COMPLAINT):
            assert suggester.suggest(
                text="zzz", kind=kind, language=language, member="A", community="C"
            )


def test_bad_template_files_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "xx.toml").write_text(
        'language = "xx"\n[[template]]\nid = "a"\nkind = "question"\ntext = "Hi {name}"\n',
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match=r"xx.toml: template 'a': unknown placeholder"):
        load_templates(tmp_path)
    (tmp_path / "xx.toml").write_text(
        'language = "xx"\n[[template]]\nid = "a"\n', encoding="utf-8"
    )
    with pytest.raises(TemplateError, match="needs id, kind"):
        load_templates(tmp_path)


def test_an_approved_reply_is_offered_again_for_a_similar_request(
    core: Huitaine, msg: MessageFactory
) -> None:
    mod = Actor("discord", "staff-1", "Camille", (Standing("guild-1", frozenset({"moderator"})),))
    first = core.ingest(
        msg("comment je change mon adresse de livraison ?", name="Alice")
    ).case_ids[0]
    written = "Bonjour Alice, dans Mon compte > Adresses, puis « Modifier ». Camille"
    core.review.mark_sent(core.review.approve(mod, first, text=written).id)
    again = core.ingest(
        msg("est-ce que je peux changer mon adresse de livraison", author="u-zoe", name="Zoé")
    ).case_ids[0]
    best = core.cases.get(again).suggestions[0]
    assert best.source == f"approved:case-{first}"
    assert best.text.startswith("Bonjour Zoé, dans Mon compte")
    unrelated = core.ingest(msg("how do I get a refund?", author="u-x", name="X")).case_ids[0]
    assert not core.cases.get(unrelated).suggestions[0].source.startswith("approved")
