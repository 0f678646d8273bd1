"""Lexical search over the entries: BM25 to rank, idf-weighted coverage to decide whether to answer.

BM25 alone says which entry is closest, not whether it is close enough: an
unrelated question still has a nearest entry. Coverage asks instead "how much of
what the customer said does this entry account for?", weighting each term by how
telling it is (idf). Words the knowledge base never uses ("cars", "weekends")
count against every entry, so a question about them gets no answer rather than
the nearest wrong one.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from knowledge.computed import COMPUTED
from knowledge.countries import Country, find_country
from knowledge.model import Entry, KnowledgeBase, PaymentMethod
from knowledge.text import Analyzer, join_phrases, stem, words

BM25_K1 = 1.2
BM25_B = 0.75
# How much a word the knowledge base never uses counts against an answer, relative to the
# most telling known word. Below 1 so that one unknown noun ("can I return my jacket")
# doesn't outweigh a clear policy word, while a question made of unknown words scores 0.
UNKNOWN_WORD_WEIGHT = 0.7


@dataclass(frozen=True)
class Scored:
    entry: Entry
    coverage: float  # 0..1, the share of the question's weight this entry matches
    bm25: float
    question_match: float  # 0..1, overlap (Jaccard) with the entry's closest example question


# "do you ship outside germany", "besides spain, where do you deliver": that country is not the destination.
EXCLUDING = {("outside",), ("except",), ("excluding",), ("besides",), ("beyond",), ("apart", "from"),
             ("aside", "from"), ("other", "than")}


def _excluded(before: list[str]) -> bool:
    if before[-1:] == ["the"]:  # "apart from the UK"
        before = before[:-1]
    return any(tuple(before[len(before) - len(phrase):]) == phrase for phrase in EXCLUDING)


@dataclass(frozen=True)
class Named:
    """What a question names, and the words left to search with."""

    countries: list[Country]
    methods: list[tuple[PaymentMethod, list[str]]]  # each with the words that name it
    rest: list[str]


class SearchIndex:
    def __init__(self, kb: KnowledgeBase):
        texts = {entry.id: " ".join([entry.title, *entry.questions, *entry.keywords]) for entry in kb.entries}
        self.vocabulary = {w for text in texts.values() for w in words(text)}
        self.analyzer = Analyzer(self.vocabulary)
        self.entries = kb.entries
        self.method_by_phrase = _alias_table(kb.payment_methods)
        self.term_counts = {e.id: Counter(self.terms_without_slots(texts[e.id]) + _slot_terms(e)) for e in kb.entries}
        self.question_terms = {e.id: [set(self.terms_without_slots(q)) for q in e.questions] for e in kb.entries}
        self.lengths = {entry_id: sum(counts.values()) for entry_id, counts in self.term_counts.items()}
        self.average_length = sum(self.lengths.values()) / max(len(self.lengths), 1)
        self.document_frequency = Counter(t for counts in self.term_counts.values() for t in counts)
        self.unknown_weight = UNKNOWN_WORD_WEIGHT * self.idf_of_count(1)

    def take_slots(self, tokens: list[str]) -> Named:
        """The countries and payment methods named in the tokens, and the tokens without them.

        Questions and example questions both lose them before scoring: a question naming
        Austria matches "do you ship to this country" as well as one naming Spain.
        """
        countries: list[Country] = []
        while (match := find_country(tokens)) is not None:
            country, (start, end) = match
            if not _excluded(tokens[:start]):
                countries.append(country)
            start, end = self._with_place_names(tokens, start, end)
            tokens = tokens[:start] + tokens[end:]
        found_methods = self.find_payment_methods(tokens)
        taken = {position for _, (start, end) in found_methods for position in range(start, end)}
        rest = [token for position, token in enumerate(tokens) if position not in taken]
        return Named(countries, [(method, tokens[start:end]) for method, (start, end) in found_methods], rest)

    def _with_place_names(self, tokens: list[str], start: int, end: int) -> tuple[int, int]:
        """The span of a country's name widened to an unknown word right next to it: a city or region
        ("madrid spain", "mexico city"), part of the address rather than of the question."""
        def is_place(position: int) -> bool:
            return (0 <= position < len(tokens) and not self.analyzer.is_known(tokens[position])
                    and (stem(tokens[position]),) not in self.method_by_phrase)  # "klarna germany?"
        return start - is_place(start - 1), end + is_place(end)

    def as_the_examples_say_it(self, text: str) -> str:
        """The question for the sentence model: a named destination read as "this country" and a
        payment method as "this", as the examples of the entries answering for one say it, and typos
        corrected ("do you take visa debit" is then as close to "do you take it" as it should be).
        """
        tokens, position = words(text), 0
        while (match := find_country(tokens[position:])) is not None:
            start, end = (position + offset for offset in match[1])
            start -= tokens[start - 1:start] == ["the"]  # "the UK" too
            said = tokens[start:end] if _excluded(tokens[:start]) else ["this", "country"]
            tokens, position = tokens[:start] + said + tokens[end:], start + len(said)
        for _, (start, end) in reversed(self.find_payment_methods(tokens)):
            tokens = tokens[:start] + ["this"] + tokens[end:]
        return " ".join(self.analyzer.correct(token) for token in tokens)

    def terms_without_slots(self, text: str) -> list[str]:
        return self.analyzer.terms(self.take_slots(join_phrases(words(text))).rest)

    def idf_of_count(self, document_count: int) -> float:
        total = len(self.entries)
        return math.log(1 + (total - document_count + 0.5) / (document_count + 0.5))

    def weight(self, term: str) -> float:
        count = self.document_frequency.get(term, 0)
        return self.idf_of_count(count) if count else self.unknown_weight

    def score(self, terms: Sequence[str], entries: list[Entry], optional: Sequence[str] = ()) -> list[Scored]:
        """Score each entry; `optional` terms count for an entry that has them, never against one that hasn't."""
        required = list(dict.fromkeys(terms))
        optional = [t for t in dict.fromkeys(optional) if t not in required]
        required_weight = sum(self.weight(t) for t in required)
        scored = []
        for entry in entries:
            matched_optional = self._matched_weight(optional, entry)
            coverage = (self._matched_weight(required, entry) + matched_optional) / (
                required_weight + matched_optional or 1.0)
            everything = required + optional
            scored.append(Scored(entry, coverage, self._bm25(everything, entry),
                                 self._question_match(set(everything), entry)))
        return scored

    def _question_match(self, terms: set[str], entry: Entry) -> float:
        return max((len(terms & q) / len(terms | q) for q in self.question_terms[entry.id] if terms | q), default=0.0)

    def _matched_weight(self, terms: list[str], entry: Entry) -> float:
        counts = self.term_counts[entry.id]
        return sum(self.weight(t) for t in terms if t in counts)

    def _bm25(self, terms: list[str], entry: Entry) -> float:
        counts, length = self.term_counts[entry.id], self.lengths[entry.id]
        score = 0.0
        for t in terms:
            frequency = counts.get(t, 0)
            if frequency:
                saturation = frequency * (BM25_K1 + 1) / (
                    frequency + BM25_K1 * (1 - BM25_B + BM25_B * length / self.average_length))
                score += self.idf_of_count(self.document_frequency[t]) * saturation
        return score

    def find_payment_methods(self, tokens: list[str]) -> list[tuple[PaymentMethod, tuple[int, int]]]:
        """Every payment method named in the tokens, longest alias first ("cash on delivery" over "cash").

        Compared by stem, so "credit cards" finds the alias "credit card".
        """
        tokens = [stem(token) for token in tokens]
        found, position = [], 0
        longest = max((len(p) for p in self.method_by_phrase), default=0)
        while position < len(tokens):
            for length in range(min(longest, len(tokens) - position), 0, -1):
                method = self.method_by_phrase.get(tuple(tokens[position:position + length]))
                if method:
                    found.append((method, (position, position + length)))
                    position += length
                    break
            else:
                position += 1
        return found


def slot_term(slot: str) -> str:
    """The term a named country or payment method adds to a question: only the entries that answer for one have it.

    So "i'm based in poland, do you deliver here" is mostly accounted for by the entry for a named
    country, and never by another one, as if the country's name were one of its words.
    """
    return f"@{slot}"


def _slot_terms(entry: Entry) -> list[str]:
    needed = COMPUTED[entry.answer_from].needs_slot if entry.answer_from else None
    return [slot_term(needed)] if needed else []


def _alias_table(methods) -> dict[tuple[str, ...], PaymentMethod]:
    # By the words as typed too, not only with phrases joined ("gift card" is also "giftcard"):
    # the text for the sentence model keeps them apart.
    table = {}
    for method in methods:
        for said in (method.name, *method.aliases):
            for form in (join_phrases(words(said)), words(said)):
                table.setdefault(tuple(stem(w) for w in form), method)
    return table
