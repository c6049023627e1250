"""The review card: what moderators see, in English and French, and which buttons it offers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from adapters.discord import render
from adapters.discord.ids import Action, make
from bot.cardview import CardView
from bot.models import Author, Case, CaseState, Kind, Outgoing, SendState, Suggestion

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CASE = Case(
    id=3,
    platform="discord",
    community="10",
    channel="20",
    thread=None,
    author=Author("30", "Alice"),
    kind=Kind.COMPLAINT,
    state=CaseState.SUGGESTED,
    language="fr",
    confidence=0.87,
    opened_at=NOW,
    last_message_at=NOW,
    target_at=NOW + timedelta(hours=24),
    due_at=NOW + timedelta(days=7),
    message_ids=("40",),
    excerpt="ma commande n'est jamais arrivée",
    suggestions=(Suggestion("Bonjour Alice… — {moderator}", "fr", "template:fr-late", 0.9),),
)


def test_card_in_french() -> None:
    embed = render.case_embed(CardView(CASE), language="fr", now=NOW).to_dict()
    assert embed["title"] == "😠 Réclamation n°3 · suggestion prête"
    assert embed["url"] == "https://discord.com/channels/10/20/40"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Membre"] == "<@30>"
    assert fields["Salon"] == "<#20>"
    assert fields["Confiance"] == "87%"
    assert fields["Objectif"].startswith(f"<t:{int(CASE.target_at.timestamp())}:R>")
    assert fields["Limite d'une semaine"].startswith(f"<t:{int(CASE.due_at.timestamp())}:R>")
    assert "> ma commande n'est jamais arrivée" in embed["description"]
    assert "Bonjour Alice… — [votre nom]" in embed["description"]


def test_overdue_answered_and_closed_cards() -> None:
    late = render.case_embed(CardView(CASE), language="en", now=NOW + timedelta(days=8)).to_dict()
    assert late["title"].endswith("suggested · OVERDUE")
    answered = replace(CASE, state=CaseState.ANSWERED, answered_by="Sam", first_response_at=NOW)
    card = render.case_embed(CardView(answered), language="en", now=NOW).to_dict()
    assert card["title"].endswith("answered")
    assert "Suggested reply" not in card["description"]
    assert render.case_buttons(CardView(answered), language="en") == []


def test_buttons_follow_the_reply_state() -> None:
    labels = [b.label for b in render.case_buttons(CardView(CASE), language="fr")]
    assert labels == ["Envoyer", "Modifier", "Écarter", "Reporter", "Je m'en occupe"]
    no_draft = render.case_buttons(CardView(replace(CASE, suggestions=())), language="en")
    assert no_draft[0].custom_id == make(Action.EDIT, 3)  # nothing to send as it stands
    pending = Outgoing(
        id=9,
        case_id=3,
        platform="discord",
        community="10",
        channel="20",
        thread=None,
        reply_to="40",
        member_id="30",
        text="x",
        state=SendState.UNCONFIRMED,
        approved_by="Sam",
        created_at=NOW,
    )
    in_doubt = CardView(CASE, in_doubt=pending)
    assert [b.custom_id for b in render.case_buttons(in_doubt, language="en")] == [
        make(Action.CONFIRM, 3, "9"),
        make(Action.RETRY, 3, "9"),
    ]
    sending = replace(pending, state=SendState.SENDING)
    assert render.case_buttons(CardView(CASE, in_flight=sending), language="en") == []


def test_long_texts_stay_within_embed_limits() -> None:
    huge = replace(
        CASE,
        excerpt="x" * 5000,
        suggestions=(Suggestion("y" * 20_000, "en", "template", 1.0),),
        author=Author("30", "z" * 500),
    )
    embed = render.case_embed(CardView(huge), language="en", now=NOW)
    assert len(embed.description or "") <= 4096
    assert len(embed) <= 6000
