"""Behaviour of the rule detector as a member or a moderator would notice it."""

from __future__ import annotations

import time

import pytest

from bot.detect.language import LanguageIdentifier
from bot.detect.rules import RuleDetector
from bot.models import Detection, Kind

YES = 0.5


@pytest.fixture(scope="module")
def detector() -> RuleDetector:
    return RuleDetector()


def _valid(detection: Detection) -> None:
    assert 0.0 <= detection.question <= 1.0
    assert 0.0 <= detection.complaint <= 1.0
    assert isinstance(detection.language, str)
    assert detection.language
    if max(detection.question, detection.complaint) >= YES:
        assert detection.reasons


def test_name_is_rules(detector: RuleDetector) -> None:
    assert detector.name == "rules"


def test_french_complaint_is_a_complaint_in_french(detector: RuleDetector) -> None:
    result = detector.detect("ma commande n'est toujours pas arrivée, c'est inadmissible")
    assert result.complaint >= YES
    assert result.language == "fr"
    assert result.kind() is Kind.COMPLAINT


@pytest.mark.parametrize(
    "text",
    [
        "anyone know how to reset my password",
        "how do I change my username",
        "can someone help me with the bot",
        "is there a way to export my data",
        "where can I find the server rules",
        "comment on fait pour changer de pseudo",
        "est-ce que quelqu'un sait où trouver le lien",
        "pouvez-vous m'aider",
        "quelqu'un a le lien du formulaire",
        "vous pouvez me rappeler svp",
        "je voudrais savoir si la boutique est ouverte",
        "je n'arrive pas à payer",
    ],
)
def test_questions_without_question_mark(detector: RuleDetector, text: str) -> None:
    result = detector.detect(text)
    assert result.question >= YES, result
    _valid(result)


@pytest.mark.parametrize(
    "text",
    [
        "toujours pas recu",
        "toujours rien reçu",
        "3 semaines sans nouvelles de ma commande",
        "ca marche pas depuis la mise a jour",
        "j'ai été débité deux fois, c'est pas normal",
        "je veux être remboursé",
        "c'est une arnaque",
        "I still haven't received my order",
        "this is the worst service ever",
        "the app is not working",
        "I want a refund",
        "you charged me twice",
    ],
)
def test_complaints(detector: RuleDetector, text: str) -> None:
    result = detector.detect(text)
    assert result.complaint >= YES, result
    _valid(result)


def test_question_and_complaint_together(detector: RuleDetector) -> None:
    result = detector.detect("how do I get a refund? it's broken")
    assert result.question >= YES
    assert result.complaint >= YES
    assert result.kind() is Kind.COMPLAINT


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "hi everyone",
        "bonjour à tous",
        "thanks!",
        "merci beaucoup",
        "lol",
        "ok",
        "mdr",
        ":)",
        "😂😂😂",
        "ça va ?",
        "good morning guys",
        "bonne soirée",
        "pas de souci, merci",
        "not bad at all",
        "quelle horreur !",
        "what a game!",
    ],
)
def test_chat_noise_is_neither(detector: RuleDetector, text: str) -> None:
    result = detector.detect(text)
    assert result.question < YES, result
    assert result.complaint < YES, result
    assert result.kind() is Kind.OTHER


def test_question_mark_counts_fullwidth_but_not_in_urls(detector: RuleDetector) -> None:
    assert detector.detect("le serveur est ouvert ce soir\uff1f").question >= YES
    assert detector.detect("regardez https://example.com/page?id=3").question < YES


def test_zero_width_characters_inside_words(detector: RuleDetector) -> None:
    result = detector.detect("I want a re\u200bfund")
    assert result.complaint >= YES
    _valid(result)


def test_accents_and_case_do_not_matter(detector: RuleDetector) -> None:
    plain = detector.detect("toujours pas recu", language="fr")
    accented = detector.detect("TOUJOURS PAS REÇU", language="fr")
    assert plain.complaint >= YES
    assert accented.complaint >= plain.complaint


def test_strong_cues_score_higher_than_one_weak_cue(detector: RuleDetector) -> None:
    weak = detector.detect("the app is not working", language="en").complaint
    strong = detector.detect("it never arrived and I want a refund", language="en").complaint
    assert 0.5 <= weak <= 0.7
    assert strong >= 0.85


def test_intensity_raises_a_complaint(detector: RuleDetector) -> None:
    calm = detector.detect("the delivery is late and not working", language="en").complaint
    loud = detector.detect("the DELIVERY is LATE and NOT WORKING!!!", language="en").complaint
    assert loud > calm


def test_negation_cancels_a_complaint_word(detector: RuleDetector) -> None:
    assert detector.detect("pas nul du tout", language="fr").complaint < YES
    assert detector.detect("I was not disappointed", language="en").complaint < YES


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\x02refund\x00\xff\ufffe",
        "re\u200bfund\u200d\u2060\ufeff",
        "مرحبا، لم أستلم طلبي بعد؟",
        "שלום, ההזמנה שלי לא הגיעה",
        "\u202eevitca si tnuocca ym\u202c",
        "🙂" * 500,
        "e" + "\u0301" * 5000,
        "\ufdfa" * 5000,
        "x" * 100_000,
        "why won't this work " * 5000,
        "".join(chr(code) for code in range(0, 0x3000)),
        "broken \ud83d surrogate",
    ],
)
def test_odd_input_gives_a_valid_detection(detector: RuleDetector, text: str) -> None:
    _valid(detector.detect(text))


def test_large_text_is_fast(detector: RuleDetector) -> None:
    text = ("Je n'arrive pas à me connecter depuis hier. " * 2500)[:100_000]
    start = time.perf_counter()
    result = detector.detect(text)
    assert time.perf_counter() - start < 0.5
    assert result.question >= YES
    _valid(result)


def test_given_language_skips_identification() -> None:
    class Refusing(LanguageIdentifier):
        def identify(self, text: str) -> str:
            raise AssertionError("language identification should be skipped")

    result = RuleDetector(Refusing()).detect("where is my refund", language="en")
    assert result.language == "en"
    assert result.complaint >= YES


def test_batch_preserves_order_and_length(detector: RuleDetector) -> None:
    texts = ["hello", "anyone know how to join", "", "still waiting for my refund", "lol"]
    batch = detector.detect_batch(texts)
    assert len(batch) == len(texts)
    assert batch == [detector.detect(text) for text in texts]
    assert [d.kind() for d in batch] == [
        Kind.OTHER,
        Kind.QUESTION,
        Kind.OTHER,
        Kind.COMPLAINT,
        Kind.OTHER,
    ]
    assert detector.detect_batch([]) == []


def test_reasons_are_short_and_readable(detector: RuleDetector) -> None:
    result = detector.detect("est-ce que je peux avoir un remboursement ?", language="fr")
    assert "question mark" in result.reasons
    assert any("est-ce que" in reason for reason in result.reasons)
    assert any("rembours" in reason for reason in result.reasons)
    assert all(len(reason) < 60 for reason in result.reasons)


def test_chit_chat_skips_language_identification_when_asked() -> None:
    lazy = RuleDetector(identify_all=False)
    assert lazy.detect("bonjour tout le monde").language == "und"
    assert lazy.detect("ma commande n'est jamais arrivée").language == "fr"
    assert RuleDetector().detect("bonjour tout le monde").language == "fr"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("refund arrived, thanks team", False),
        ("merci, remboursement bien reçu", False),
        ("thanks but my refund still hasn't arrived", True),
        ("merci mais toujours pas reçu ma commande", True),
        ("thanks for nothing, worst support ever", True),
    ],
)
def test_a_settled_matter_with_thanks_is_not_a_complaint(text: str, complaint: bool) -> None:
    assert (RuleDetector().detect(text).complaint >= 0.5) is complaint


@pytest.mark.parametrize(
    "text",
    [
        "who is up for a game tonight?",
        "anyone up for some co-op later?",
        "je lance une commande groupée de contreplaqué, qui est partant ?",
        "on se fait un vocal ce soir ?",
        "sondage : raclette ou fondue pour la soirée ?",
        "how's everyone doing?",
    ],
)
def test_invitations_polls_and_greetings_open_no_question(
    detector: RuleDetector, text: str
) -> None:
    assert detector.detect(text).kind() is Kind.OTHER


@pytest.mark.parametrize(
    "text",
    [
        "@sam did you try with sudo?",
        "which version are you on?",
        "what does dmesg say?",
        "t'as essayé de redémarrer la box ?",
        "tu peux coller le message d'erreur ?",
    ],
)
def test_a_helpers_clarifying_question_is_not_a_request(detector: RuleDetector, text: str) -> None:
    assert detector.detect(text).kind() is Kind.OTHER


def test_a_joke_with_a_question_mark_is_not_a_question(detector: RuleDetector) -> None:
    assert detector.detect("my cat again?? lol").kind() is Kind.OTHER


@pytest.mark.parametrize(
    "text",
    [
        "anyone know why apt is locked lol",
        "is there a way to export my save?",
        "qui est le modo ici ?",
        "vous avez reçu mon colis ?",
        "who is up for helping me fix my grub? it won't boot",
    ],
)
def test_real_requests_stay_requests_beside_chatter_cues(
    detector: RuleDetector, text: str
) -> None:
    assert detector.detect(text).kind() is not Kind.OTHER


def test_a_short_greeting_with_a_question_mark_asks_nothing(detector: RuleDetector) -> None:
    assert detector.detect("salut Alice, bon weekend ?").kind() is Kind.OTHER
    assert detector.detect("hey Sam, good weekend?").kind() is Kind.OTHER


def test_a_sign_off_does_not_hide_the_request_before_it(detector: RuleDetector) -> None:
    text = "ma commande 4471 n'est pas arrivée, vous pouvez vérifier ? bonne journée"
    assert detector.detect(text).kind() is not Kind.OTHER


def test_someone_did_something_is_a_statement_unless_asked(detector: RuleDetector) -> None:
    assert detector.detect("quelqu'un a oublié un pull bleu à l'atelier").kind() is Kind.OTHER
    assert detector.detect("quelqu'un a oublié son mot de passe ici ?").kind() is Kind.QUESTION
