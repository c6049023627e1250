"""Console adapter: a terminal chat where you type as members and act as the moderator."""

from __future__ import annotations

import logging
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import IO

from bot.app import Huitaine
from bot.cardview import CardAction, HelperAction
from bot.clock import ManualClock
from bot.config import Config, ConfigError, parse_duration
from bot.i18n import Catalog, format_time, t
from bot.ingest import Outcome, message_from_row
from bot.models import (
    Actor,
    Author,
    Case,
    DismissReason,
    Feedback,
    Kind,
    Message,
    Outgoing,
    SendState,
    Standing,
)
from bot.review import Refusal, ReviewError
from bot.runtime import settle_send

_LOGGER = logging.getLogger(__name__)
PLATFORM = "console"
COMMUNITY = "console"
# "3 weeks", "2 jours", "90 min" → the config's own "3w"-free notation ("21d", "2d", "90m").
_UNITS = {
    "w": 7 * 24 * 60, "week": 7 * 24 * 60, "weeks": 7 * 24 * 60, "semaine": 7 * 24 * 60,
    "semaines": 7 * 24 * 60, "d": 24 * 60, "day": 24 * 60, "days": 24 * 60, "j": 24 * 60,
    "jour": 24 * 60, "jours": 24 * 60, "h": 60, "hour": 60, "hours": 60, "heure": 60,
    "heures": 60, "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
}  # fmt: skip
_AMOUNT = re.compile(r"(\d+)\s*([a-zé]+)")
_SAY = re.compile(
    r"^(?:#(?P<channel>[\w-]+)\s+)?(?P<name>[^:/#][^:]{0,39}):\s*(?P<text>.*)$", re.S
)

_TEXTS = Catalog(
    {
        "banner": {
            "en": "Huitaine console — {name}. /help for commands. Nothing is really sent.",
            "fr": "Console Huitaine — {name}. /help pour les commandes. Rien n'est vraiment "
            "envoyé.",
        },
        "stored": {"en": "  [{message}] no case", "fr": "  [{message}] aucun cas"},
        "opened": {
            "en": "  [{message}] → case #{case} opened: {kind} ({lang}, confidence "
            "{confidence}; {reasons}) — target {target}, limit {limit}",
            "fr": "  [{message}] → cas n°{case} ouvert : {kind} ({lang}, confiance "
            "{confidence} ; {reasons}) — objectif {target}, limite {limit}",
        },
        "answered": {
            "en": "  [{message}] → case #{case} answered by {who}",
            "fr": "  [{message}] → cas n°{case} répondu par {who}",
        },
        "joined": {
            "en": "  [{message}] → joined case #{case}",
            "fr": "  [{message}] → ajouté au cas n°{case}",
        },
        "nobody": {"en": "  nobody is waiting", "fr": "  personne n'attend"},
        "row": {
            "en": "  #{case} {kind:<10} {name:<10} target {target}{flag}  {excerpt}",
            "fr": "  n°{case} {kind:<11} {name:<10} objectif {target}{flag}  {excerpt}",
        },
        "case": {
            "en": "  Case #{case} — {kind}, {state}, {lang}, by {name} in {where}",
            "fr": "  Cas n°{case} — {kind}, {state}, {lang}, par {name} dans {where}",
        },
        "community": {
            "en": "  members now write in community {name}",
            "fr": "  les membres écrivent maintenant dans la communauté {name}",
        },
        "need_community": {
            "en": "write /community NAME (letters, digits, - or _), e.g. /community shop",
            "fr": "écrivez /community NOM (lettres, chiffres, - ou _), p. ex. /community shop",
        },
        "sent": {
            "en": "  ✉ {who} → {where} (reply to {message}):",
            "fr": "  ✉ {who} → {where} (réponse à {message}) :",
        },
        "dismissed": {
            "en": "  case #{case} dismissed ({reason})",
            "fr": "  cas n°{case} écarté ({reason})",
        },
        "snoozed": {
            "en": "  case #{case} snoozed until {until}",
            "fr": "  cas n°{case} en pause jusqu'au {until}",
        },
        "by_hand": {
            "en": "  → case #{case} opened by hand: {kind}",
            "fr": "  → cas n°{case} ouvert à la main : {kind}",
        },
        "assigned": {
            "en": "  case #{case} assigned to {who}",
            "fr": "  cas n°{case} attribué à {who}",
        },
        "resolved": {"en": "  case #{case} resolved", "fr": "  cas n°{case} résolu"},
        "by_community": {
            "en": "  answered by the community ({who}): confirm, or take it over",
            "fr": "  répondu par la communauté ({who}) : confirmez, ou reprenez-le",
        },
        "helper_confirmed": {
            "en": "  case #{case}: the community's answer is confirmed",
            "fr": "  cas n°{case} : la réponse de la communauté est confirmée",
        },
        "feedback": {
            "en": "  case #{case} is {state} (target {target})",
            "fr": "  le cas n°{case} est {state} (objectif {target})",
        },
        "reopened": {
            "en": "  [{message}] → case #{case} reopened: new target {target}",
            "fr": "  [{message}] → cas n°{case} rouvert : nouvel objectif {target}",
        },
        "acting": {
            "en": "  acting as {name} ({roles})",
            "fr": "  vous agissez en tant que {name} ({roles})",
        },
        "member": {"en": "member", "fr": "membre"},
        "moderator": {"en": "Moderator", "fr": "Modération"},
        "need_case": {
            "en": "give a case number, e.g. /case 3",
            "fr": "indiquez un numéro de cas, p. ex. /case 3",
        },
        "need_choice": {
            "en": "the suggestion is a number, e.g. /approve 3 2",
            "fr": "la suggestion est un numéro, p. ex. /approve 3 2",
        },
        "need_open": {
            "en": "write /open MESSAGE-ID question|complaint (message ids are shown as [c1], "
            "[c2], …)",
            "fr": "écrivez /open ID-MESSAGE question|complaint (les messages sont numérotés "
            "[c1], [c2], …)",
        },
        "need_staff": {"en": "write /staff NAME: text", "fr": "écrivez /staff NOM: texte"},
        "need_reply": {"en": "write /reply N NAME: text", "fr": "écrivez /reply N NOM: texte"},
        "need_as": {"en": "write /as NAME [moderator]", "fr": "écrivez /as NOM [moderator]"},
        "bad_reason": {
            "en": "unknown reason {reason!r}: use one of {choices}",
            "fr": "motif inconnu {reason!r} : utilisez {choices}",
        },
        "bad_duration": {
            "en": "cannot read the duration {text!r}: write 30m, 2h, 3d, 2w or 3 weeks",
            "fr": "durée illisible {text!r} : écrivez 30m, 2h, 3j, 2w ou 3 semaines",
        },
        "snoozed_case": {
            "en": "  💤 reminders paused until {until}",
            "fr": "  💤 rappels en pause jusqu'au {until}",
        },
        "in_doubt": {
            "en": "  ⚠ reply #{reply} to case #{case} may not have been posted (the session "
            "stopped while sending it): /posted {case} if it was, /again {case} to send it",
            "fr": "  ⚠ la réponse n°{reply} au cas n°{case} n'a peut-être pas été postée (la "
            "session s'est arrêtée pendant l'envoi) : /posted {case} si elle l'a été, "
            "/again {case} pour l'envoyer",
        },
        "nothing_in_doubt": {
            "en": "case {case} has no reply in doubt",
            "fr": "le cas n°{case} n'a pas de réponse incertaine",
        },
        "confirmed": {
            "en": "  ✓ reply #{reply} recorded as posted; case #{case} answered",
            "fr": "  ✓ réponse n°{reply} enregistrée comme postée ; cas n°{case} répondu",
        },
        "need_message": {
            "en": "write /edited c3 new text, or /deleted c3 (ids are shown as [c3])",
            "fr": "écrivez /edited c3 nouveau texte, ou /deleted c3 (numéros affichés [c3])",
        },
        "unknown_message": {
            "en": "no typed message {message}",
            "fr": "aucun message {message}",
        },
        "edited": {"en": "  [{message}] edited", "fr": "  [{message}] modifié"},
        "withdrawn": {
            "en": "  [{message}] deleted → case #{case} withdrawn",
            "fr": "  [{message}] supprimé → cas n°{case} retiré",
        },
        "deleted": {"en": "  [{message}] deleted", "fr": "  [{message}] supprimé"},
        "bug": {
            "en": "something went wrong ({error}); the session goes on, details in the log",
            "fr": "une erreur est survenue ({error}) ; la session continue, détails dans le "
            "journal",
        },
    }
)


class ConsoleInputError(ValueError):
    """A line the console cannot act on; the text key says what to type instead."""

    def __init__(self, key: str, **values: object) -> None:
        """Remember the catalogue key and its values."""
        self.key = key
        self.values = values
        super().__init__(_TEXTS(key, "en", **values))


HELP = {
    "en": """Type as a member:  alice: my order never arrived
             in a channel: #help bob: how do I reset my password
As the moderator:   /cases · /case N · /approve N [choice] · /edit N new text
                    /dismiss N [not_a_request|spam|duplicate|handled_elsewhere|other]
                    /snooze N [4h] · /mine N · /resolve N · /report
                    /open c3 question|complaint  (a request the detector missed; ids as [c3])
                    /posted N · /again N  (a reply in doubt after a crash: it was posted / send)
Members change:     /edited c3 new text · /deleted c3
Member's say:       /solved N · /stillhelp N  (as the member who asked: /as alice first)
Helpers' answers:   /confirm N · /takeover N  (a case a helper answered)
Staff messages:     /staff sam: @alice it's on its way  (a staff reply answers a case)
                    /reply N sam: text   (staff replies to case N's message, by hand)
Time:               /advance 2h | 1d | 3 weeks  (reminders and escalations fire)
Identity:           /as NAME [moderator]  (act as someone else; only moderators may decide)
Communities:        /community NAME  (members write there next; [communities."console:NAME"])
                    /help · /quit""",
    "fr": """Écrire comme membre : alice: ma commande n'est jamais arrivée
             dans un salon : #aide bob: comment changer mon mot de passe
Comme modérateur :  /cases · /case N · /approve N [choix] · /edit N nouveau texte
                    /dismiss N [not_a_request|spam|duplicate|handled_elsewhere|other]
                    /snooze N [4h] · /mine N · /resolve N · /report
                    /open c3 question|complaint  (une demande non détectée ; numéros [c3])
                    /posted N · /again N  (réponse incertaine après un arrêt : postée / envoyer)
Un membre change :  /edited c3 nouveau texte · /deleted c3
Avis du membre :    /solved N · /stillhelp N  (comme le membre qui a demandé : /as alice)
Membres aidants :   /confirm N · /takeover N  (un cas auquel un membre aidant a répondu)
Messages d'équipe : /staff sam: @alice c'est en route  (une réponse de l'équipe répond au cas)
                    /reply N sam: texte  (l'équipe répond au message du cas N, à la main)
Temps :             /advance 2h | 1j | 3 semaines  (rappels et escalades se déclenchent)
Identité :          /as NOM [moderator]  (seuls les modérateurs peuvent décider)
Communautés :       /community NOM  (les membres y écrivent ensuite ; [communities."console:NOM"])
                    /help · /quit""",
}


# The console draws a card's actions (bot.cardview) as the commands that take them.
_COMMANDS = {
    CardAction.SEND: "approve",
    CardAction.EDIT: "edit",
    CardAction.DISMISS: "dismiss",
    CardAction.SNOOZE: "snooze",
    CardAction.MINE: "mine",
    CardAction.CONFIRM: "posted",
    CardAction.RESEND: "again",
}


_HELPER_COMMANDS = {HelperAction.CONFIRM_HELPER: "confirm", HelperAction.TAKE_OVER: "takeover"}


def console_actor(
    user_id: str, name: str, roles: frozenset[str], community: str = COMMUNITY
) -> Actor:
    """Someone at the console, with `roles` in `community` (the console's first by default)."""
    return Actor(PLATFORM, user_id, name, (Standing(community, roles),))


class ConsoleSession:
    """One console chat: turns typed lines into core calls and prints what happens."""

    def __init__(self, core: Huitaine, clock: ManualClock, write: Callable[[str], None]) -> None:
        """Drive `core` with the demo `clock`; `write` prints one block of output."""
        self.core = core
        self.clock = clock
        self.write = write
        self.language = core.config.community.language
        self.tz = core.config.community.tz
        # The moderator signs drafts in the community's language ("— Modération").
        name = _TEXTS("moderator", self.language)
        self.actor = console_actor("mod", name, frozenset({"moderator"}))
        self._ids = count(self._next_id())
        # Replies are numbered r1, r2, … across restarts on the same database.
        self._sent = count(len(self.core.review.outbox(SendState.SENT)) + 1)
        self.channel = "general"
        # Where members write: the console's first community, or one named with /community
        # (each may have its own [communities."console:NAME"] language, staff and hours).
        self.community = COMMUNITY
        self.show_replies_in_doubt()

    def _next_id(self) -> int:
        row = self.core.store.row(
            "SELECT COUNT(*) AS n FROM messages WHERE platform = ?", (PLATFORM,)
        )
        return int(row["n"]) + 1 if row else 1

    def handle(self, line: str) -> bool:
        """Act on one typed line; False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        try:
            return self._dispatch(line)
        except ReviewError as exc:
            self.write(f"  ✗ {exc.explain(self.language)}")
        except ConsoleInputError as exc:
            self.write(f"  ✗ {_TEXTS(exc.key, self._ui(), **exc.values)}")
        except (ValueError, ConfigError) as exc:
            self.write(f"  ✗ {exc}")
        except Exception as exc:
            # A bug must not end the session: its cases live in a temporary database.
            _LOGGER.exception("console line %r failed", line)
            self.write(f"  ✗ {_TEXTS('bug', self._ui(), error=type(exc).__name__)}")
        return True

    def _dispatch(self, line: str) -> bool:
        if line.startswith("/"):
            return self._command(line)
        match = _SAY.match(line)
        if match is None:
            self.write(HELP[self._ui()])
            return True
        self._post(match["name"].strip(), match["text"], channel=match["channel"], staff=False)
        return True

    def _ui(self) -> str:
        return "fr" if self.language == "fr" else "en"

    def _say(self, key: str, **values: object) -> None:
        self.write(_TEXTS(key, self._ui(), **values))

    def _post(
        self,
        name: str,
        text: str,
        *,
        channel: str | None,
        staff: bool,
        reply_to: str | None = None,
    ) -> None:
        message = Message(
            platform=PLATFORM,
            community=self.community,
            channel=channel or self.channel,
            id=f"c{next(self._ids)}",
            # The console reports its facts (whoever types /staff is an admin here); the
            # core's StaffPolicy decides, as for every platform.
            author=Author(
                id=name.casefold(),
                name=name,
                standing=Standing(self.community, admin=True) if staff else None,
            ),
            text=text,
            created_at=self.clock.now(),
            reply_to=reply_to,
            mentions=tuple(m.casefold() for m in re.findall(r"@([\w-]+)", text)),
        )
        result = self.core.ingest(message)
        if not result.case_ids:
            # Every typed message shows its id: /open and replies refer to it.
            self._say("stored", message=message.id)
        for case_id in result.case_ids:
            case = self.core.cases.get(case_id)
            if result.outcome.value == "opened":
                self._say(
                    "opened",
                    message=message.id,
                    case=case.id,
                    kind=t(case.kind.value, self._ui()),
                    lang=case.language,
                    confidence=f"{case.confidence:.2f}",
                    reasons=", ".join(case.reasons[:3]),
                    target=self._target(case),
                    limit=format_time(case.due_at, self.tz),
                )
            elif result.outcome.value == "answered":
                self._say("answered", message=message.id, case=case.id, who=case.answered_by)
            elif result.outcome.value == "joined":
                self._say("joined", message=message.id, case=case.id)
            elif result.outcome is Outcome.REOPENED:
                self._say("reopened", message=message.id, case=case.id, target=self._target(case))
            else:
                self._say("stored", message=message.id)

    def _target(self, case: Case) -> str:
        # "Monday 10:00 (business hours)" where the community keeps hours; else the date.
        return self.core.cases.policy_of(case).describe_target(case.target_at, self._ui())

    def _command(self, line: str) -> bool:
        name, _, rest = line[1:].partition(" ")
        name = name.casefold()
        if name in {"quit", "exit", "q"}:
            return False
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            self.write(HELP[self._ui()])
        else:
            handler(rest.strip())
        return True

    def _case_id(self, text: str) -> int:
        token = text.split()[0] if text.split() else ""
        if not token.lstrip("#").isdigit():
            raise ConsoleInputError("need_case")
        return int(token.lstrip("#"))

    def _case(self, text: str) -> Case:
        case_id = self._case_id(text)
        case = self.core.cases.find(case_id)
        if case is None:
            raise ReviewError(Refusal.NO_CASE, case=case_id)
        return case

    def _cmd_help(self, _: str) -> None:
        self.write(HELP[self._ui()])

    def _cmd_cases(self, _: str) -> None:
        waiting = self.core.waiting()
        if not waiting:
            self._say("nobody")
        now = self.clock.now()
        ui = self._ui()
        for case in waiting:
            flag = f" {t('overdue', ui)}" if case.overdue(now) else ""
            flag = flag or (f" ({t('late', ui)})" if case.late(now) else "")
            self._say(
                "row",
                case=case.id,
                kind=t(case.kind.value, ui),
                name=case.author.name,
                target=self._target(case),
                flag=flag,
                excerpt=case.excerpt[:60],
            )

    def _where(self, community: str, channel: str) -> str:
        # The first community's channels are "#general"; another's name their community.
        return f"#{channel}" if community == COMMUNITY else f"{community} #{channel}"

    def _cmd_case(self, rest: str) -> None:
        case = self._case(rest)
        # The card speaks its own community's language.
        own = self.core.config.for_community(PLATFORM, case.community).community.language
        ui = "fr" if own == "fr" else "en"
        self.write(
            _TEXTS(
                "case",
                ui,
                case=case.id,
                kind=t(case.kind.value, ui),
                state=t(case.state.value, ui),
                lang=case.language,
                name=case.author.name,
                where=self._where(case.community, case.channel),
            )
        )
        self.write(f"  “{case.excerpt}”")
        view = self.core.card(case.id)
        if case.snoozed_until is not None and case.snoozed_until > self.clock.now():
            self.write(_TEXTS("snoozed_case", ui, until=format_time(case.snoozed_until, self.tz)))
        if view.in_doubt is not None:
            self.write(_TEXTS("in_doubt", ui, reply=view.in_doubt.id, case=case.id))
        for rank, suggestion in enumerate(case.suggestions, start=1):
            text = suggestion.text.replace("{moderator}", self.actor.name).replace("\n", "\n     ")
            source = self.core.ingestor.drafter.source_of(suggestion).describe(
                self.language, self.tz
            )
            self.write(f"  [{rank}] ({source})\n     {text}")
        if view.actions:  # the card's buttons, as commands: exactly what the core allows now
            self.write("  → " + " · ".join(f"/{_COMMANDS[a]} {case.id}" for a in view.actions))
        if view.helper_actions:
            self.write(_TEXTS("by_community", ui, case=case.id, who=case.answered_by))
            commands = (f"/{_HELPER_COMMANDS[a]} {case.id}" for a in view.helper_actions)
            self.write("  → " + " · ".join(commands))

    def send_reply(self, item: Outgoing) -> str:
        """Post an approved reply: the console "platform" is this terminal, posting is printing."""
        where = self._where(item.community, item.channel)
        header = _TEXTS(
            "sent", self._ui(), who=item.approved_by, where=where, message=item.reply_to
        )
        self.write(header + "\n    " + item.text.replace("\n", "\n    "))
        # Replies get their own numbers so that typed messages stay c1, c2, … in typing order.
        return f"r{next(self._sent)}"

    def _send(self, item: Outgoing) -> None:
        # The runtime's send path, inline: the console posts, the core's rule records the outcome.
        outcome: str | Exception
        try:
            outcome = self.send_reply(item)
        except Exception as exc:
            outcome = exc
        settle_send(self.core.review, item, outcome)

    def _cmd_approve(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) > 1 and not parts[1].isdigit():
            raise ConsoleInputError("need_choice")
        rank = int(parts[1]) - 1 if len(parts) > 1 else 0
        self._send(self.core.review.approve(self.actor, self._case_id(rest), suggestion_rank=rank))

    def _cmd_edit(self, rest: str) -> None:
        case_id = self._case_id(rest)
        text = rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else ""
        self._send(self.core.review.approve(self.actor, case_id, text=text))

    def _cmd_dismiss(self, rest: str) -> None:
        parts = rest.split()
        choices = [reason.value for reason in DismissReason]
        if len(parts) > 1 and parts[1] not in choices:
            raise ConsoleInputError("bad_reason", reason=parts[1], choices=", ".join(choices))
        reason = DismissReason(parts[1]) if len(parts) > 1 else DismissReason.NOT_A_REQUEST
        case = self.core.review.dismiss(self.actor, self._case_id(rest), reason)
        self._say("dismissed", case=case.id, reason=reason.value)

    def _cmd_snooze(self, rest: str) -> None:
        parts = rest.split()
        duration = _duration(" ".join(parts[1:])) if len(parts) > 1 else None
        case = self.core.review.snooze(self.actor, self._case_id(rest), duration)
        until = format_time(case.snoozed_until or self.clock.now(), self.tz)
        self._say("snoozed", case=case.id, until=until)

    def _cmd_open(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) != 2 or parts[1] not in ("question", "complaint"):
            raise ConsoleInputError("need_open")
        key = f"{PLATFORM}:{self.community}:{self.channel}:{parts[0]}"
        row = self.core.store.row(
            "SELECT key FROM messages WHERE platform = ? AND id = ?", (PLATFORM, parts[0])
        )
        case = self.core.review.open_by_hand(
            self.actor, row["key"] if row else key, Kind(parts[1]), suggester=self.core.suggester
        )
        self._say("by_hand", case=case.id, kind=t(case.kind.value, self._ui()))

    def _cmd_confirm(self, rest: str) -> None:
        case = self.core.review.confirm_helper(self.actor, self._case_id(rest))
        self._say("helper_confirmed", case=case.id)

    def _cmd_takeover(self, rest: str) -> None:
        case = self.core.review.take_over(self.actor, self._case_id(rest))
        self._say("assigned", case=case.id, who=case.assignee)

    def _cmd_solved(self, rest: str) -> None:
        # The member's button under the reply, typed: whoever `/as` made the console counts.
        self._feedback(rest, Feedback.SOLVED)

    def _cmd_stillhelp(self, rest: str) -> None:
        self._feedback(rest, Feedback.STILL_NEED_HELP)

    def _feedback(self, rest: str, feedback: Feedback) -> None:
        member = Actor(PLATFORM, self.actor.id, self.actor.name)
        case = self.core.review.member_feedback(member, self._case_id(rest), feedback)
        self._say(
            "feedback",
            case=case.id,
            state=t(case.state.value, self._ui()),
            target=self.core.cases.policy_of(case).describe_target(case.target_at, self._ui()),
        )

    def _cmd_mine(self, rest: str) -> None:
        case = self.core.review.assign(self.actor, self._case_id(rest))
        self._say("assigned", case=case.id, who=case.assignee)

    def _cmd_resolve(self, rest: str) -> None:
        case = self.core.review.resolve(self.actor, self._case_id(rest))
        self._say("resolved", case=case.id)

    def _cmd_staff(self, rest: str) -> None:
        match = _SAY.match(rest)
        if match is None:
            raise ConsoleInputError("need_staff")
        self._post(match["name"].strip(), match["text"], channel=match["channel"], staff=True)

    def _cmd_reply(self, rest: str) -> None:
        case = self._case(rest)
        match = _SAY.match(rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else "")
        if match is None:
            raise ConsoleInputError("need_reply")
        self._post(
            match["name"].strip(),
            match["text"],
            channel=case.channel,
            staff=True,
            reply_to=case.message_ids[0] if case.message_ids else None,
        )

    def _cmd_advance(self, rest: str) -> None:
        now = self.clock.advance(_duration(rest or "1h"))
        self.write(f"  🕑 {format_time(now, self.tz)}")
        for notice in self.core.tick(now):
            self.write(f"  {notice.text}")
            self.core.scheduler.mark_delivered(notice.id, now)
        for digest in self.core.digests.due(now):  # each community's, once, as the bot posts
            self.write(digest.text)
            self.core.digests.mark_delivered(digest.id, now)

    def _in_doubt(self, rest: str) -> Outgoing:
        case_id = self._case_id(rest)
        item = self.core.card(case_id).in_doubt
        if item is None:
            raise ConsoleInputError("nothing_in_doubt", case=case_id)
        return item

    def _cmd_posted(self, rest: str) -> None:
        item = self.core.review.confirm_sent(self.actor, self._in_doubt(rest).id)
        self._say("confirmed", reply=item.id, case=item.case_id)

    def _cmd_again(self, rest: str) -> None:
        self._send(self.core.review.retry_send(self.actor, self._in_doubt(rest).id))

    def show_replies_in_doubt(self) -> None:
        """After a restart, say which replies may not have been posted (never resent alone)."""
        for item in self.core.review.outbox(SendState.UNCONFIRMED):
            if item.platform == PLATFORM:
                self._say("in_doubt", reply=item.id, case=item.case_id)

    def _typed(self, rest: str) -> tuple[Message, str]:
        parts = rest.split(maxsplit=1)
        if not parts:
            raise ConsoleInputError("need_message")
        row = self.core.store.row(
            "SELECT * FROM messages WHERE platform = ? AND id = ?", (PLATFORM, parts[0])
        )
        if row is None:
            raise ConsoleInputError("unknown_message", message=parts[0])
        return message_from_row(row), parts[1] if len(parts) > 1 else ""

    def _cmd_edited(self, rest: str) -> None:
        message, text = self._typed(rest)
        if not text.strip():
            raise ConsoleInputError("need_message")
        result = self.core.edit(replace(message, text=text, edited=True), self.clock.now())
        self._say("edited", message=message.id)
        for case_id in result.case_ids:
            self._cmd_case(str(case_id))

    def _cmd_deleted(self, rest: str) -> None:
        message, _ = self._typed(rest)
        result = self.core.delete(PLATFORM, message.community, message.channel, message.id)
        if result.outcome is Outcome.WITHDRAWN:
            self._say("withdrawn", message=message.id, case=result.case_ids[0])
        else:
            self._say("deleted", message=message.id)

    def _cmd_report(self, _: str) -> None:
        self.write(self.core.report_text())

    def _cmd_community(self, rest: str) -> None:
        name = rest.strip()
        if not re.fullmatch(r"[\w-]{1,40}", name):
            raise ConsoleInputError("need_community")
        self.community = name
        self._say("community", name=name)

    def _cmd_as(self, rest: str) -> None:
        parts = shlex.split(rest)
        if not parts:
            raise ConsoleInputError("need_as")
        roles = frozenset(parts[1:])
        self.actor = console_actor(parts[0].casefold(), parts[0], roles, self.community)
        member = _TEXTS("member", self._ui())
        self._say("acting", name=parts[0], roles=", ".join(sorted(roles)) or member)


def _duration(text: str) -> timedelta:
    """A console duration: "2h", "1d12h", "3 weeks", "2 jours"; ConsoleInputError otherwise."""
    squeezed = text.strip().lower()
    amounts = _AMOUNT.findall(squeezed)
    if amounts and _AMOUNT.sub("", squeezed).strip() == "":
        minutes = 0
        for number, unit in amounts:
            if unit not in _UNITS:
                raise ConsoleInputError("bad_duration", text=text)
            minutes += int(number) * _UNITS[unit]
        if minutes > 0:
            return timedelta(minutes=minutes)
    try:
        return parse_duration(text, "advance")
    except ConfigError:
        raise ConsoleInputError("bad_duration", text=text) from None


def run_console(config: Config, *, database: str | None, stdin: IO[str], out: IO[str]) -> int:
    """Run the chat until end of input or /quit."""

    def write(text: str) -> None:
        print(text, file=out, flush=True)

    read = _line_reader(stdin, out)
    with tempfile.TemporaryDirectory() as tmp, _refusals_shown_once():
        clock = ManualClock(datetime.now(UTC))
        core = Huitaine(config, clock=clock, database=database or Path(tmp) / "console.db")
        session = ConsoleSession(core, clock, write)
        ui = "fr" if config.community.language == "fr" else "en"
        write(_TEXTS("banner", ui, name=config.community.name))
        try:
            while True:
                line = read()
                if line is None or not session.handle(line):
                    break
        finally:
            core.close()
    return 0


def _line_reader(stdin: IO[str], out: IO[str]) -> Callable[[], str | None]:
    """Lines from `stdin`; at a terminal, with line editing and history (readline)."""
    if not (stdin is sys.stdin and out is sys.stdout and stdin.isatty()):
        return lambda: stdin.readline() or None
    # Imported for its effect on input(): line editing and history. Windows has none.
    with suppress(ImportError):
        import readline  # noqa: F401

    def read() -> str | None:
        try:
            return input("> ")
        except EOFError:
            return None
        except KeyboardInterrupt:
            return "/quit"

    return read


@contextmanager
def _refusals_shown_once() -> Iterator[None]:
    """The console prints every refusal itself; the review desk's warning would repeat it.

    With -v (INFO) the log line stays, for whoever wants both.
    """
    review_log = logging.getLogger("bot.review")
    before = review_log.level
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        review_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        review_log.setLevel(before)
