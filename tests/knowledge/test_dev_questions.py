"""The search with the real sentence model, on the development set of paraphrased policy questions.

The one module of tests/knowledge that loads all-MiniLM-L6-v2 (seconds, once for the module); the
others use tests.knowledge.conftest.FakeEmbedder. dev_policy_questions.yml is what knowledge/retrieval.py's
settings were tuned on; tests/understanding/policy_questions.yml is the exam and is only measured
(benchmarks/understanding_sets.py --knowledge-base-only).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np
import pytest

from benchmarks.understanding_sets import load_policy_questions, score_policy
from knowledge import KnowledgeBase, MiniLMEmbedder, answer
from knowledge.embedding import _load_once
from knowledge.retrieval import example_questions_answered_elsewhere
from tests.knowledge.test_answers import NOT_IN_THE_DATA, REALISTIC_QUESTIONS, TYPOS, UNRELATED

DEV_SET = Path(__file__).with_name("dev_policy_questions.yml")
EXAM_SET = Path(__file__).resolve().parents[1] / "understanding" / "policy_questions.yml"
# Right answers plus right refusals; and no wrong answer at all (a wrong answer costs more than none).
REQUIRED_SHARE = 0.9


@pytest.fixture(scope="module")
def model() -> MiniLMEmbedder:
    embedder = MiniLMEmbedder()
    embedder.load()
    return embedder


def test_the_dev_set_gets_right_answers_and_refusals_and_never_a_wrong_one(kb: KnowledgeBase, model):
    outcomes: dict[str, list[str]] = {"correct_answer": [], "correct_refusal": [], "wrong": [], "missed": []}
    for item in load_policy_questions(DEV_SET):
        result = answer(item["q"], knowledge_base=kb, embedder=model)
        outcome, why = score_policy(item, None, result, result.text if result else None)
        outcomes[outcome].append(f"{item['q']}: {why}")
    assert outcomes["wrong"] == []
    right = len(outcomes["correct_answer"]) + len(outcomes["correct_refusal"])
    assert right / sum(map(len, outcomes.values())) >= REQUIRED_SHARE, outcomes["missed"]


@pytest.mark.parametrize("question, entry_id", {**REALISTIC_QUESTIONS, **TYPOS}.items())
def test_the_model_keeps_what_the_words_answer(kb, model, question, entry_id):
    result = answer(question, knowledge_base=kb, embedder=model)
    assert result is not None and result.entry_id == entry_id


@pytest.mark.parametrize("question", [*UNRELATED, *NOT_IN_THE_DATA])
def test_the_model_adds_no_answer_where_the_data_has_none(kb, model, question):
    assert answer(question, knowledge_base=kb, embedder=model) is None


def test_every_example_question_is_answered_by_its_own_entry_with_the_model(kb, model):
    assert example_questions_answered_elsewhere(kb, model) == []


def test_the_model_gives_unit_vectors_closer_for_the_same_meaning(model):
    vectors = model.embed(["how long does delivery take", "when will my parcel arrive", "can I pay with PayPal"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_the_model_loads_once_per_process(model):
    loads = _load_once.cache_info().misses
    MiniLMEmbedder().embed(["another instance"])
    assert _load_once.cache_info().misses == loads


def test_the_dev_set_and_the_knowledge_base_are_written_apart_from_the_exam(kb):
    # Tuning on questions that are near-copies of the exam's would make the exam measure nothing.
    exam = [_normal(item["q"]) for item in load_policy_questions(EXAM_SET)]
    dev = [_normal(item["q"]) for item in load_policy_questions(DEV_SET)]
    examples = [_normal(q) for entry in kb.entries for q in entry.questions]
    assert _near_copies(dev, exam) == []
    assert _near_copies(examples, dev) == []
    assert set(examples) & set(exam) == set()


def _normal(text: str) -> str:
    return re.sub(r"[^\w\s]", "", text.lower()).strip()


def _near_copies(texts: list[str], others: list[str], ratio: float = 0.85) -> list[tuple[str, str]]:
    def near(text: str, other: str) -> bool:
        matcher = difflib.SequenceMatcher(None, text, other)
        return matcher.quick_ratio() >= ratio and matcher.ratio() >= ratio  # the first bounds the second, quickly
    return [(text, other) for text in texts for other in others if near(text, other)]
