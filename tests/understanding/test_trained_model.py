"""The trained model on messages it has never seen (issue 10), as part of `make test`.

Generated messages (templates x values from benchmarks/understanding/entity_values.yml) and the sets in this
folder, written apart from the training data, go through the trained model in batches, once. The thresholds
are the issue's: they fail when the model stops understanding customers as they really write. The full
reports (every format, every miss) come from benchmarks/entity_extraction.py and understanding_sets.py.

Never copy these messages into data/nlu/: the tests would then measure memory, not understanding.
"""

from __future__ import annotations

import asyncio
import collections

import pytest

from actions.confirmation import is_clear_yes
from benchmarks import entity_extraction as entities
from benchmarks import understanding_sets as sets

pytestmark = pytest.mark.e2e

# Messages per entity and format here; the benchmark's default (500) is for the reported numbers.
PER_FORMAT = 60
TARGETS = {"email": 0.99, "order_id": 0.99, "phone": 0.95}


class PreParsed(sets.Parser):
    """The benchmark's parser, fed from one batched pass through the model instead of a message at a time."""

    def __init__(self, model: entities.Parser, texts: list[str]):
        super().__init__(agent=None, thresholds=sets.fallback_thresholds())
        unique = sorted(set(texts))
        self.parsed = dict(zip(unique, model.parse_full(unique)))

    async def parse(self, text: str) -> dict:
        full = self.parsed[text]
        ranking = [r for r in full.get("intent_ranking") or [] if r.get("name") != sets.FALLBACK]
        top = ranking[0] if ranking else {"name": None, "confidence": 0.0}
        intent = full.get("intent") or {}
        return {"text": text, "intent": intent.get("name"), "confidence": float(intent.get("confidence") or 0.0),
                "top_intent": top["name"], "top_confidence": float(top["confidence"]),
                "entities": full.get("entities") or [], "raw": {**full, "text": text}}


@pytest.fixture(scope="module")
def model() -> entities.Parser:
    if not entities.DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {entities.DEFAULT_MODEL}: run `make train` first (make test does)")
    return entities.Parser(entities.DEFAULT_MODEL, batch_size=64)


@pytest.fixture(scope="module")
def written_apart(model) -> tuple[PreParsed, list[dict], dict, dict]:
    policy, off_domain, negations = sets.load_sets()
    texts = ([item["q"] for item in policy] + [t for group in off_domain.values() for t in group]
             + [t for group in negations.values() for t in group])
    return PreParsed(model, texts), policy, off_domain, negations


def test_values_with_a_known_format_are_found_however_they_are_written(model):
    messages = entities.generate_all(count=PER_FORMAT, entities=list(TARGETS))
    parsed = model.parse([m.text for m in messages], True, lambda done: None,
                         [entities.channel_metadata(m) for m in messages])
    outcomes = collections.defaultdict(list)
    for message, found in zip(messages, parsed):
        outcomes[message.entity].append(entities.judge(message, found).ok)
    rates = {entity: sum(oks) / len(oks) for entity, oks in outcomes.items()}
    assert all(rates[entity] >= target for entity, target in TARGETS.items()), rates


def test_off_domain_questions_end_as_out_of_scope(written_apart):
    parser, _, off_domain, _ = written_apart
    result = asyncio.run(sets.measure_out_of_scope(parser, off_domain))
    assert result["share"] >= 0.80, result["mistaken_for"]


def test_no_way_of_saying_no_is_taken_for_a_yes(written_apart):
    parser, _, _, negations = written_apart
    taken_for_yes = [text for group in negations.values() for text in group
                     if is_clear_yes(asyncio.run(parser.parse(text))["raw"])]
    assert taken_for_yes == []


@pytest.mark.xfail(strict=True, reason="issue 10, open: the knowledge base alone answers 84 % of these with one "
                   "wrong answer (warranty claim for an accidental breakage); the target is 90 % and none wrong")
def test_policy_questions_get_the_right_answer_or_an_honest_no(written_apart):
    parser, policy, _, _ = written_apart
    result = asyncio.run(sets.measure_policy(parser, policy, sets.policy_intents()))
    wrong = [(row["q"], row["why"]) for row in result["items"] if row["outcome"] == "wrong"]
    assert wrong == []
    assert result["correct_share"] >= 0.90, [(row["q"], row["why"]) for row in result["items"]
                                             if row["outcome"] == "missed"]
