"""Dense search: how close a question's meaning is to each entry's, whatever words it uses.

Every example question, the title and the fixed answer of an entry are embedded once per
knowledge-base version; an entry's similarity to a question is that of its closest text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.embedding import Embedder
from knowledge.model import Entry, KnowledgeBase


@dataclass(frozen=True)
class DenseIndex:
    embedder_name: str
    entry_ids: tuple[str, ...]  # in the order of the knowledge base
    first_rows: np.ndarray  # where each entry's rows start in `vectors`
    vectors: np.ndarray  # one L2-normalised row per text, grouped by entry

    @classmethod
    def build(cls, kb: KnowledgeBase, embedder: Embedder) -> DenseIndex:
        texts_per_entry = [entry_texts(entry) for entry in kb.entries]
        first_rows = np.cumsum([0] + [len(texts) for texts in texts_per_entry[:-1]])
        vectors = embedder.embed([text for texts in texts_per_entry for text in texts])
        return cls(embedder.name, tuple(e.id for e in kb.entries), first_rows, vectors)

    def similarities(self, question_vector: np.ndarray) -> dict[str, float]:
        """Entry id -> cosine similarity of its closest text to the question."""
        closest = np.maximum.reduceat(self.vectors @ question_vector, self.first_rows)
        return dict(zip(self.entry_ids, closest.tolist()))


def entry_texts(entry: Entry) -> list[str]:
    return [entry.title, *entry.questions, *([entry.answer] if entry.answer else [])]
