"""Turning a question into comparable terms: folding, stop words, synonyms, stems, typos.

Deliberately simple and deterministic (no model, no download): customers ask
short questions with a handful of content words, so matching those words well
matters more than understanding grammar.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import get_close_matches

# Words that carry no policy meaning, plus chat spellings of them ("wat", "u", "pls").
# "order", "item", "product", "shop" are here too: every policy is about orders,
# so they tell entries apart no better than "the". "when", "where" and "who" are not:
# they tell "when am I charged" from "how do I pay", "where do you deliver" from
# "how much is delivery", "who delivers" from "how fast".
STOPWORDS = frozenset("""
a an the i im ive id me my mine myself we us our ours you your yours ur u youre it its itself
this that these those there theres here they them their he him his she her hers one
is are was were be been being am do does did doing done have has had having get gets got getting
come comes coming came
can could will would shall should may might must need needs want wanna like know tell let see
find look show give gonna to of in on at by via thru through for from with wiht wtih whith without up
about into onto as before after until while during and or but if
so than then too also just any some all every each other others another more most very really actually
except excluding besides apart aside
still currently usually normally generally exactly yet already now today ever
what whats wat wot wht waht which whom whose why how hows hwo dose teh
hi hey hello hallo please pls plz thanks thank thx ty ok okay yes yeah sure
guys guy folks mate lol kindly roughly approximately basically maybe perhaps chance wondering wonder curious
question questions quick info information detail details policy policies option options possible
available offer offered provide use using make many able allowed allow
order orders ordered ordering item items product products purchase purchases goods buy buys bought buying
shop store online website site something anything thing things stuff else again
""".split())

# Multi-word expressions that mean one thing; joined before anything else.
PHRASES = {
    ("how", "much"): "cost",
    ("how", "long"): "time",
    ("send", "back"): "return",
    ("take", "back"): "return",
    ("bring", "back"): "return",
    ("go", "back"): "return",
    ("money", "back"): "refund",
    ("go", "through"): "charge",
    ("goes", "through"): "charge",
    ("went", "through"): "charge",
    ("free", "of", "charge"): "free",
    ("next", "day"): "express",
    ("wear", "and", "tear"): "wear",
    ("gift", "card"): "giftcard",
    ("gift", "cards"): "giftcard",
    ("gift", "voucher"): "giftcard",
    ("stopped", "working"): "defect",
    ("stops", "working"): "defect",
    ("not", "working"): "defect",
    ("doesnt", "work"): "defect",
    ("dont", "work"): "defect",
}

# Different words customers use for the same thing. Keys are canonical terms.
SYNONYMS = {
    "ship": "shipping shipment shipments deliver delivery deliveries delivering postage post posting "
            "send sending sent mail mailing parcel parcels package packages",
    "dispatch": "dispatch dispatched dispatching",
    "charge": "charge charged charges charging debited deducted taken billed",
    "cost": "cost costs price prices fee fees much expensive cheap rate rates pricing priced",
    "time": "time times long fast quickly soon speed days duration arrive arrives arrival wait",
    "pay": "pay payment payments paid paying settle",
    "card": "card cards credit debit",
    "method": "method methods way ways",
    "accept": "accept accepted accepting support supported",
    "return": "return returns returned returning returnable back",
    "refund": "refund refunds refunded reimburse reimbursed reimbursement repay",
    "exchange": "exchange exchanges exchanged swap",
    "warranty": "warranty warranties guarantee guarantees guaranty warrantee",
    "defect": "defect defects defective faulty broken broke break breaks malfunction",
    "country": "country countries international internationally abroad worldwide overseas destination destinations",
    "express": "express expedited overnight faster priority rush",
    "carrier": "carrier carriers courier couriers dhl ups dpd gls partner",
    "currency": "currency currencies euro euros eur pound pounds gbp dollar dollars usd franc francs chf",
    "customs": "customs duty duties import tariff tariffs",
    "tax": "tax taxes vat",
    "track": "track tracking trace",
    "hygiene": "hygiene hygienic sealed seal unsealed opened",
    "not": "not dont doesnt isnt cant wont arent didnt never",
}

TYPO_MIN_LENGTH = 5  # shorter words are too close to each other to correct safely
TYPO_CUTOFF = 0.8
# A typo drops, adds or swaps a letter; a longer gap is another word ("change" is not "exchange").
TYPO_MAX_LENGTH_DIFFERENCE = 1


def fold(text: str) -> str:
    """Lowercase without accents or apostrophes: "Österreich" -> "osterreich", "what's" -> "whats"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"['’`´]", "", without_accents.lower())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def stem(word: str) -> str:
    """A light suffix stripper: enough to match "shipping"/"shipped"/"ships", "refunds"/"refunded"."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsze":
        word = word[:-1]  # shipp -> ship
    if word.endswith("e") and len(word) > 4:
        word = word.rstrip("e")  # charge/charged -> charg, guarantee/guaranteed -> guarant
    return word


_CANONICAL_BY_STEM = {stem(member): canonical for canonical, members in SYNONYMS.items() for member in members.split()}

# Everyday shop words the knowledge base doesn't use: known to be real words, so they are
# never "corrected" into a policy word ("change" is not a typo of "charge").
ORDINARY_WORDS = frozenset("""
change changed changing cancel cancelled canceling cancellation address addresses account login password
email phone number discount discounts coupon code sale sales stock size sizes colour color price match
damaged missing wrong late lost stolen cheaper contact call speak human agent person help problem issue
portal
""".split())

# Words that are never a misspelt country or a typo of something else.
COMMON_WORDS = frozenset(STOPWORDS | ORDINARY_WORDS | {m for members in SYNONYMS.values() for m in members.split()})


def term(word: str) -> str:
    """The canonical term for one word (after stop words are gone)."""
    stemmed = stem(word)
    return _CANONICAL_BY_STEM.get(stemmed, stemmed)


def join_phrases(tokens: list[str]) -> list[str]:
    joined: list[str] = []
    position = 0
    while position < len(tokens):
        for phrase, meaning in PHRASES.items():
            if tuple(tokens[position:position + len(phrase)]) == phrase:
                joined.append(meaning)
                position += len(phrase)
                break
        else:
            joined.append(tokens[position])
            position += 1
    return joined


class Analyzer:
    """Words -> terms, correcting typos against the words the knowledge base itself uses."""

    def __init__(self, known_words: set[str] | frozenset[str]):
        self.known_words = frozenset(known_words) | COMMON_WORDS
        self._corrections: dict[str, str] = {}

    def terms(self, tokens: list[str]) -> list[str]:
        # Numbers are amounts, years or order numbers: what the question is about, not what it asks.
        corrected = [self.correct(token) for token in tokens if not token.isdigit()]
        return [term(token) for token in join_phrases(corrected) if token not in STOPWORDS]

    def terms_of(self, text: str) -> list[str]:
        return self.terms(words(text))

    def is_known(self, token: str) -> bool:
        """A word of the knowledge base or of everyday language, possibly misspelt."""
        return token.isdigit() or self.correct(token) in self.known_words

    def correct(self, token: str) -> str:
        """The known word a misspelling most likely meant ("shiping" -> "shipping"), else the token."""
        if token in self.known_words or len(token) < TYPO_MIN_LENGTH or token.isdigit():
            return token
        if token not in self._corrections:
            similar_length = [w for w in self.known_words if abs(len(w) - len(token)) <= TYPO_MAX_LENGTH_DIFFERENCE]
            close = get_close_matches(token, similar_length, n=1, cutoff=TYPO_CUTOFF)
            self._corrections[token] = close[0] if close else token
        return self._corrections[token]


def said_list(items: list[str], word: str = "and") -> str:
    """"a, b and c"; with semicolons when an item is a list itself ("€7.90 to Austria, Belgium and Spain")."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} {word} {items[1]}"
    if any("," in re.sub(r"\(.*?\)", "", item) for item in items):  # commas in brackets don't count
        return f"{'; '.join(items[:-1])}; {word} {items[-1]}"
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
