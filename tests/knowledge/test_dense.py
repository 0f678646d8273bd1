"""The dense half of the search, with a stand-in for the sentence model: what the meaning may decide, what not.

`FakeEmbedder(same_meaning={question: example})` plays a model that reads the question as meaning the
example, so each test controls what is "understood". test_dev_questions.py runs the real model.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from knowledge import answer, default_knowledge_base
from knowledge.dense import DenseIndex, entry_texts
from knowledge.retrieval import dense_index
from tests.knowledge.conftest import FakeEmbedder


def test_the_meaning_breaks_a_tie_of_words(kb):
    # "return" and "postage" are words of the return window and of the return costs alike.
    question = "return postage?"
    assert answer(question, knowledge_base=kb).entry_id == "return-window"
    model = FakeEmbedder({question: "who pays for the return shipping"})
    assert answer(question, knowledge_base=kb, embedder=model).entry_id == "return-costs"


def test_the_meaning_lets_in_a_question_without_its_topics_words(kb):
    # "change" and "larger" are words of the exchanges, but none that says "returns".
    question = "can I change it for a larger one"
    assert answer(question, knowledge_base=kb) is None
    model = FakeEmbedder({question: "can I swap it for another size"})
    assert answer(question, knowledge_base=kb, embedder=model).entry_id == "exchanges"


def test_a_close_meaning_is_not_enough_without_the_words(kb):
    question = "what happens if the courier loses my parcel"
    model = FakeEmbedder({question: "which courier will bring my parcel"})
    assert answer(question, knowledge_base=kb, embedder=model) is None


def test_meaning_and_words_pointing_to_different_entries_get_no_answer(kb):
    question = "how long do refunds take"
    assert answer(question, knowledge_base=kb, embedder=FakeEmbedder()).entry_id == "refunds"
    model = FakeEmbedder({question: "how long does delivery take"})
    assert answer(question, knowledge_base=kb, embedder=model) is None


def test_words_in_common_with_a_meaning_far_away_get_no_answer(kb):
    # As if "is shipping free" were said of something the shop has no policy on: the words alone
    # would answer it, the meaning says they are a coincidence.
    question = "is shipping free"
    assert answer(question, knowledge_base=kb, embedder=FakeEmbedder()).entry_id == "free-shipping"
    far = FakeEmbedder({question: "are your materials recycled"})
    assert answer(question, knowledge_base=kb, embedder=far) is None


def test_the_entries_are_embedded_once_per_knowledge_base_version(kb_copy):
    model = FakeEmbedder()
    kb = default_knowledge_base(kb_copy.folder)
    entry_count = sum(len(entry_texts(entry)) for entry in kb.entries)
    answer("how much does shipping cost", knowledge_base=kb, embedder=model)
    answer("how long do refunds take", knowledge_base=kb, embedder=model)
    assert model.texts_embedded == entry_count + 2  # then only each question
    kb_copy.replace("returns.yml", "      - how long do refunds take\n",
                    "      - how long do refunds take\n      - when is my refund paid\n")
    edited = default_knowledge_base(kb_copy.folder)
    answer("how long do refunds take", knowledge_base=edited, embedder=model)
    assert model.texts_embedded == entry_count + 2 + (entry_count + 1) + 1


def test_questions_at_once_embed_the_knowledge_base_once(kb_copy):
    class SlowModel(FakeEmbedder):
        def embed(self, texts):
            time.sleep(0.05)  # long enough for the other threads to ask meanwhile
            return super().embed(texts)

    model, kb = SlowModel(), kb_copy.load()
    built: list[DenseIndex] = []
    threads = [threading.Thread(target=lambda: built.append(dense_index(kb, model))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(index) for index in built}) == 1
    assert model.texts_embedded == sum(len(entry_texts(entry)) for entry in kb.entries)


def test_an_entry_is_as_close_as_its_closest_text(kb):
    model = FakeEmbedder()
    example = next(e for e in kb.entries if e.id == "refunds").questions[2]
    similarities = dense_index(kb, model).similarities(model.embed([example])[0])
    assert np.isclose(similarities["refunds"], 1.0)
    assert max(similarities, key=similarities.get) == "refunds"
