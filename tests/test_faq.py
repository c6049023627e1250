"""The community's FAQ files: the bundled ones load, bad ones are named, drafts are reviewable."""

from pathlib import Path

import pytest

from bot.faq import FaqError, draft_entries, load_faq
from bot.insights import FaqCandidate
from bot.models import Suggestion
from bot.retrieval_source import DraftSource, SourceKind, draft_source
from bot.storage import Store
from bot.suggest import Suggester, load_templates


def test_bundled_faq_has_the_same_entries_in_french_and_english() -> None:
    entries = load_faq()
    ids = {lang: {e.id for e in entries if e.language == lang} for lang in ("fr", "en")}
    assert ids["fr"] == ids["en"]
    assert ids["fr"]
    # Templates skip the FAQ files that share their folder.
    assert all(not t.id.startswith("faq") for t in load_templates())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[faq]]\nid = "a"\n', "faq-xx.toml: missing language"),
        (
            'language = "fr"\n[[faq]]\nid = "refunds"\nquestions = ["q"]\n',
            "faq-xx.toml: entry 'refunds': needs answer",
        ),
        (
            'language = "fr"\n[[faq]]\nid = "refunds"\nanswer = "ok"\n',
            "faq-xx.toml: entry 'refunds': questions must be a list",
        ),
        (
            'language = "fr"\n[[faq]]\nid = "refunds"\nquestions = ["q"]\nanswer = "hi {name}"\n',
            "faq-xx.toml: entry 'refunds': unknown placeholder",
        ),
        ('language = "fr"\n[[faq]]\nanswer = "a"\nquestions = ["q"]\n', "entry 1: needs id"),
        ("language = ", "faq-xx.toml: not valid TOML"),
    ],
)
def test_a_bad_entry_is_named_with_its_file(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "faq-xx.toml").write_text(content, encoding="utf-8")
    with pytest.raises(FaqError, match=message.replace("[", r"\[").replace("{", r"\{")):
        load_faq(tmp_path)


def test_the_same_id_twice_in_one_language_is_refused(tmp_path: Path) -> None:
    entry = '[[faq]]\nid = "a"\nquestions = ["q"]\nanswer = "x"\n'
    (tmp_path / "faq-fr.toml").write_text('language = "fr"\n' + entry * 2, encoding="utf-8")
    with pytest.raises(FaqError, match="'a' is used twice in fr"):
        load_faq(tmp_path)


def test_drafts_load_once_reviewed_and_not_before(tmp_path: Path) -> None:
    answered = FaqCandidate("livraison · delai", 4, ("délai de livraison ?", "ça livre quand ?"))
    open_one = FaqCandidate("horaires", 3, ("vous ouvrez quand ?",))
    text = draft_entries(
        [("fr", answered, "Sous 3 jours ouvrés."), ("fr", open_one, None), ("en", open_one, None)],
        language="fr",
    )
    path = tmp_path / "faq-fr.toml"
    path.write_text(text, encoding="utf-8")
    # One draft has no answer yet: the file does not load until someone writes it.
    with pytest.raises(FaqError, match="needs answer"):
        load_faq(tmp_path)
    path.write_text(text.replace('# answer = "…"', 'answer = "Du mardi au samedi."'), "utf-8")
    entries = load_faq(tmp_path)
    assert [e.questions for e in entries] == [answered.examples, open_one.examples]
    assert entries[0].answer == "Sous 3 jours ouvrés."


def test_sources_are_described_in_both_languages(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    suggester = Suggester(load_templates())
    faq = load_faq()

    def line(source: str, language: str) -> str:
        suggestion = Suggestion("x", language, source, 0.9)
        described = draft_source(store, suggestion, suggester=suggester, faq=faq)
        return described.describe(language)

    assert line("faq:password-reset", "fr") == "FAQ : mot de passe oublié"
    assert line("faq:password-reset", "en") == "FAQ: password reset"
    assert line("template:en-refund", "en") == "template: refund"
    assert line("template:fr-refund", "fr").startswith("modèle : ")
    from datetime import UTC, datetime

    answered = DraftSource(
        SourceKind.ANSWER, "case-41", who="Sam", when=datetime(2026, 3, 12, tzinfo=UTC), case=41
    )
    assert answered.describe("en") == "answered like this by Sam on 12 March, case #41"
    assert answered.describe("fr") == "répondu ainsi par Sam le 12 mars, cas #41"
    store.close()
