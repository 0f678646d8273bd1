"""Answering a customer's question from the knowledge base, or declining to.

`answer()` is what the action layer calls. It returns an Answer only when an
entry accounts for enough of the question; otherwise None, and the dialogue
says it doesn't know and offers a person. A wrong answer costs more than no answer.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from knowledge.computed import COMPUTED, Slots
from knowledge.countries import Country, resolve_country
from knowledge.loading import KnowledgeBaseError, knowledge_files, load
from knowledge.model import Answer, Entry, KnowledgeBase, PaymentMethod
from knowledge.search import Scored, SearchIndex
from knowledge.text import join_phrases, stem, words

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "knowledge_base"
PATH_VARIABLE = "KNOWLEDGE_BASE_DIR"

# Minimum share of the question an entry must account for. Tuned on tests/knowledge/test_answers.py:
# the realistic questions and typos score 0.72-1.0; unrelated ones and policy questions the data
# doesn't cover score at most 0.46 (one policy word plus one unknown word: "return ... on sale").
ANSWER_THRESHOLD = 0.55
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
# Computed answers that list every zone: for a named country, its own answer says it better.
OVERVIEWS_OF_ALL_ZONES = {"shipping_costs", "delivery_times", "free_shipping", "express_shipping",
                          "shipping_countries"}
# Confidence of an answer built from context alone: the NLU said "shipping" and the message was
# just a country ("and to Austria?").
CONTEXT_ONLY_CONFIDENCE = 0.6

# Entities the search uses as slots; the values of all others are treated as context.
SLOT_ENTITIES = {"country", "payment_method", "topic"}
# A payment method's name is only ever said about paying, so "paypal?" alone is a payment
# question. A country is said about many things ("I'm in Austria"), so it needs the NLU's topic.
SLOTS_THAT_IMPLY_THEIR_TOPIC = {"payment_method"}

TOPIC_NAMES = {
    "shipping": "shipping", "shipping_info": "shipping", "delivery": "shipping",
    "payment": "payment", "payments": "payment", "payment_info": "payment",
    "returns": "returns", "return": "returns", "return_policy": "returns", "refund": "returns", "refunds": "returns",
    "warranty": "warranty", "warranty_info": "warranty", "guarantee": "warranty",
}


@dataclass(frozen=True)
class Question:
    """A question as the search sees it: its terms, what it names, and the NLU's topic."""

    terms: list[str]
    slots: Slots
    topic: str | None
    # Words of other entities (a product) that entries use: they may pick the entry that mentions
    # them ("earbuds": the hygiene exceptions), but never count against one that doesn't.
    context_terms: list[str] = field(default_factory=list)


def answer(question: str, topic: str | None = None, entities: Mapping[str, Any] | None = None,
           knowledge_base: KnowledgeBase | None = None) -> Answer | None:
    """The grounded answer to `question`, or None when the knowledge base doesn't hold one.

    `topic` is the NLU's hint ("shipping", "payment", "returns", "warranty"); it only breaks
    ties, so a mislabelled question still finds its answer. `entities` may name a `country`
    or `payment_method` (values as the NLU extracted them: "UK", "DE", "paypal").
    Raises KnowledgeBaseError only if the knowledge base never loaded.
    """
    kb = knowledge_base or default_knowledge_base()
    parsed = understand(kb, question, topic, entities or {})
    if not parsed.terms:
        return _answer_from_context(kb, parsed)
    ranked = rank(kb, parsed)
    if not ranked or ranked[0].coverage < ANSWER_THRESHOLD:
        return None
    best = _country_answer_instead(kb, parsed, ranked[0].entry) or ranked[0].entry
    return _compose(kb, best, parsed, confidence=ranked[0].coverage)


def understand(kb: KnowledgeBase, question: str, topic: str | None, entities: Mapping[str, Any]) -> Question:
    """Find the country and payment method the question names, and the terms left to search with.

    Their words are taken out of the terms: "austria" is not a word any entry uses, and it
    must not count against the shipping entries as an unknown word would.
    """
    index = search_index(kb)
    tokens, context_tokens = _split_off_other_entities(index, join_phrases(words(question)), entities)
    countries, methods, tokens = index.take_slots(tokens)
    slots = Slots(country=_entity_country(entities) or (countries[0] if countries else None),
                  payment_method=_entity_payment_method(index, entities) or (methods[0] if methods else None))
    hinted = topic or _first(entities.get("topic"))
    return Question(terms=index.analyzer.terms(tokens), slots=slots,
                    topic=TOPIC_NAMES.get(str(hinted).strip().lower()) if hinted else None,
                    context_terms=index.analyzer.terms(context_tokens))


def rank(kb: KnowledgeBase, question: Question) -> list[Scored]:
    """Entries that could answer, best first."""
    usable = [entry for entry in kb.entries
              if _can_answer(entry, question.slots) and _is_about_its_topic(entry, question)]
    scored = search_index(kb).score(question.terms, usable, optional=question.context_terms)

    def ranking(s: Scored) -> tuple[float, float]:
        bonus = SLOT_BONUS if _needed_slot(s.entry) else 0.0
        bonus += TOPIC_BONUS if s.entry.topic == question.topic else 0.0
        bonus += IMPLIED_TOPIC_BONUS if s.entry.topic == "payment" and question.slots.payment_method else 0.0
        return s.coverage + bonus + QUESTION_MATCH_WEIGHT * s.question_match, s.bm25

    return sorted(scored, key=ranking, reverse=True)


def explain(question: str, topic: str | None = None, entities: Mapping[str, Any] | None = None,
            knowledge_base: KnowledgeBase | None = None, limit: int = 3) -> tuple[Question, list[Scored]]:
    """What the search made of a question and its best candidates: for `python -m knowledge ask`."""
    kb = knowledge_base or default_knowledge_base()
    parsed = understand(kb, question, topic, entities or {})
    return parsed, rank(kb, parsed)[:limit]


def example_questions_answered_elsewhere(kb: KnowledgeBase) -> list[str]:
    """Example questions that another entry (or no entry) answers: the shop owner's early warning.

    Entries answering for a named country or payment method are skipped: their examples
    ("do you ship to this country") only make sense with one.
    """
    mismatches = []
    for entry in kb.entries:
        if _needed_slot(entry):
            continue
        for example in entry.questions:
            result = answer(example, knowledge_base=kb)
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
    for entry in kb.entries:
        slot = _needed_slot(entry)
        if slot and _can_answer(entry, question.slots) and (
                entry.topic == question.topic or slot in SLOTS_THAT_IMPLY_THEIR_TOPIC):
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
