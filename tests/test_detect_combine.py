"""How the default head's scores meet the rule detector's: rules add recall, never a floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.detect.head import Head, TaskHead
from bot.detect.model import COMBINE_GATED, COMBINE_MAX, GATE, PRAISE, combine_scores
from bot.models import Detection, Kind

# The rules' reading of a helper's "which driver are you using?": a bare "?" is a question cue.
RULES_SAY_QUESTION = Detection(0.75, 0.0, "en", ("question mark",))
RULES_SAY_COMPLAINT = Detection(0.0, 0.8, "en", ("complaint 'broken'",))


def kind(question: float, complaint: float) -> Kind:
    return Detection(question, complaint, "en", ()).kind()


def test_a_rule_hit_alone_opens_no_case_when_the_model_reads_chatter() -> None:
    sure_not = GATE["question"] / 2  # the head is sure it asks nothing
    question, complaint = combine_scores(COMBINE_GATED, sure_not, 0.01, RULES_SAY_QUESTION)
    assert kind(question, complaint) is Kind.OTHER
    weak = GATE["complaint"] - 0.05
    question, complaint = combine_scores(COMBINE_GATED, 0.01, weak, RULES_SAY_COMPLAINT)
    assert kind(question, complaint) is Kind.OTHER


def test_the_rules_still_raise_a_request_the_model_half_sees() -> None:
    question, _ = combine_scores(COMBINE_GATED, GATE["question"] + 0.05, 0.0, RULES_SAY_QUESTION)
    assert question == RULES_SAY_QUESTION.question
    _, complaint = combine_scores(
        COMBINE_GATED, 0.0, GATE["complaint"] + 0.05, RULES_SAY_COMPLAINT
    )
    assert complaint == RULES_SAY_COMPLAINT.complaint


def test_the_rules_never_lower_the_model() -> None:
    quiet_rules = Detection(0.0, 0.0, "en", ())
    assert combine_scores(COMBINE_GATED, 0.9, 0.7, quiet_rules) == (0.9, 0.7)


def test_a_head_saved_with_the_old_max_combination_keeps_it(tmp_path: Path) -> None:
    # Heads written before the gate carry combine = "max" in their file and are read as such.
    task = TaskHead(np.zeros(2), np.ones(2), np.zeros(2), 0.0)
    Head("enc", 2, {"question": task}, {"combine": COMBINE_MAX}).save(tmp_path / "old.npz")
    loaded = Head.load(tmp_path / "old.npz")
    combined = combine_scores(loaded.meta.get("combine"), 0.02, 0.01, RULES_SAY_QUESTION)
    assert combined == (0.75, 0.01)


def test_a_community_head_is_used_alone() -> None:
    # A community's own head learned when its moderators overrule the rules.
    assert combine_scores(None, 0.02, 0.01, RULES_SAY_QUESTION) == (0.02, 0.01)


def test_praise_never_becomes_a_complaint() -> None:
    # "trop bien la newsletter de cette semaine": the complaint head and a rule cue both fire,
    # the praise classifier of the default head reads praise.
    question, complaint = combine_scores(COMBINE_GATED, 0.0, 0.85, RULES_SAY_COMPLAINT, 0.78)
    assert kind(question, complaint) is Kind.OTHER


def test_a_complaint_the_praise_classifier_doubts_stays_a_complaint() -> None:
    # Sarcasm ("merci pour rien") is fitted as a request, so praise scores low and changes nothing.
    assert combine_scores(COMBINE_GATED, 0.0, 0.9, RULES_SAY_COMPLAINT, 0.3) == (0.0, 0.9)
    assert combine_scores(COMBINE_GATED, 0.0, 0.9, RULES_SAY_COMPLAINT, None) == (0.0, 0.9)


def test_a_head_file_with_a_praise_classifier_keeps_it(tmp_path: Path) -> None:
    task = TaskHead(np.zeros(2), np.ones(2), np.zeros(2), 0.0)
    tasks = {"question": task, "complaint": task, PRAISE: task}
    Head("enc", 2, tasks, {"combine": COMBINE_GATED}).save(tmp_path / "v4.npz")
    loaded = Head.load(tmp_path / "v4.npz")
    assert set(loaded.tasks) == {"question", "complaint", PRAISE}
    assert set(loaded.predict(np.zeros((3, 2)))) == {"question", "complaint"}
