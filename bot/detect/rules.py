"""Rule-based detection of questions and complaints in French and English chat messages.

Every rule is applied whatever the detected language, because members mix languages inside a
message. Matching runs on a normalised copy of the text: NFKC, zero-width and control characters
removed, casefolded and without accents, so "reçu", "recu" and "REÇU" all match the same cue.

Fixed phrases (the large majority of cues) are compiled into one trie-shaped regex that is scanned
once per message; a handful of regexes cover what phrases cannot (numbers, hyphenated inversion,
clause openings). This keeps the detector well above 20,000 short messages per second.

Scores combine independent pieces of evidence with a saturating formula, see `_combine`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.detect.language import LanguageIdentifier
from bot.models import Detection

# --- Limits -------------------------------------------------------------------------------------

# Requests and complaints are stated at the start of a message and sometimes summed up at the end;
# scanning only these parts bounds the cost of pasted logs or 100 kB spam.
HEAD_CHARS = 2000
TAIL_CHARS = 500
# Below this length a message made only of chat noise ("ok ?", "lol", "ça va ?") is not a question.
NOISE_MAX_CHARS = 40
MAX_REASONS = 8

# --- Weights ------------------------------------------------------------------------------------
# Each cue is evidence with a weight in [0, 1], read as the probability that it alone makes the
# message a question (or a complaint). A single ordinary cue reaches the 0.5 threshold; hints stay
# below it and only count when they add up with other evidence.

W_QUESTION_MARK = 0.75
W_INTERROGATIVE_STRONG = 0.75  # "est-ce que", "is there a way", "anyone know", "y a-t-il"
W_INVERSION = 0.7  # French verb-subject inversion: "pouvez-vous", "faut-il"
W_INTERROGATIVE = 0.6  # a clause opening with "how do", "pourquoi", "can you", "peux tu"
W_INTERROGATIVE_WEAK = 0.45  # ambiguous: "quand", "on peut", "how many" inside a sentence
W_REQUEST = 0.6  # "can you", "vous pouvez me", "help me", "dites-moi"
W_NEED = 0.55  # "je n'arrive pas à", "i can't figure out", "je cherche"
W_POLITE = 0.4  # "svp", "please": marks a request, not a question on its own

W_COMPLAINT_STRONG = 0.8  # "never arrived", "scam", "inadmissible", "charged twice"
W_COMPLAINT = 0.65  # "disappointed", "no response", "c'est pas normal", "nul"
W_COMPLAINT_WORD = 0.6  # "refund", "remboursement", "pas reçu"
W_MALFUNCTION = 0.55  # "not working", "ça marche pas", "bug", "en panne"
W_DISCONTENT = 0.5  # a negative judgement: "bad", "mauvais", "fiasco", "échec"
W_EXPECTATION = 0.5  # negated expectation: "should have arrived", "était censé", "promised"
W_WAITING = 0.5  # "for weeks", "depuis des jours", "3 semaines"
W_WAITING_DAYS = 0.4  # a few days is often a normal delivery time
W_WAITING_HOURS = 0.3
W_WAIT_PREFIX_BONUS = 0.1  # "depuis 3 jours", "for 2 weeks": the waiting is explicit
W_BARE_DURATION_FACTOR = 0.8  # a bare "3 weeks" may be a plan, not a wait
W_COMPLAINT_HINT = 0.35  # general negativity: "problème", "unfortunately", swearing, ":(", "?!"

# Intensity only amplifies existing complaint evidence: "HAPPY BIRTHDAY!!!" is no complaint.
W_CAPS = 0.3
W_BANGS = 0.25
# A cue repeated in one message ("refund ... refund") adds this fraction of its weight, at most
# MAX_REPEATS times.
REPEAT_FACTOR = 0.3
MAX_REPEATS = 2

QUESTION = "question"
COMPLAINT = "complaint"


def _combine(weights: Iterable[float]) -> float:
    """Noisy-OR of independent evidence: 1 - prod(1 - w_i).

    It saturates towards 1 as evidence accumulates, never leaves [0, 1], ignores order, and a lone
    cue of weight w scores exactly w, which keeps the weights above readable.
    """
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return min(1.0, max(0.0, 1.0 - remaining))


# --- Normalisation ------------------------------------------------------------------------------

_TRANSLATION: dict[int, str | None] = {
    # Invisible format characters, pasted from web pages or used to dodge filters.
    **{cp: None for cp in range(0x200B, 0x2010)},
    **{cp: None for cp in range(0x202A, 0x202F)},
    **{cp: None for cp in range(0x2060, 0x2070)},
    0x00AD: None,
    0x034F: None,
    0x061C: None,
    0x180E: None,
    0xFEFF: None,
    # Control characters (NUL included) separate words rather than vanish.
    **{cp: " " for cp in range(0x00, 0x20) if cp not in (0x09, 0x0A, 0x0D)},
    **{cp: " " for cp in range(0x7F, 0xA0)},
    # Lone surrogates (from broken JSON) cannot be encoded and would crash downstream code.
    **{cp: None for cp in range(0xD800, 0xE000)},
    0x2028: "\n",
    0x2029: "\n",
    # Phones type typographic apostrophes; the rules use the ASCII one.
    0x2019: "'",
    0x2018: "'",
    0x02BC: "'",
    0x00B4: "'",
    0x0060: "'",
    0x2032: "'",
    # Question marks of other scripts; NFKC already folds the fullwidth one.
    0x061F: "?",
    0x00BF: "?",
    0x2E2E: "?",
}
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "\u0131": "i"})
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_URL = re.compile(r"(?:https?://|www\.)\S*")
# Discord/Telegram mentions name brands and people ("@FC_Help"); their words are not the message's.
_MENTION = re.compile(r"<[@#][!&]?\d+>|@\w+")
_SPACES = re.compile(r"[ \t]+")


def _bound(text: str) -> str:
    if len(text) > HEAD_CHARS + TAIL_CHARS + 1:
        return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]
    return text


def _clean(text: str) -> str:
    """Bound, NFKC-normalise and strip invisible characters; case and accents are kept."""
    # Bounded again after NFKC, which expands some characters eighteenfold.
    return _bound(unicodedata.normalize("NFKC", _bound(text).translate(_TRANSLATION)))


def _fold(cleaned: str) -> str:
    """Casefold, strip accents, drop URLs and mentions: the text every rule matches against."""
    folded = cleaned.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFD", folded)).translate(_LIGATURES)
    if "://" in folded or "www." in folded:
        folded = _URL.sub(" ", folded)
    if "@" in folded or "<#" in folded:
        folded = _MENTION.sub(" ", folded)
    if "#" in folded:
        folded = folded.replace("#", " ")
    return _SPACES.sub(" ", folded).strip()


# --- Phrase lexicons ----------------------------------------------------------------------------

_BRACES = re.compile(r"\{([^{}]*)\}")
# Shared word classes, written <NAME> inside templates.
_MACROS = {
    "<SUBJ_EN>": "{i|you|u|ya|we|he|she|it|they|there|this|that|these|those|anyone|anybody"
    "|someone|somebody|any of you|y'all|yall|my|your|ur|the|a|an|any|all|everyone|everybody"
    "|people|me|ppl}",
    "<PERSON_EN>": "{i|you|u|ya|we|he|she|it|they|there|anyone|anybody|someone|somebody"
    "|any of you|y'all|yall|everyone|everybody}",
    "<AUX_EN>": "{is|are|am|was|were|do|does|did|don't|dont|doesn't|doesnt|didn't|didnt|isn't"
    "|isnt|aren't|arent|wasn't|wasnt|can|could|would|will|should|shall|may|might|can't|cant"
    "|won't|wont|wouldn't|wouldnt|couldn't|couldnt|shouldn't|shouldnt|has|have|had|hasn't"
    "|hasnt|haven't|havent|r}",
    "<ANYONE_EN>": "{anyone|anybody|any one|any1|ne1}",
    "<SOMEONE_EN>": "{anyone|anybody|any one|any1|ne1|someone|somebody|some one}",
    "<SUBJ_FR>": "{vous|tu|il|elle|on|ils|elles|je|j'|nous}",
    "<SOMEONE_FR>": "{quelqu'un|quelqu un|quelquun|quelqun|qqn|qqun|qq1|quelqu1|kelkun|qlqn}",
    "<RECEIVED_FR>": "{recu|recue|recus|recues|arrive|arrivee|arrives|arrivees|livre|livree"
    "|livres|livrees|eu|eu de reponse|eu de nouvelles|eu de retour|eu mon remboursement"
    "|rembourse|remboursee}",
    "<RECEIVED_EN>": "{received|receive|recieved|got|gotten|arrived|arrive|come|came"
    "|been delivered|been refunded|heard back|heard anything|heard from|been contacted"
    "|had a reply|had a response|had any reply|had any response|shown up|showed up|turned up}",
}


def _templates(block: str) -> list[str]:
    """One template per line; a line starting with '|' continues the previous one, '+' too but
    after a space. Macros are substituted."""
    templates: list[str] = []
    for raw in block.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line[0] == "|":
            templates[-1] += line
        elif line[0] == "+":
            templates[-1] += " " + line[1:].strip()
        else:
            templates.append(line)
    for name, value in _MACROS.items():
        templates = [template.replace(name, value) for template in templates]
    return templates


def _expand(template: str) -> list[str]:
    """Expand "a {b|c|} d" into its spellings: "a b d", "a c d", "a d"."""
    parts = _BRACES.split(template)
    # Odd indexes are the insides of braces.
    choices = [part.split("|") if i % 2 else [part] for i, part in enumerate(parts)]
    return [" ".join("".join(combo).split()) for combo in itertools.product(*choices)]


@dataclass(frozen=True, slots=True)
class _Cue:
    kind: str
    weight: float  # 0 marks an exclusion: the phrase hides shorter cues it contains
    reason: str  # a template: "{}" becomes the matched phrase
    negatable: bool = False


class _TrieNode:
    __slots__ = ("children", "terminal")

    def __init__(self) -> None:
        self.children: dict[str, _TrieNode] = {}
        self.terminal = False


def _trie_regex(phrases: Iterable[str]) -> str:
    """A regex matching any of `phrases`, longest first, with shared prefixes factored out.

    Python's `re` tries alternatives one by one; a trie lets it reject most positions after one
    character instead of trying thousands of phrases.
    """
    root = _TrieNode()
    for phrase in phrases:
        node = root
        for char in phrase:
            node = node.children.setdefault(char, _TrieNode())
        node.terminal = True

    def emit(node: _TrieNode) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.children.items())]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # Greedy optional: the longer phrase wins, the shorter one is the fallback.
        return f"(?:{body})?" if node.terminal else body

    return emit(root)


# A phrase ending in an apostrophe ("est-ce qu'") is glued to the next word.
_PHRASE_END = r"(?:(?<=')|(?!\w))"


class _Lexicon:
    """Phrases mapped to cues, matched at word boundaries."""

    def __init__(self) -> None:
        self.cues: dict[str, list[_Cue]] = {}

    def add(self, kind: str, weight: float, reason: str, block: str, *, neg: bool = False) -> None:
        """Register every spelling of the templates in `block` as evidence for `kind`."""
        cue = _Cue(kind, weight, reason, neg)
        for template in _templates(block):
            for phrase in _expand(template):
                bucket = self.cues.setdefault(phrase, [])
                same = [i for i, existing in enumerate(bucket) if existing.kind == kind]
                if not same:
                    bucket.append(cue)
                elif weight == 0.0:
                    # An exclusion overrides whatever a broader template produced.
                    bucket[same[0]] = cue

    def scanner(self) -> re.Pattern[str]:
        """Regex finding, at every word start, the longest phrase starting there."""
        return re.compile(rf"(?<!\w)(?=({_trie_regex(self.cues)}){_PHRASE_END})")

    def opening(self) -> re.Pattern[str]:
        """Regex matching a phrase at the start of a clause."""
        return re.compile(rf"(?:{_trie_regex(self.cues)}){_PHRASE_END}")


Q, C = QUESTION, COMPLAINT

# Cues found anywhere in the message.
_ANY = _Lexicon()
_ANY.add(
    Q,
    W_INTERROGATIVE_STRONG,
    "en interrogative '{}'",
    """
    <SOMEONE_EN> {know|knows|kno|knw|have|has|got|tried|seen|heard|experienced|using|wanna|want
    |able|had|around|online|awake|free|interested|up for|mind}
    {does|do|did|has|have|is|was} <ANYONE_EN>
    {can|could|would|will} <SOMEONE_EN>
    {does|do|did|have|are|can|could} {any of you|you guys|u guys|y'all|yall|you all}
    is there {a|any} way
    is there any
    {is|would} it {be |}possible
    is this possible
    {wondering|wonder|i wonder|i was wondering|i'm wondering|im wondering}
    + {if|whether|why|how|what|when|where|who}
    any {idea|ideas|clue|tips|suggestions|suggestion|advice|update|updates|news|help
    |recommendations|thoughts|eta}
    {quick|a|one|small|little|stupid|dumb|silly|noob|simple|random} question
    i {have|got|had} a question
    question for
    what is the {best|way|difference|status|point|price|cost|deadline|eta|reason|problem}
    {is|are} {it|this|that} {normal|true|ok|okay|safe|free|worth it}
    {am i|are we} the only one
""",
)
_ANY.add(
    Q,
    W_INTERROGATIVE,
    "en interrogative '{}'",
    """
    how {do|can|could|should|would} {i|we|you|u|one}
    where {can|do|should|could} {i|we|you|u|one}
    what {should|can|could} {i|we|you|u|one}
    what do {i|we} {do|need}
""",
)
_ANY.add(
    Q,
    W_INTERROGATIVE_WEAK,
    "en interrogative '{}'",
    """
    how to
    how {long|much|many|often}
""",
)
_ANY.add(
    Q,
    W_REQUEST,
    "request '{}'",
    """
    {can|could|would|will} {you|u|ya} {please |pls |plz |}
    {can|could|may} {i|we} {please |pls |plz |}
    {please|pls|plz} {help|advise|assist|check|confirm|explain|tell|send|fix|look|reply|respond
    |answer|update|call|contact|dm|let me know|get back}
    help me
    {help|helps} {please|pls|plz|needed|wanted}
    {i |we |}{need|needed|want|require} {help|some help|your help|assistance|advice|support}
    let me know
    tell me {how|what|where|when|why|who|which|if|whether}
    {do|would} you mind
    {i'd|i would|i want to|i wanna} like to know
    i want to know
""",
)
# Rhetorical: "can you believe this weather".
_ANY.add(Q, 0.0, "", "{can|could} {you|u} {believe|imagine}")
_ANY.add(
    Q,
    W_NEED,
    "need '{}'",
    """
    {i|we} {can't|cant|cannot|can not|couldn't|couldnt} {seem to|figure|find|get|log|sign|access
    |login|connect|pay|open|install|download|see|use|remember|work out|understand|reach|change
    |reset|update|cancel|buy|register|join|verify|withdraw}
    {i'm|im|i am|we're|we are} {unable to|not able to|stuck}
    {i|we} {don't|dont|do not} know {how|where|which|who|what to|whether to|if i|who to|why}
    {i|we} {don't|dont|do not} {understand|get} {how|why|what|where|which}
    not sure {how|where|why|if|whether|which|what to}
    {i'm|im|i am} looking for
    trying to {figure|find|work out|understand}
""",
)
_ANY.add(Q, W_INTERROGATIVE_WEAK, "need '{}'", "{i'm|im|i am} {confused|lost|not sure how}")
_ANY.add(
    Q,
    W_POLITE,
    "polite request '{}'",
    """
    {please|pls|plz|plse|plss|kindly|thanks in advance|thx in advance}
    {svp|stp|svpl|s'il vous plait|s'il te plait|s il vous plait|s il te plait|sil vous plait}
    {sil te plait|svp!}
    merci {d'avance|d avance|davance|par avance|de votre aide|pour votre aide}
""",
)
_ANY.add(
    Q,
    W_INTERROGATIVE_STRONG,
    "fr interrogative '{}'",
    """
    {est-ce|est ce|estce|esce|esque|eske|est-ce-que} {que|qu'|qu|k|ke}
    {eske|esque}
    {qu'est|qu est|quest|kes}{-ce| ce}{| que| qu'| qui}
    {c'est|c est|cest|c} quoi
    {ca|ce|cela|} veut dire quoi
    {je|j'|on|tu|vous|il|ils|elle|nous} {fait|fais|font|faites|doit|dois|doivent|devons|devez
    |peut|peux|pouvons|pouvez|mets|met|choisis|prends} quoi
    {n'est|n est|nest}{-| }ce pas
    {y a|ya|y'a|il y a|y-a}{-| |}{t|t'}{-| |}il
    a{-| }t{-| }{on|il|elle}
    comment {faire|on fait|on peut|je peux|je fais|j'fais|je dois|ca marche|ca se fait
    |ca fonctionne|fonctionne|marche|puis-je|dois-je|peut-on|se fait|se passe|s'y prendre
    |proceder|obtenir|avoir|recevoir|payer|annuler|changer|modifier|contacter|joindre|acceder
    |installer|telecharger|activer|supprimer|reinitialiser|recuperer|utiliser|trouver
    |ca se passe|vous faites|tu fais|faites-vous|fais-tu|ca va se passer}
    <SOMEONE_FR> {sait|sais|saurait|a|aurait|peut|pourrait|connait|connaitrait|d'autre|d autre
    |ici|pour|qui|a deja|aurait deja|a une idee|a la solution|peut m'aider|pourrait m'aider
    |d'entre vous|pour m'aider|peut me dire|pourrait me dire|a eu|a le meme}
    {c'est|c est|cest|ce serait|ca serait|ce sera|est-il|est il|serait-il|serait il} possible
    possible {de savoir|d'avoir|d avoir|de recevoir|d'obtenir|de changer|d'annuler|de modifier}
    {je|j'} {voudrais|voudrai|veux|voulais|souhaiterais|souhaite|souhaitais|aimerais|aimerai}
    + {savoir|connaitre|comprendre|une info|des infos|une information|des informations
    |un renseignement|des renseignements|des precisions|une precision}
    {j'aimerais|j aimerais|jaimerais|j'aimerai|jaimerai} {savoir|connaitre|comprendre}
    {je me|on se} {demande|demandais|demandait}
    {j'ai|j ai|jai} une {question|petite question|question bete}
    petite question
    question {bete|rapide|con}
    {lequel|laquelle|lesquels|lesquelles} {est|sont|choisir|prendre|je|vous|tu|faut}
""",
)
_ANY.add(
    Q,
    W_INTERROGATIVE,
    "fr interrogative '{}'",
    "{pourquoi|combien}\n{c'est|c est|cest|ce sera|ca sera|ca serait} pour quand",
)
# "c'est pourquoi" is "that is why", "pourquoi pas" a suggestion: as longer phrases they hide
# "pourquoi".
_ANY.add(Q, 0.0, "", "{c'est|c est|cest|voila|voici|voila donc} pourquoi\npourquoi pas")
# "quelqu'un a oublié un pull à l'atelier": someone did something, a statement (a "?" still asks).
_SOMEONE_DID = (
    "<SOMEONE_FR> a {oublie|laisse|perdu|ramene|apporte|poste|partage|gagne|fini|renomme}"
)
_ANY.add(
    Q,
    0.0,
    "",
    _SOMEONE_DID,
)
_ANY.add(
    Q,
    W_INTERROGATIVE_WEAK,
    "fr interrogative '{}'",
    """
    {c'est|c est|cest|est-ce|est ce} normal {que|qu'|qu}
""",
)
_ANY.add(
    Q,
    W_REQUEST,
    "fr request '{}'",
    """
    {vous pouvez|vous pourriez|tu peux|tu pourrais|tu pourras|vous pourrez|pourriez vous
    |pourrais tu|pouvez vous|peux tu|vous savez|tu sais|tu saurais|vous sauriez|tu connais
    |vous connaissez|vous avez|tu as|vous auriez|tu aurais} {me|m'|m|nous|svp|stp|m'aider|aider
    |regarder|verifier|envoyer|rappeler|expliquer|dire|confirmer|indiquer|debloquer|rembourser
    |annuler|changer|modifier|repondre|renvoyer|contacter|recontacter|donner|conseiller
    |comment|ou|si|quand|pourquoi|combien|quel|quelle|quels|quelles|un lien|le lien|une idee}
    {aidez|aide|aider|rappelez|recontactez|contactez|dites|dis|tenez|expliquez|explique
    |envoyez|envoie}{-| }moi
    {besoin|besoins} {d'aide|d aide|daide|d'un coup de main|d un coup de main|de vous
    |de votre aide|d'info|d'infos|d'informations|de conseils|d'un conseil|d'un renseignement}
    un coup de main
    {aide|help|aidez moi} {svp|stp|please|pls|urgent}
    merci de {me|m'|m|nous|bien vouloir|verifier|regarder|faire le necessaire}
    {pourriez|pourrais|pouvez|peux|sauriez|savez|auriez|avez}{-| }{vous|tu} {me|m'|nous|svp}
""",
)
_ANY.add(Q, W_INTERROGATIVE_WEAK, "fr request '{}'", "{vous pouvez|vous pourriez|tu peux}")
_ANY.add(
    Q,
    W_NEED,
    "fr need '{}'",
    """
    {je n'|je n |je n|jn'|jn |j'|j |j|je }{y |y'|}{arrive|arrives|arrivons|arrivais|reussis
    |parviens|parvient} {pas|plus|toujours pas|jamais|pas a|pas du tout|vraiment pas
    |toujours pas a}
    {on n'|on n |on }{y |}arrive {pas|plus}
    {je ne |j'|j|je |jne |j'n |j' }{peux|peut|sais|trouve|comprends|comprend|vois|parviens}
    + {pas|plus} {a|comment|quoi|ou|si|pourquoi|quand|qui|a qui|le|la|les|mon|ma|mes|me|ce
    |ou est|ou sont|d'ou|acceder|payer|me connecter|valider|trouver|ouvrir|telecharger
    |installer|utiliser}
    {je ne|je|j'|j|jne} comprends {pas|rien|toujours pas}
    {jsp|chais pas|chai pas|jsais pas|j'sais pas|sais pas} {comment|quoi|ou|si|pourquoi|quand}
    {impossible|pas moyen|pas possible} {de|d'|d}
    {je|j'|on|nous} {cherche|recherche|cherchons}
    {je suis|on est|nous sommes} {bloque|bloquee|bloques|coince|coincee}
""",
)

_ANY.add(
    C,
    W_COMPLAINT_STRONG,
    "complaint '{}'",
    """
    still waiting
    still {haven't|have not|havent|hasn't|has not|hasnt|didn't|did not|didnt|not|no|never
    |nothing|don't|dont|do not} {received|receive|recieved|got|gotten|get|arrived|arrive|come
    |came|heard|here|delivered|refunded|response|reply|answer|resolved|fixed|working|sorted
    |update|sign|word|refund|shipped|been|shown up|showed up|turned up}
    still {getting|being} {charged|billed|debited}
    never {arrived|received|recieved|came|got|showed up|shown up|delivered|turned up|heard back
    |responded|replied|answered|refunded|got back|called back|shipped}
    {haven't|have not|havent|hasn't|has not|hasnt|didn't|did not|didnt|never} <RECEIVED_EN>
    {scam|scammed|scammer|scammers|scams|scamming|fraud|fraudulent|ripped off|rip off|rip-off
    |ripoff|stole|stolen|theft|thieves|con artists}
    {charged|charging|billed|billing|debited|paid} {me |us |}{twice|two times|2 times|double|2x
    |three times|again}
    {double |doubled |double-}{charged|billed|charge|billing}
    {overcharged|over charged}
    {unacceptable|inexcusable|disgraceful|outrageous|appalling|disgusting|shameful
    |daylight robbery}
    {is|was|it's|its|this|that's|thats|what|such|absolute|total|complete} {a|} {joke|nightmare
    |shambles|disgrace|scandal|rip off|farce}
    waste of {time|money|space|effort}
    {wasted|wasting} {my|our|hours|time|money|days}
    complete waste
    never {again|buying|ordering|using|flying|shopping|recommend}
    {nobody|no one|noone|nobody's|no-one} {answers|answered|answer|replies|replied|reply
    |responds|responded|respond|helps|helped|help|cares|called|calls|got back|gets back
    |has gotten back|has got back|is answering|is responding|picks up|picked up|is helping
    |seems to care|bothered}
    thanks for {nothing|ruining|wasting|the runaround}
""",
)
_ANY.add(
    C,
    W_COMPLAINT,
    "complaint '{}'",
    """
    no {response|responses|reply|replies|answer|answers|update|updates|word|feedback|follow up
    |followup|callback|call back|help|support|contact|communication|one answers|resolution
    |sign of|explanation}
    {not|stop|stopped} {answering|responding|replying|helping}
    {ignored|ignoring} {me|us|my}
    been ignored
    {on hold|been on hold|kept on hold|locked out}
    {still nothing|still no|nothing yet|still not|still can't|still cant|still cannot
    |still won't|still wont|still doesn't|still doesnt|still isn't|still broken|yet again
    |once again|again and again}
    {worst|terrible|awful|horrible|horrendous|atrocious|pathetic|useless|worthless|rubbish
    |garbage|trash|crap|crappy|shitty|lousy|dreadful|incompetent|incompetence|unprofessional
    |rude|sucks|suck|sucked|ridiculous|absurd|shocking|disappointed|disappointing
    |disappointment|dissatisfied|unhappy|frustrated|frustrating|annoyed
    |annoying|angry|furious|livid|upset|pissed|fuming|gutted|unfair|worse|misleading
    |deceiving|deceptive|lied to|lying to|liars|messed up|screwed|screwed up|fed up|sick of
    |tired of|had enough|poor service|bad service|poor quality|bad quality|so mad
    |poor customer service|bad customer service|terrible service|awful service|ruined
    |ruining|on my nerves}
    sick and tired
    {not happy|not impressed|not good enough|not acceptable|not ok|not okay|not fair
    |not right|not satisfied|unimpressed|not pleased}
    {are you|r u|you} {kidding|joking|serious}
    {complaint|complain|complaining|complained|formal complaint}
    {lost|lose|losing|misplaced} {my|our|the} {package|parcel|order|luggage|bag|bags|suitcase
    |delivery|money|data|account|files|progress|items}
    {sent|sending|send|received|got|delivered|gave|given|shipped} {me |us |}{the|a} wrong
""",
    neg=True,
)
_ANY.add(
    C,
    W_COMPLAINT_WORD,
    "complaint word '{}'",
    """
    {refund|refunds|refunded|refunding|my money back|money back|chargeback|charge back
    |reimburse|reimbursement|compensation}
    {cancel|cancelling|canceling|close|terminate} my {order|subscription|account|membership
    |contract|booking|plan}
    {want|wanna|going} to cancel
    {i'm|im|i am} cancelling
    wrong {item|order|size|product|address|colour|color|one|amount|charge|delivery|parcel}
""",
)
_ANY.add(
    C,
    W_MALFUNCTION,
    "malfunction '{}'",
    """
    {doesn't|does not|doesnt|don't|dont|do not|didn't|did not|didnt|isn't|is not|isnt|aren't
    |are not|not|never|stopped|stop|keeps|keep|won't|wont|will not|can't|cant|cannot} {work
    |works|working|load|loading|open|opening|start|starting|connect|connecting|respond
    |responding|crashing|turn on|charge|charging|sync|syncing|update|updating|let me|accept
    |accepting|log me in|showing|showing up|appearing|displaying|arriving|failing|freezing
    |disconnecting|dropping|happening}
    {can't|cant|cannot|unable to} {log in|login|sign in|access|connect|pay|checkout|check out}
    {didn't|did not|didnt|won't|wont|doesn't|doesnt|not} {go|going|goes} through
    {taking|takes|taken|take|took} {so long|forever|ages|too long|this long}
    {broken|broke|crashed|crashes|crashing|faulty|defective|damaged|malfunction
    |malfunctioning|glitch|glitches|glitchy|buggy|bug|bugs|is down|went down|down again|outage
    |freezes|froze|frozen|stuck|failed|fails}
""",
    neg=True,
)
_ANY.add(
    C,
    W_EXPECTATION,
    "negated expectation",
    """
    {should|shouldve|should've|would|could} {have|of} {been|arrived|received|got|come|gotten
    |had|heard|shipped|delivered|known|told}
    {should've|shouldve} {been|arrived|received|got|come}
    {supposed|meant} to {be|arrive|have|get|come|ship|work|receive}
    {was|were|i was|we were|been} {promised|assured|guaranteed}
    {you|they|he|she} {promised|said it would|said i would}
    {expected|expecting} {it|to|my|better|more|delivery|a reply|a response}
    {was|were|is} due {on|to|yesterday|last|by|today}
""",
)
_ANY.add(
    C,
    W_COMPLAINT_STRONG,
    "fr complaint '{}'",
    """
    toujours pas <RECEIVED_FR>
    {j'ai|jai|j ai|je n'ai|on a|on n'a|nous n'avons} toujours {pas|rien|pas eu|pas de}
    toujours rien
    toujours rien {recu|eu|de nouveau}
    toujours {aucune|aucun|pas de|sans} {reponse|nouvelle|nouvelles|retour|colis|commande
    |remboursement|solution|suivi}
    jamais {recu|recue|recus|arrive|arrivee|livre|livree|eu|eu de reponse|rembourse|repondu
    |eu de retour|eu de nouvelles}
    {j'attends|j attends|jattends|j'attend|j attend|jattend|nous attendons|on attend}
    + {toujours|encore|depuis|toujours pas|toujours mon|toujours ma|toujours le|toujours la}
    {je n'ai|je nai|je n ai|j'ai|jai|j ai|nous n'avons|on n'a|on a|on n a} {toujours pas|pas
    |jamais|rien|toujours rien|pas encore|toujours} {recu|recue|recus|eu de reponse
    |eu de nouvelles|eu de retour|eu mon remboursement|ete rembourse|ete remboursee|ete livre
    |ete livree|rien recu}
    {rien|rien du tout} {recu|eu}
    {inadmissible|inacceptable|intolerable|honteux|honteuse|une honte|la honte|quelle honte
    |scandaleux|scandaleuse|scandale|arnaque|arnaques|arnaquer|arnaquee|arnaqueur|arnaqueurs
    |escroquerie|escroqueries|escroc|escrocs|escroque|escroquee|voleurs|foutage de gueule
    |se fout de|se foutent de|se moque de|se moquent de|vous moquez|lamentable|pitoyable
    |minable|catastrophique|une catastrophe|deplorable|degueulasse|degoutant|honte a vous}
    {debite|debitee|preleve|prelevee|facture|facturee|paye|payee|payer|charge} {deux fois
    |2 fois|2x|deux|en double|double|trois fois|3 fois}
    {double|doubles} {debit|prelevement|prelevements|paiement|facturation}
""",
)
_ANY.add(
    C,
    W_COMPLAINT,
    "fr complaint '{}'",
    """
    pas {encore |}{recu|recue|recus|arrive|arrivee|livre|livree|eu de reponse|eu de nouvelles}
    {pas de|aucune|aucun|sans|jamais de|zero} {reponse|reponses|nouvelles|nouvelle|retour
    |suivi|nouvelles de|contact|solution}
    personne {ne |n'|}{repond|me repond|nous repond|rappelle|m'aide|ne m'a|ne nous a|repond
    |m'a repondu|decroche|ne decroche}
    silence radio
    {nul|nulle|nuls|nulles|naze|nase|pourri|pourrie|pourris|merdique|horrible|affreux|affreuse
    |pire|decu|decue|decus|decues|decevant|decevante|deception|decoit|mecontent|mecontente
    |insatisfait|insatisfaite|marre|ras le bol|ras-le-bol|raslebol|j'en ai assez|en ai assez
    |en peux plus|saoule|soule|gonfle|agace|agacee|enerve|enervee|enervant|furieux|furieuse
    |en colere|exaspere|exasperee|exasperant|ridicule|incompetent|incompetents|incompetence
    |inutile|galere|c'est abuse|vous abusez|abusent|n'importe quoi|nimporte quoi|n importe quoi
    |ca craint
    |a chier|une blague|se fiche de|mensonge|mensonges|menteur|menteurs|menteuse|magouille
    |magouilles}
    pas {content|contente|contents|satisfait|satisfaite|satisfaits|serieux|professionnel
    |acceptable|tolerable|normal}
    {c'est|c est|cest|ce n'est|ce nest|ce n est|n'est|nest|n est} pas normal
""",
    neg=True,
)
# "nulle part" is "nowhere"; "pas mal" and "pas pire" mean "not bad"; "my bad" is an apology.
_ANY.add(
    C,
    0.0,
    "",
    """
    nulle part
    {marche|fonctionne|passe} pas mal
    pas pire
    my bad
""",
)
_ANY.add(
    C,
    W_COMPLAINT_WORD,
    "complaint word '{}'",
    """
    {rembourse|remboursez|rembourser|remboursement|remboursements|rembourses|remboursee}
    {resilier|resiliation|resilie|je resilie}
    annuler {mon|ma} {abonnement|compte|contrat|commande|forfait}
    {plainte|porter plainte|reclamation|reclamations|litige|mediateur|avocat|que choisir}
    {perdu|perdue|egare|egaree} {mon|ma|mes|le|la|les} {colis|commande|paquet|bagage|valise}
    {colis|commande|paquet} {perdu|perdue|egare|egaree|introuvable|bloque|bloquee}
""",
)
_ANY.add(
    C,
    W_MALFUNCTION,
    "fr malfunction '{}'",
    """
    {ne |n'|n|}{marche|marchent|fonctionne|fonctionnent|fonctione|foncionne|fonctionnne
    |marcher|fonctionner} {pas|plus|toujours pas|jamais|pas du tout|mal|toujours mal}
    {ne |n'|n|}{passe|passent} {pas|plus|toujours pas|jamais}
    {est|sont|site|serveur|server|is|are} down
    {prend|prennent|met|mettent} {trop de temps|une eternite|des plombes|un temps fou}
    {ca|sa|l'appli|l'application|l'app|le site|le jeu|tout|il|elle|le bot|le serveur|le lien}
    + {plante|a plante|crash|crashe|bug|bugue|beug|rame|lag|lague|freeze|bloque|deconne}
    {bug|bugs|bugue|buggue|bugge|beug|beugue|en panne|hors service|casse|cassee|defectueux
    |defectueuse|endommage|endommagee|abime|abimee|bloque|bloquee|ne s'ouvre pas
    |ne charge pas|ne se lance pas|ne se connecte pas|ne s'affiche pas|ne repond pas
    |ne s'allume pas|pas moyen}
""",
    neg=True,
)
_ANY.add(
    C,
    W_EXPECTATION,
    "negated expectation",
    """
    {aurait|aurais|aurai|auraient|aurions|aurait deja|aurais deja} {du|deja du|pu}
    {devait|devaient|devais|devrait|devraient} {arriver|etre|etre livre|etre livree
    |etre la|etre rembourse|me rembourser|me rappeler|me repondre|recevoir|m'etre}
    {etait|etais|etaient|est|suis} {cense|censee|censes|prevu|prevue|prevus|promis|promise}
    {cense|censee} {arriver|etre|recevoir|marcher|fonctionner}
    on {m'a|m'avait|nous a|nous avait|m a|m avait} {dit|promis|assure|garanti|annonce}
    {soi-disant|soi disant|soit disant|soit-disant}
    {vous avez|tu as|ils ont} promis
""",
)
_ANY.add(
    C,
    W_WAITING,
    "waiting time '{}'",
    """
    for {ages|days|weeks|months|so long|a long time|forever|hours now|days now|weeks now}
    {days|weeks|months} now
    {depuis|ca fait|cela fait|ca fait des|il y a des} {des jours|des semaines|des mois
    |longtemps|une eternite|des lustres|plusieurs jours|plusieurs semaines|plusieurs mois
    |trop longtemps|jours|semaines|mois|un moment}
    {des|plusieurs} {semaines|mois} {que|sans|d'attente}
    {over|more than} a {week|month}
    {depuis|ca fait|cela fait|plus d'|plus de} {une|un} {semaine|mois}
""",
)
_ANY.add(
    C,
    W_DISCONTENT,
    "discontent '{}'",
    """
    {too bad|mauvais|mauvaise|mauvaises|fiasco|gachis|echec|failure|colere|non-sens
    |non sens|incoherent|incoherence|what a shame|such a shame|quel dommage|c'est dommage
    |so sad|dommage que|pitiful|shame on}
""",
    neg=True,
)
_ANY.add(
    C,
    W_COMPLAINT_HINT,
    "complaint hint '{}'",
    """
    {problem|problems|issue|issues|trouble|fail|bad|poor|hate|hated|sad|unfortunately|sadly
    |late|delayed|delay|delays|missing|fuck|fucking|fucked|shit|damn|bullshit|wtf|wth|smh
    |seriously|what the heck|what the hell|why is|why are|why does|why do|why did|why has
    |how long does|how much longer|customer service|customer care|error|errors|died|dead
    |mad}
    {probleme|problemes|souci|soucis|malheureusement|helas|dommage|triste|inquiet|inquiete
    |inquietant|peur|hypocrite|hypocrisie|absurde|stupide|debile|merde|putain|bordel|chier
    |fait chier|fais chier|retard|en retard|toujours pas|encore une fois|service client
    |service apres vente|sav|attente|j'attends|j attends|jattends|danger|dangereux|desastre
    |desastreux|grave|menace|honte|erreur|erreurs}
""",
    neg=True,
)
# A why-question with a negation ("why won't it...", "pourquoi ça ne marche pas") protests.
_ANY.add(
    C,
    W_DISCONTENT,
    "complaint '{}'",
    """
    why {can't|cant|won't|wont|isn't|isnt|doesn't|doesnt|hasn't|hasnt|haven't|havent|didn't
    |didnt|aren't|arent|wasn't|wasnt|is it not|is there no|no}
    pourquoi {ca ne|ca n'|on ne|on n'|je ne|je n'|vous ne|vous n'|il n'y a pas|y a pas|ya pas}
""",
)

# Cues at the start of a clause (after greetings, fillers and an optional "name,").
_OPEN = _Lexicon()
_OPEN.add(
    Q,
    W_INTERROGATIVE,
    "en interrogative '{}'",
    """
    {how|what|where|when|why|who|which|whose|whom} <AUX_EN>
    how {many|much|long|often|far|old|big|about|come|else|to|so}
    why so
    what {time|kind|type|sort|about|if|else|for|now|happened|happens|day|size|color|colour
    |version|number|price|year|age|u|you|ya|ur|your}
    {where|why|who} <SUBJ_EN>
    wen <AUX_EN>
    where {to|abouts|else}
    {who|which|whose|whom|hows|how's|whats|what's|wheres|where's|whos|who's|whys|why's|when's
    |whens|wat|wut|wats|wht|wot|whatcha|whaddya|howcome}
    {can|could|would|will|should|shall|may|might|must|won't|wont|can't|cant|wouldn't|wouldnt
    |couldn't|couldnt|shouldn't|shouldnt|are|r|am|were|weren't|aren't|arent|was|wasn't|wasnt
    |is|isn't|isnt|does|did|doesn't|doesnt|didn't|didnt} <SUBJ_EN>
    {do|don't|dont|have|has|haven't|havent|hasn't|hasnt} <PERSON_EN>
    {anyone|anybody|any1|ne1|any one|someone know|somebody know}
    {wanna|want to|u wanna|you wanna|ya wanna|care to} {chat|talk|play|join|help|come|see|know
    |go|watch|try|hang}
""",
)
# A wh-word alone in its clause ("why?", "when") asks; followed by anything else it may not.
_OPEN.add(Q, W_INTERROGATIVE, "en interrogative '{}'", "{how|what|where|when|why}")
# Exclamations, greetings and rhetorical openings shaped like questions.
_OPEN.add(Q, 0.0, "", _SOMEONE_DID)
_OPEN.add(
    Q,
    0.0,
    "",
    """
    what {a|an|the|the hell|the heck|the fuck}
    {what's|whats|wats|wassup|what is|wut|wat|wht|wot} up
    how {cute|nice|sweet|cool|sad|funny|lovely|awesome|great|kind|rude|dare|weird|strange
    |interesting|beautiful|wonderful|amazing|fun|true|silly|stupid|annoying|ironic}
    how {are|r|is} {you|u|ya|everyone|everybody|all|yall|y'all|you all|things|it going}
    {how's|hows|how is} {it going|everyone|everybody|life|your day|ur day|things}
    {how you doing|how ya doing|how u doing|how are you doing|how r u doing|how have you been}
    {what's|whats} {good|new|happening|going on}
    who cares
    {when|where|who} {i|we} {was|were}
    why {yes|not|no|sure|thank you|thanks|hello}
    {can|could} {you|u} {believe|imagine}
""",
)
_OPEN.add(
    Q,
    W_INTERROGATIVE,
    "fr interrogative '{}'",
    """
    {comment|pourquoi|combien|quel|quelle|quels|quelles|lequel|laquelle|lesquels|lesquelles
    |qui|d'ou|dou|par ou|a quel|a quelle|pq|pk|pkoi|pourkoi|cmt|koi|quoi|depuis quand}
    {y a|ya|y'a|il y a} <SOMEONE_FR>
    {ou|quand|que|qu'|qu} {est|sont|se|puis|peut|peux|pouvons|pouvez|faut|dois|doit|devons
    |devez|trouver|acheter|sera|seront|va|vont|arrive|arrivera|aura|auront|pourrai|pourrais
    |pourra|recevrai|recevrons|recevra|commence|ouvre|ferme|sort|a lieu|est-ce|est ce|as-tu
    |avez-vous|faire|fait|fais|signifie|veut|voulez|penses|pensez|en est|ont}
    {pouvez|pourriez|avez|auriez|savez|sauriez|voulez|voudriez|connaissez|etes|allez|faites
    |devez|faut|peut|sait|doit|est|sont|peux|pourrais|sais|saurais|veux|voudrais|as|aurais|es
    |vas|dois|connais|serait|aurait|existe|reste|fallait|fait|fais|ont|avait|etait|suis
    |sommes|pouvons|avons|devons|devrait} <SUBJ_FR>
    {on peut|on pourrait|on doit|on fait|on a le droit|il faut|il y a|y a|ya|y'a|c'est|ca
    |vous avez|tu as|t'as|vous etes|tu es|t'es} {comment|quand|ou|combien|quoi|qui}
    <SOMEONE_FR>
    {tu|vous} {peux|pouvez|pourrais|pourriez|aurais|auriez|veux|voulez}
    quoi faire
""",
)
_OPEN.add(
    Q,
    0.0,
    "",
    """
    {quel|quelle} {dommage|horreur|honte|galere|blague|chance|joie|bonheur|plaisir|surprise
    |idee|belle|beau|bel|journee|soiree|histoire|bonne nouvelle|angoisse|tristesse|enfer
    |misere|bande}
    {ca va|ca va bien|comment ca va|comment vas tu|comment vas-tu|comment allez-vous
    |comment allez vous|quoi de neuf|quoi de 9}
    qui vivra verra
    {ou|quand} {je|j'}
    pourquoi pas
""",
)
_OPEN.add(
    Q,
    W_INTERROGATIVE_WEAK,
    "fr interrogative '{}'",
    """
    quand
    {on peut|on pourrait|on a le droit|il est possible}
""",
)
_OPEN.add(
    Q,
    W_REQUEST,
    "request '{}'",
    """
    {help|explain|send me|dm me|advise}
    {aidez|aide|dites|dis|explique|expliquez|envoyez|envoie|montrez|montre|donnez|donne
    |rappelez|contactez}{-| }moi
""",
)

_SCANNER = _ANY.scanner()
_OPENING = _OPEN.opening()
# What may follow a bare wh-word that still stands alone: nothing, or user handles.
_HANDLES_ONLY = re.compile(r"(?:\s+\S*\d\S*)*\s*")
_BARE_ONLY = frozenset({"how", "what", "where", "when", "why"})
# Words that also open exclamations: "Quelle belle journée !", "What a mess!".
_EXCLAMATIVE = frozenset(
    {"how", "what", "quel", "quelle", "quels", "quelles", "que", "qu'", "comment", "combien"}
)

_CLAUSE_EDGE = " ,-*\"'()[]"
# A clause and the punctuation that ends it.
_CLAUSE = re.compile(r"([^.!?;:\n\u2026]+)([.!?;:\n\u2026]*)")
# Greetings, fillers, discourse markers and user handles that may precede an opening.
_LEADING_FILLERS = re.compile(
    r"^(?:(?:so|and|but|well|oh|ok|okay|k|lol|lmao|omg|wtf|hey|hi|hello|yo|um|umm|hmm|btw|also"
    r"|then|guys|folks|everyone|all|sorry|please|pls|plz|yes|yeah|no|ah|aw|anyway|et|mais|alors"
    r"|donc|bon|bah|ben|euh|salut|bonjour|bonsoir|coucou|sinon|du coup|dites|dis|au fait|les gars"
    r"|oui|non|ouais|desole|pardon|excusez moi|excuse moi|svp|stp|merci|re|wesh|tiens|enfin"
    r"|question|petite question|par contre|sauf que|en fait|juste|dailleurs|d'ailleurs|aussi"
    r"|\S*\d\S*)\b[\s,!]*)+"
)
# "Bob, how..." and "les amis, vous savez...": one vocative before the clause.
_VOCATIVE = re.compile(r"^[^\s,]{1,30}(?:\s[^\s,]{1,30})?\s?,\s*")
# "any mods online", "anyone here wanna play": a chat-room call for someone.
_ANY_CALL = re.compile(
    r"any(?:one|body|1)? (?:\S+ ){0,3}?(?:wanna|wana|want to|wants to|like to|here|around|online"
    r"|interested|awake|up for)\b"
)

# French verb-subject inversion written with hyphens: "pouvez-vous", "peut-on", "a-t-il".
_INVERSION = re.compile(
    r"(?<![\w-])([a-z]+)-(?:t-|t'|t )?(vous|tu|il|elle|on|ils|elles|je|nous)(?![\w-])"
)
# "Dépêchez-vous", "dirigez-vous", "dites-nous" are imperatives: after "-vous"/"-nous" only these
# verbs make a question.
_INVERTED_PLURAL = frozenset(
    {
        "pouvez",
        "pourriez",
        "avez",
        "auriez",
        "savez",
        "sauriez",
        "voulez",
        "voudriez",
        "connaissez",
        "etes",
        "seriez",
        "allez",
        "faites",
        "pensez",
        "croyez",
        "trouvez",
        "devez",
        "devriez",
        "conseillez",
        "recommandez",
        "acceptez",
        "livrez",
        "proposez",
        "comptez",
        "prenez",
        "vendez",
        "utilisez",
        "avons",
        "pouvons",
        "devons",
        "allons",
        "sommes",
        "faisons",
        "serons",
        "aurons",
        "pourrions",
        "devrions",
    }
)
_NOT_INVERSION = frozenset({"rendez", "chez", "vis", "entre", "dit", "fit", "ajoute", "parait"})

_NUMBER_WORDS = (
    r"a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|few|many|couple of"
    r"|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quinze|plusieurs|quelques"
)
_DURATION = re.compile(
    r"(?:\b(depuis|for|since|over|ca fait|cela fait|it's been|its been|been|already|deja|plus de"
    r"|plus d'|more than|almost|presque|pendant|waited|waiting|attendu|attends|after|apres"
    r"|au bout de)\s+)?"
    rf"(?:\b(\d{{1,3}})\s?|\b({_NUMBER_WORDS})\s)"
    r"(days?|weeks?|wks?|months?|hours?|hrs?|jours?|semaines?|mois|heures?|h|j|sem)\b"
)

_NEGATION_BEFORE = re.compile(
    r"(?:n't|\b(?:not|never|no|without|pas|jamais|plus|sans|non|nothing|rien|aucun|aucune|ni))"
    r"\s+(?:[^\s.,!?;]+\s+){0,2}$"
)
_CAPS_WORD = re.compile(r"[^\W\d_]{3,}")
_SAD_EMOTICON = re.compile(r"[:;=]'?-?[(\[]|>:\(|:/(?!/)")
_SAD_EMOJI = frozenset("😡😠🤬😤👎😞😢😭🙄😒😩😫😣😖☹🙁")
_NOISE = re.compile(
    r"(?:\b(?:lol|lool|lmao|lmfao|rofl|haha\w*|hehe\w*|hihi\w*|mdr\w*|ptdr\w*|xd|ok|okay|oki|okk"
    r"|kk|k|hi|hey|heya|hiya|hello|helo|yo|sup|wassup|thanks|thank you|thx|ty|tyvm|bye|cya|gn"
    r"|gm|salut|slt|bonjour|bjr|bonsoir|coucou|cc|merci|re|oui|non|ouais|yes|yeah|yep|yup|no|nope"
    r"|nah|ah|oh|ohh|hmm+|hm|euh|bah|ben|wow|omg|cool|nice|super|top|bien|genial|lit|gg|wp|ca va"
    r"|cava|sava|ca va et toi|et toi|et vous|u|you|and you|wbu|hru|how are you|how r u|how are u"
    r"|how you doing|whats up|what's up|wut up|hein|quoi|what|huh|really|vraiment|serieux"
    r"|seriously|right|true|sure|daccord|d'accord|dac|all|everyone|guys|les gars|tout le monde"
    r"|bon|comment ca va|comment vas tu|comment allez vous|good|fine|great|bien et toi|mais|et"
    r"|and|so)\b|[^\w\s]|\d|\s)+"
)


# --- Detector -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Evidence:
    """Weights collected per reason; the first occurrence counts fully, repeats a fraction."""

    weights: dict[str, list[float]] = field(default_factory=dict)

    def add(self, reason: str, weight: float) -> None:
        self.weights.setdefault(reason, []).append(weight)

    def raise_to(self, reason: str, weight: float) -> None:
        found = self.weights[reason]
        found[0] = max(found[0], weight)

    def score(self) -> float:
        pieces: list[float] = []
        for found in self.weights.values():
            best = max(found)
            pieces.append(best)
            pieces.extend(best * REPEAT_FACTOR for _ in found[1 : 1 + MAX_REPEATS])
        return _combine(pieces)

    def reasons(self) -> list[tuple[float, str]]:
        return [(max(found), reason) for reason, found in self.weights.items()]


# "refund arrived, thanks team": a complaint word in a message that says the matter is settled
# and thanks someone is a resolution, not a complaint; a negation keeps it a complaint.
_GRATITUDE = re.compile(r"\b(?:thanks?|thank you|thx|ty|merci|cool|great|parfait|super|nickel)\b")
_SETTLED = re.compile(
    r"\b(?:arrived|received|got it|works now|working now|fixed|resolved|sorted|solved|refunded"
    r"|bien recu|recu|arrive|arrivee|regle|resolu|rembourse|ca marche|ca fonctionne)\b"
)
_STILL_WRONG = re.compile(
    r"\b(?:not|never|still|no|n't|dont|doesnt|didnt|pas|jamais|toujours|rien|aucun|toujours pas)\b"
)
SETTLED_FACTOR = 0.3

# Everyday community chat asks many questions that wait on no one: invitations and polls ("qui est
# chaud pour une partie ?", "anyone up for co-op tonight?"), greetings ("how's everyone?") and a
# helper's clarifying questions to someone else ("did you try without the vpn?", "t'as essayé de
# vider le cache ?"). Their question evidence is scaled down below the threshold; a request cue
# stated in the same message ("anyone know how...") usually still carries it over with a "?".
_SOCIAL = re.compile(
    r"\b(?:who'?s (?:up|down|in|joining|coming|around|free|playing|streaming)\b"
    r"|who is (?:up|down|joining|coming|around|free|playing|streaming)\b"
    r"|who wants (?:in|to (?:play|join|come|watch|hang))\b|any takers\b"
    r"|anyone (?:up|down) for\b|anyone (?:else )?(?:watching|playing|going|coming|joining)\b"
    r"|poll\s*:|sondage\s*:|how'?s everyone\b|how is everyone\b|what'?s everyone\b"
    r"|qui (?:est|serait|sont) (?:chaude?s?|partante?s?|dispos?|motivee?s?|la ce soir)\b"
    r"|qui (?:vient|viendra|joue|veut jouer|en veut|en est|regarde)\b"
    r"|des (?:gens|personnes) (?:motivee?s|partante?s|chaude?s|interessee?s)\b"
    r"|ca (?:vous|te) (?:dit|tente)\b|ca tente quelqu'un\b|(?:vous etes|t'es|tu es) partante?s?\b"
    r"|on se (?:fait|fais) (?:un|une)\b|quelqu'un (?:regarde|joue a|vient)\b"
    r"|ca va tout le monde\b|vous allez bien\b|vous faites quoi\b)"
)
_HELPER = re.compile(
    r"\b(?:did you (?:try|restart|reboot|reinstall|install|update|run|enable)\b"
    r"|have you (?:tried|restarted|rebooted|reinstalled|installed|updated|enabled)\b"
    r"|(?:which|what) version (?:are|do) you\b|are you (?:on|using) (?:the |a |an )?\w"
    r"|what does (?:the |your )?\w+ (?:say|show|print|output)\b|can you paste\b"
    # "which driver are you using?", "what does the hcl list say?": about the other's setup.
    r"|(?:which|what) (?:\w+ ){1,2}(?:are|were) you (?:using|running|on|trying)\b"
    r"|what does (?:the |your |that |this )?\w+ \w+ (?:say|show|print|output|return)\b"
    r"|are you (?:running|booting|logged in as|root)\b|tell (?:me|us) what your\b"
    r"|(?:ca|il|elle) (?:te |vous )?(?:dit|affiche|renvoie) quoi\b"
    r"|(?:tu|vous) (?:utilises|utilisez|lances|lancez) (?:quoi|quel|quelle)\b"
    r"|(?:t'as|tu as|as-tu|as tu) (?:bien )?(?:essaye|teste|verifie|regarde|redemarre|relance"
    r"|installe|mis a jour)\b|vous avez (?:bien )?(?:essaye|teste|redemarre|relance)\b"
    r"|(?:tu es|t'es) sur quelle\b|(?:il|ca) (?:dit|donne) quoi\b"
    r"|tu peux (?:coller|copier|envoyer) (?:le|la|les|ton|ta|tes) "
    r"(?:message|erreur|log|logs|journal|capture))"
)
# "who's up for helping me with grub?" is an invitation to help: a request after all.
_HELP_ME = re.compile(
    r"\b(?:help(?:ing)? me|give me a hand|aide[rz]? moi|m'aider|me donner un coup)\b"
)
# "salut Alice, bon weekend ?": a short greeting asks nothing; in a longer message the same words
# are a sign-off around a real request ("…vous pouvez vérifier ? bonne journée").
_GREETING = re.compile(
    r"\b(?:bon(?:ne)? (?:weekend|week-end|week end|soiree|journee|semaine|vacances|dimanche)"
    r"|(?:good|nice|great) (?:weekend|evening|day|morning)|how was your (?:weekend|day|evening))\b"
)
_LAUGH = re.compile(r"\b(?:lol|lool|lmao|lmfao|rofl|mdr\w*|ptdr\w*|xd|haha\w*)\b|[😂🤣💀😭]")
CHATTER_FACTOR = 0.5

# Below this score a text will not open a case, so its language is not worth identifying.
IDENTIFY_FROM = 0.2
UNDETERMINED = "und"


class RuleDetector:
    """Scores French and English messages for questions and complaints with hand-written rules."""

    name = "rules"

    def __init__(
        self, language: LanguageIdentifier | None = None, *, identify_all: bool = True
    ) -> None:
        """Use `language` to tell a message's language (default: French or English).

        With `identify_all` off, a text that scores as neither question nor complaint is not
        identified (its language is "und"): chit-chat needs no language, and identification
        is a third of the detector's time.
        """
        self._language = language if language is not None else LanguageIdentifier()
        self._identify_all = identify_all

    def detect(self, text: str, *, language: str | None = None) -> Detection:
        """Score one text; a given `language` skips language identification."""
        cleaned = _clean(text)
        folded = _fold(cleaned)
        if not folded:
            return Detection(0.0, 0.0, language or self._identify(cleaned, 0.0), ())
        question = _Evidence()
        complaint = _Evidence()
        found = _scan_phrases(folded, question, complaint)
        _scan_openings(folded, question, found)
        _scan_inversions(folded, question)
        _scan_durations(folded, complaint)
        if "?" in folded and any(char.isalpha() for char in folded):
            question.add("question mark", W_QUESTION_MARK)
        _scan_intensity(cleaned, folded, complaint)
        question_score = question.score()
        if question_score and len(folded) <= NOISE_MAX_CHARS and _NOISE.fullmatch(folded):
            question_score = 0.0
        if question_score and _asks_no_one(folded, question):
            question_score *= CHATTER_FACTOR
        complaint_score = complaint.score()
        if (
            complaint_score
            and _GRATITUDE.search(folded)
            and _SETTLED.search(folded)
            and not _STILL_WRONG.search(folded)
        ):
            complaint_score *= SETTLED_FACTOR
        reasons: list[tuple[float, str]] = []
        if question_score:
            reasons.extend(question.reasons())
        if complaint_score:
            reasons.extend(complaint.reasons())
        reasons.sort(key=lambda item: -item[0])
        strongest = max(question_score, complaint_score)
        return Detection(
            round(question_score, 4),
            round(complaint_score, 4),
            language or self._identify(cleaned, strongest),
            tuple(reason for _, reason in reasons[:MAX_REASONS]),
        )

    def _identify(self, cleaned: str, strongest: float) -> str:
        if self._identify_all or strongest >= IDENTIFY_FROM:
            return self._language.identify(cleaned)
        return UNDETERMINED

    def detect_batch(self, texts: Sequence[str]) -> list[Detection]:
        """Score each text, in order."""
        return [self.detect(text) for text in texts]


def _asks_no_one(folded: str, question: _Evidence) -> bool:
    """True for chatter worded as a question: invitations, polls, greetings, a helper's check."""
    if (_SOCIAL.search(folded) or _HELPER.search(folded)) and not _HELP_ME.search(folded):
        return True
    if len(folded) <= NOISE_MAX_CHARS and _GREETING.search(folded):
        return True
    # "how is it already friday lol": a bare "?" in a joke asks nothing.
    return set(question.weights) == {"question mark"} and _LAUGH.search(folded) is not None


def _scan_phrases(folded: str, question: _Evidence, complaint: _Evidence) -> dict[int, str]:
    """Add the lexicon's cues; return where question phrases start, with their reason."""
    question_starts: dict[int, str] = {}
    covered_until = 0
    for match in _SCANNER.finditer(folded):
        start = match.start()
        # A phrase nested in a longer one ("pas reçu" in "toujours pas reçu") is the same evidence.
        if start < covered_until:
            continue
        phrase = match.group(1)
        covered_until = start + len(phrase)
        for cue in _ANY.cues[phrase]:
            if cue.weight <= 0.0:
                continue
            if cue.negatable and _negated(folded, start):
                continue
            if cue.kind == QUESTION:
                reason = cue.reason.format(phrase)
                question_starts.setdefault(start, reason)
                question.add(reason, cue.weight)
            else:
                complaint.add(cue.reason.format(phrase), cue.weight)
    return question_starts


def _negated(folded: str, start: int) -> bool:
    # Look back a few words, from a word start so that "casino terrible" has no "no".
    window = folded.rfind(" ", 0, max(0, start - 30)) + 1
    return _NEGATION_BEFORE.search(folded, window, start) is not None


def _scan_openings(folded: str, question: _Evidence, found: dict[int, str]) -> None:
    """Add interrogative openings of clauses; a phrase found at the same place is the same cue."""
    for match in _CLAUSE.finditer(folded):
        text = match.group(1)
        trimmed = text.lstrip(_CLAUSE_EDGE)
        clause = _LEADING_FILLERS.sub("", trimmed.rstrip(_CLAUSE_EDGE))
        if not clause:
            continue
        offset = match.start(1) + len(text) - len(trimmed) + len(trimmed.rstrip(_CLAUSE_EDGE))
        offset -= len(clause)
        exclaimed = "!" in match.group(2) and "?" not in match.group(2)
        if _ANY_CALL.match(clause):
            question.add("en interrogative 'any...'", W_INTERROGATIVE)
            continue
        opening = _OPENING.match(clause)
        if opening is None:
            vocative = _VOCATIVE.match(clause)
            if vocative is None:
                continue
            opening = _OPENING.match(clause, vocative.end())
            if opening is None:
                continue
        phrase = opening.group()
        if phrase in _BARE_ONLY and not _HANDLES_ONLY.fullmatch(clause, opening.end()):
            continue
        if exclaimed and phrase.split(maxsplit=1)[0] in _EXCLAMATIVE:
            continue
        same_place = found.get(offset + opening.start())
        for cue in _OPEN.cues[phrase]:
            if cue.weight <= 0.0:
                continue
            if same_place is None:
                question.add(cue.reason.format(phrase), cue.weight)
            else:
                question.raise_to(same_place, cue.weight)


def _scan_inversions(folded: str, question: _Evidence) -> None:
    if "-" not in folded:
        return
    for match in _INVERSION.finditer(folded):
        verb, pronoun = match.groups()
        if verb in _NOT_INVERSION:
            continue
        if pronoun in ("vous", "nous") and verb not in _INVERTED_PLURAL:
            continue
        question.add("fr verb-subject inversion", W_INVERSION)
        return


def _scan_durations(folded: str, complaint: _Evidence) -> None:
    for match in _DURATION.finditer(folded):
        prefix, digits, words, unit = match.groups()
        number = digits or words
        if number in ("a", "an", "un", "une") and prefix is None:
            continue  # "once a week", "une semaine de vacances"
        if unit[0] in "wms":  # weeks, months, mois, semaines
            weight = W_WAITING
        elif unit[0] in "dj":
            weight = W_WAITING_DAYS
        else:
            weight = W_WAITING_HOURS
        if prefix is not None:
            weight += W_WAIT_PREFIX_BONUS
        else:
            weight *= W_BARE_DURATION_FACTOR
        complaint.add(f"waiting time '{match.group().strip()}'", weight)


def _scan_intensity(cleaned: str, folded: str, complaint: _Evidence) -> None:
    if _SAD_EMOTICON.search(folded) or any(char in _SAD_EMOJI for char in folded):
        complaint.add("sad face", W_COMPLAINT_HINT)
    if "?!" in folded or "!?" in folded:
        complaint.add("indignant '?!'", W_COMPLAINT_HINT)
    if not complaint.weights:
        return
    visible = _MENTION.sub(" ", _URL.sub(" ", cleaned))
    if sum(1 for word in _CAPS_WORD.findall(visible) if word.isupper()) >= 2:
        complaint.add("ALL CAPS", W_CAPS)
    if "!!" in folded:
        complaint.add("repeated '!'", W_BANGS)
