"""Answering a customer's question from the knowledge base, or declining to.

`answer()` is what the action layer calls. It returns an Answer only when an
entry matches the question well enough; otherwise None, and the dialogue
says it doesn't know and offers a person. A wrong answer costs more than no answer.

Two searches rank the entries: the lexical one (knowledge.search: how much of what
the customer said an entry accounts for) and, given an embedder, the dense one
(knowledge.dense: how close the question's meaning is to the entry's examples).
Their rankings are fused by reciprocal rank. The meaning tells apart entries the
words tie on, lets a question in through its sense where it lacks the topic's
words, and vetoes coincidences of words; the words, which the shop's data defines,
decide whether the question is covered at all: a question close in meaning to an
entry but about something else ("what if the courier loses my parcel") gets no answer.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from knowledge.computed import COMPUTED, Slots
from knowledge.countries import Country, resolve_country
from knowledge.dense import DenseIndex
from knowledge.embedding import Embedder
from knowledge.loading import KnowledgeBaseError, knowledge_files, load
from knowledge.model import Answer, Entry, KnowledgeBase, PaymentMethod
from knowledge.search import Scored, SearchIndex, slot_term
from knowledge.text import join_phrases, stem, words

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "knowledge_base"
PATH_VARIABLE = "KNOWLEDGE_BASE_DIR"


@dataclass(frozen=True)
class Fusion:
    """How the two searches' rankings become one, and when the best entry is sure enough to answer."""

    # The least share of the question the best entry's words must account for (lexical coverage):
    # the model finds close meanings, but only known words tell a policy question from a look-alike
    # ("what happens if the courier loses my parcel" is close to "who delivers your parcels"). One
    # policy word next to one unknown word scores 0.4-0.5 ("can I return something I bought on sale").
    threshold: float
    # The same for a "no" from the shop's complete tables (a country in no shipping zone, a payment
    # method we don't take): grounded in the name the customer used, it needs fewer of the other words.
    refusal_threshold: float
    # Reciprocal-rank fusion of the lexical and the dense ranking (k of 1 / (k + rank)); None: lexical alone.
    rrf_k: int | None = None
    # A question this close in meaning to an entry is about its topic even without one of its
    # TOPIC_WORDS ("can I change them for a larger pair" is about exchanges).
    same_topic_similarity: float = math.inf
    # The least similarity in meaning to the answering entry: below it, shared words are a coincidence
    # ("do you use plastic-free packaging" shares "free" and "package" with free shipping).
    min_similarity: float = -math.inf


# Without an embedder. Tuned on tests/knowledge/test_answers.py: the realistic questions and typos score
# 0.65-1.0; unrelated ones and policy questions the data doesn't cover score at most 0.5.
LEXICAL_ONLY = Fusion(threshold=0.55, refusal_threshold=0.55)
# With the sentence model: chosen by a sweep on tests/knowledge/dev_policy_questions.yml and the question
# lists of test_answers.py (never on the exam set). No wrong answer there for any threshold from 0.5 to 0.6
# with these other settings, and 0.55 in the middle; min_similarity from 0.45 to 0.55 (0.4 lets one in);
# a refusal threshold from 0.15 to 0.55 (lower finds more "no"s, none below 0.25); same_topic_similarity
# 0.65 answers most of 0.55-0.7; rrf_k makes no difference from 10 to 100.
HYBRID = Fusion(threshold=0.55, refusal_threshold=0.25, rrf_k=60, same_topic_similarity=0.65, min_similarity=0.5)
# Nudges for ranking only (never for the threshold): an entry that can use the country or
# payment method the customer named beats a general one, even one with a closer example
# question (the specific answer says everything the general one does); the NLU's topic breaks ties.
SLOT_BONUS = 0.15
TOPIC_BONUS = 0.02
# A named payment method says the question is about paying more surely than the NLU's topic:
# "do you charge my card before shipping?" is about the card, not the shipping costs.
IMPLIED_TOPIC_BONUS = 0.15
# Matching one of an entry's example questions closely outranks sharing the same words loosely,
# so adding a question to the right entry is how a shop owner fixes a wrong pick.
QUESTION_MATCH_WEIGHT = 0.1

# A question must be about an entry's topic, not just share a noun with it: "do you have gift
# cards?" must not get "gift cards can't be returned". So it needs one of these words (as terms,
# after synonyms: "delivery" is "ship") unless the NLU already said it is about that topic.
TOPIC_WORDS = {
    "shipping": {"ship", "cost", "time", "country", "express", "carrier", "customs", "tax", "track", "free",
                 "dispatch"},
    "payment": {"pay", "card", "accept", "method", "currency", "charge", "cost", "tax", "checkout"},
    "returns": {"return", "refund", "exchange"},
    "warranty": {"warranty", "defect", "repair", "replac", "claim", "cover", "wear"},
}
# The topic a named country or payment method is asked about.
SLOT_TOPICS = {"country": "shipping", "payment_method": "payment"}
# Computed answers that list every zone: for a named country, its own answer says it better.
OVERVIEWS_OF_ALL_ZONES = {"shipping_costs", "delivery_times", "free_shipping", "express_shipping",
                          "shipping_countries"}
# Confidence of an answer built from context alone: the NLU said "shipping" and the message was
# just a country ("and to Austria?").
CONTEXT_ONLY_CONFIDENCE = 0.6

# Entities the search uses as slots; the values of all others are treated as context.
SLOT_ENTITIES = {"country", "payment_method", "topic"}
# A payment method's name is mostly said about paying, so "paypal?" alone is a payment
# question. A country is said about many things ("I'm in Austria"), so it needs the NLU's topic.
SLOTS_THAT_IMPLY_THEIR_TOPIC = {"payment_method"}
# ...unless the question asks whether we have or sell the thing: "do you have gift cards" is not
# "can I pay with a gift card".
ASKS_WHETHER_WE_SELL = {"have", "has", "sell", "sells", "selling", "stock"}

TOPIC_NAMES = {
    "shipping": "shipping", "shipping_info": "shipping", "delivery": "shipping",
    "payment": "payment", "payments": "payment", "payment_info": "payment",
    "returns": "returns", "return": "returns", "return_policy": "returns", "refund": "returns", "refunds": "returns",
    "warranty": "warranty", "warranty_info": "warranty", "guarantee": "warranty",
}


@dataclass(frozen=True)
class Question:
    """A question as the search sees it: its text and terms, what it names, and the NLU's topic."""

    text: str
    terms: list[str]
    slots: Slots
    topic: str | None
    # Words of other entities (a product) that entries use: they may pick the entry that mentions
    # them ("earbuds": the hygiene exceptions), but never count against one that doesn't.
    context_terms: list[str] = field(default_factory=list)
    # Words naming a payment method the shop doesn't take ("gift card"). Only the entry answering for a
    # named method has anything to say about it, so for the others they count as unknown words:
    # "can I return a gift card" is not answered by the return policy for the shop's own items, nor
    # "when is a postal order charged" by when cards are charged.
    foreign_terms: list[str] = field(default_factory=list)

    @property
    def optional_terms(self) -> list[str]:
        """Context, and the country or payment method named, where the question's words are about its topic.

        "can I return a gift card" names a payment method, but asks about returns.
        """
        named = [slot_term(slot) for slot, topic in SLOT_TOPICS.items()
                 if getattr(self.slots, slot) and TOPIC_WORDS[topic] & set(self.terms)]
        return self.context_terms + named


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    lexical: Scored
    dense: float | None  # cosine similarity to the entry's closest text; None without an embedder
    lexical_rank: int  # 0 for the lexical search's first choice

    @property
    def coverage(self) -> float:
        return self.lexical.coverage


def answer(question: str, topic: str | None = None, entities: Mapping[str, Any] | None = None,
           knowledge_base: KnowledgeBase | None = None, embedder: Embedder | None = None) -> Answer | None:
    """The grounded answer to `question`, or None when the knowledge base doesn't hold one.

    `topic` is the NLU's hint ("shipping", "payment", "returns", "warranty"); it only breaks
    ties, so a mislabelled question still finds its answer. `entities` may name a `country`
    or `payment_method` (values as the NLU extracted them: "UK", "DE", "paypal").
    `embedder` adds the dense search (the chat passes knowledge.MiniLMEmbedder); without one,
    the lexical search decides alone.
    Raises KnowledgeBaseError only if the knowledge base never loaded.
    """
    kb = knowledge_base or default_knowledge_base()
    parsed = understand(kb, question, topic, entities or {})
    if not parsed.terms:
        return _answer_from_context(kb, parsed)
    ranked = rank(kb, parsed, embedder)
    if not ranked or not _sure_enough(kb, parsed, ranked, fusion_for(embedder)):
        return None
    best = _country_answer_instead(kb, parsed, ranked[0].entry) or ranked[0].entry
    return _compose(kb, best, parsed, confidence=ranked[0].coverage)


def fusion_for(embedder: Embedder | None) -> Fusion:
    return HYBRID if embedder else LEXICAL_ONLY


def _sure_enough(kb: KnowledgeBase, question: Question, ranked: list[Candidate], fusion: Fusion) -> bool:
    best = ranked[0]
    # The words must support the fused pick as well: the lexical search's first choice, or an entry
    # that accounts for as much of the question. Where the meaning points to one entry and the words
    # to another, the question is ambiguous or about something the shop has no entry for.
    if best.lexical_rank != 0 and best.coverage < max(c.coverage for c in ranked):
        return False
    if best.dense is not None and best.dense < fusion.min_similarity:
        return False
    return best.coverage >= (fusion.refusal_threshold if _says_no(kb, question, best.entry) else fusion.threshold)


def _says_no(kb: KnowledgeBase, question: Question, entry: Entry) -> bool:
    """The entry's answer is a "no" from the shop's complete tables: a country we don't ship to, a method we don't take."""
    country, method = question.slots.country, question.slots.payment_method
    if country is not None and entry.topic == "shipping" and kb.zone_for(country.code) is None:
        return True
    return method is not None and not method.accepted and _needed_slot(entry) == "payment_method"


def understand(kb: KnowledgeBase, question: str, topic: str | None, entities: Mapping[str, Any]) -> Question:
    """Find the country and payment method the question names, and the terms left to search with.

    Their words are taken out of the terms: "austria" is not a word any entry uses, and it
    must not count against the shipping entries as an unknown word would.
    """
    index = search_index(kb)
    tokens, context_tokens = _split_off_other_entities(index, join_phrases(words(question)), entities)
    named = index.take_slots(tokens)
    methods = [method for method, _ in named.methods]
    slots = Slots(country=_entity_country(entities) or (named.countries[0] if named.countries else None),
                  payment_method=_entity_payment_method(index, entities) or (methods[0] if methods else None))
    hinted = topic or _first(entities.get("topic"))
    foreign = [token for method, said in named.methods if not method.accepted for token in said]
    return Question(text=question, terms=index.analyzer.terms(named.rest), slots=slots,
                    topic=TOPIC_NAMES.get(str(hinted).strip().lower()) if hinted else None,
                    context_terms=index.analyzer.terms(context_tokens),
                    foreign_terms=index.analyzer.terms(foreign))


def rank(kb: KnowledgeBase, question: Question, embedder: Embedder | None = None) -> list[Candidate]:
    """Entries that could answer, best first: by the lexical ranking, fused with the dense one given an embedder."""
    fusion = fusion_for(embedder)
    dense = _dense_similarities(kb, question.text, embedder)
    usable = [entry for entry in kb.entries if _can_answer(entry, question.slots) and (
        _is_about_its_topic(entry, question) or dense.get(entry.id, -1.0) >= fusion.same_topic_similarity)]
    index = search_index(kb)
    for_a_method = [entry for entry in usable if _needed_slot(entry) == "payment_method"]
    others = [entry for entry in usable if _needed_slot(entry) != "payment_method"]
    lexical = (index.score(question.terms, for_a_method, optional=question.optional_terms)
               + index.score(question.terms + question.foreign_terms, others, optional=question.optional_terms))

    def lexical_ranking(s: Scored) -> tuple[float, float]:
        bonus = SLOT_BONUS if _needed_slot(s.entry) else 0.0
        bonus += TOPIC_BONUS if s.entry.topic == question.topic else 0.0
        bonus += IMPLIED_TOPIC_BONUS if s.entry.topic == "payment" and question.slots.payment_method else 0.0
        return s.coverage + bonus + QUESTION_MATCH_WEIGHT * s.question_match, s.bm25

    candidates = [Candidate(s.entry, s, dense.get(s.entry.id), position)
                  for position, s in enumerate(sorted(lexical, key=lexical_ranking, reverse=True))]
    if fusion.rrf_k is None:
        return candidates
    by_meaning = {c.entry.id: position for position, c in
                  enumerate(sorted(candidates, key=lambda c: c.dense, reverse=True))}

    def fused(c: Candidate) -> tuple[float, float, float]:
        # Rounded, so that first-and-second ties first-and-second whatever the order of the additions;
        # a tie goes to the entry that accounts for more of the words, then to the closer meaning.
        reciprocal_ranks = 1 / (fusion.rrf_k + c.lexical_rank) + 1 / (fusion.rrf_k + by_meaning[c.entry.id])
        return round(reciprocal_ranks, 9), c.coverage, c.dense

    return sorted(candidates, key=fused, reverse=True)


def _dense_similarities(kb: KnowledgeBase, text: str, embedder: Embedder | None) -> dict[str, float]:
    if embedder is None:
        return {}
    meaning = search_index(kb).as_the_examples_say_it(text)
    return dense_index(kb, embedder).similarities(embedder.embed([meaning])[0])


def explain(question: str, topic: str | None = None, entities: Mapping[str, Any] | None = None,
            knowledge_base: KnowledgeBase | None = None, embedder: Embedder | None = None,
            limit: int = 3) -> tuple[Question, list[Candidate]]:
    """What the search made of a question and its best candidates: for `python -m knowledge ask`."""
    kb = knowledge_base or default_knowledge_base()
    parsed = understand(kb, question, topic, entities or {})
    return parsed, rank(kb, parsed, embedder)[:limit]


def example_questions_answered_elsewhere(kb: KnowledgeBase, embedder: Embedder | None = None) -> list[str]:
    """Example questions that another entry (or no entry) answers: the shop owner's early warning.

    Entries answering for a named country or payment method are skipped: their examples
    ("do you ship to this country") only make sense with one.
    """
    mismatches = []
    for entry in kb.entries:
        if _needed_slot(entry):
            continue
        for example in entry.questions:
            result = answer(example, knowledge_base=kb, embedder=embedder)
            if result is None or result.entry_id != entry.id:
                got = f"entry '{result.entry_id}'" if result else "no answer"
                mismatches.append(f"{entry.file}, entry '{entry.id}': the example {example!r} gets {got}")
    return mismatches


def _country_answer_instead(kb: KnowledgeBase, question: Question, best: Entry) -> Entry | None:
    """The answer for the country the customer named, where it says more than the best entry.

    It replaces an overview of all zones ("how much do you charge to ship to Spain?" wants
    Spain's price, not the list), and any shipping answer for a country we don't ship to:
    "are customs fees included for Norway?" must not get the customs rules of the countries
    we do ship to, as if Norway were one of them.
    """
    country = question.slots.country
    if country is None or best.topic != "shipping":
        return None
    shipped = kb.zone_for(country.code) is not None
    if shipped and best.answer_from not in OVERVIEWS_OF_ALL_ZONES:
        return None
    return next((e for e in kb.entries if _needed_slot(e) == "country"), None)


def _answer_from_context(kb: KnowledgeBase, question: Question) -> Answer | None:
    """Nothing left but a country or payment method ("and to Austria?", "paypal?").

    Answer with the entry for that slot if the NLU's topic says what the question is about,
    or if the slot says it by itself.
    """
    implied = SLOTS_THAT_IMPLY_THEIR_TOPIC if not ASKS_WHETHER_WE_SELL & set(words(question.text)) else set()
    for entry in kb.entries:
        slot = _needed_slot(entry)
        if slot and _can_answer(entry, question.slots) and (entry.topic == question.topic or slot in implied):
            return _compose(kb, entry, question, confidence=CONTEXT_ONLY_CONFIDENCE)
    return None


def _compose(kb: KnowledgeBase, entry: Entry, question: Question, confidence: float) -> Answer:
    """The entry's answer: computed from the tables, its own text, or the first followed by the second."""
    parts, source_url, title = [], entry.source_url, entry.title
    if entry.answer_from:
        rendered = COMPUTED[entry.answer_from].render(kb, entry, question.slots)
        parts.append(rendered.text)
        source_url, title = rendered.source_url, rendered.title
    if entry.answer:
        parts.append(entry.answer)
    return Answer(text=" ".join(parts), source_url=source_url, title=title, topic=entry.topic,
                  entry_id=entry.id, confidence=round(min(confidence, 1.0), 2))


def _is_about_its_topic(entry: Entry, question: Question) -> bool:
    named_a_payment_method = question.slots.payment_method is not None and entry.topic == "payment"
    return (entry.topic == question.topic or named_a_payment_method
            or bool(TOPIC_WORDS[entry.topic] & set(question.terms)))


def _needed_slot(entry: Entry) -> str | None:
    return COMPUTED[entry.answer_from].needs_slot if entry.answer_from else None


def _can_answer(entry: Entry, slots: Slots) -> bool:
    needed = _needed_slot(entry)
    return needed is None or getattr(slots, needed) is not None


def _split_off_other_entities(index: SearchIndex, tokens: list[str],
                              entities: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Take the words of other entities (a product, a category, an order number) out of the question.

    They say what the question is about, not what it asks: in "can I return my jacket" the
    jacket must not count against the return policy. Those that entries use come back as
    context ("earbuds" picks the hygiene exceptions over the general return policy).
    """
    # Compared by stem: the NLU may normalise "jacket" to the value "jackets".
    other_stems = {stem(word) for name, value in entities.items() if name not in SLOT_ENTITIES
                   for item in (value if isinstance(value, (list, tuple)) else [value]) if item
                   for word in words(str(item))}
    question = [token for token in tokens if stem(token) not in other_stems]
    context = [token for token in tokens
               if stem(token) in other_stems and index.analyzer.correct(token) in index.vocabulary]
    return question, context


def _entity_country(entities: Mapping[str, Any]) -> Country | None:
    value = _first(entities.get("country"))
    return resolve_country(value) if value else None


def _entity_payment_method(index: SearchIndex, entities: Mapping[str, Any]) -> PaymentMethod | None:
    value = _first(entities.get("payment_method"))
    found = index.find_payment_methods(join_phrases(words(value))) if value else []
    return found[0][0] if found else None


def _first(value: Any) -> str | None:
    """Rasa may give one value or a list of them for an entity."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return str(value) if value not in (None, "") else None


# ---------------------------------------------------------------- loading once

_cache_lock = threading.Lock()
_cache: dict[Path, tuple[tuple, KnowledgeBase]] = {}


def default_path() -> Path:
    return Path(os.environ.get(PATH_VARIABLE) or DEFAULT_PATH)


def default_knowledge_base(path: str | Path | None = None) -> KnowledgeBase:
    """The knowledge base, loaded once and reloaded when a file changes.

    Shop owners edit the YAML while the action server runs; a broken edit must not take the
    answers down, so the last good version keeps serving (and the error is logged).
    """
    folder = Path(path) if path else default_path()
    with _cache_lock:
        version = _version(folder)
        cached = _cache.get(folder)
        if cached and cached[0] == version:
            return cached[1]
        try:
            kb = load(folder)
        except KnowledgeBaseError:
            if cached is None:
                raise
            logger.exception("Knowledge base %s has errors after an edit; still using the previous version", folder)
            _cache[folder] = (version, cached[1])  # log once per broken edit, not once per question
            return cached[1]
        _cache[folder] = (version, kb)
        return kb


def _version(folder: Path) -> tuple:
    try:
        return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in knowledge_files(folder))
    except OSError:
        return ()


def search_index(kb: KnowledgeBase) -> SearchIndex:
    # Built on first use and kept with the knowledge base it indexes, so it can't go stale.
    if kb.search_index is None:
        kb.search_index = SearchIndex(kb)
    return kb.search_index


_dense_lock = threading.Lock()


def dense_index(kb: KnowledgeBase, embedder: Embedder) -> DenseIndex:
    """The entries' embeddings: computed once per knowledge-base version and embedder, as the lexical index."""
    with _dense_lock:  # two first questions at once must not embed the knowledge base twice
        if embedder.name not in kb.dense_indexes:
            kb.dense_indexes[embedder.name] = DenseIndex.build(kb, embedder)
        return kb.dense_indexes[embedder.name]


def warm_up(embedder: Embedder | None = None, knowledge_base: KnowledgeBase | None = None) -> KnowledgeBase:
    """Load the knowledge base, and with an embedder its model and the entries' embeddings, before the first question.

    Raises KnowledgeBaseError if the knowledge base can't be loaded: at start, that should stop the server.
    """
    kb = knowledge_base or default_knowledge_base()
    search_index(kb)
    if embedder is not None:
        dense_index(kb, embedder)
    return kb
