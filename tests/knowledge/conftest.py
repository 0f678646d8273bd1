"""The shipped knowledge base, editable copies of it for tests that break or change it, and a stand-in
for the sentence model."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from knowledge import KnowledgeBase, load
from knowledge.retrieval import DEFAULT_PATH
from knowledge.text import words


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load(DEFAULT_PATH)


class EditableCopy:
    """A copy of the shipped knowledge base in a temporary folder, edited as text like a shop owner would."""

    def __init__(self, folder: Path):
        self.folder = folder
        shutil.copytree(DEFAULT_PATH, folder, ignore=shutil.ignore_patterns("*.md"))

    def replace(self, file: str, old: str, new: str) -> None:
        text = (self.folder / file).read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} is not in {file}"
        (self.folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")

    def write(self, file: str, text: str) -> None:
        (self.folder / file).write_text(text, encoding="utf-8")

    def load(self) -> KnowledgeBase:
        return load(self.folder)


@pytest.fixture
def kb_copy(tmp_path) -> EditableCopy:
    return EditableCopy(tmp_path / "knowledge_base")


class FakeEmbedder:
    """A deterministic stand-in for the sentence model, without TensorFlow: a bag of hashed words.

    `same_meaning` maps a question to a text the model would read as meaning the same (an example
    question of an entry), so a test decides what the "model" understands. `texts_embedded` counts
    the texts embedded, so a test can tell what is embedded once and what for every question.
    """

    name = "fake"
    dimensions = 256

    def __init__(self, same_meaning: dict[str, str] | None = None):
        # Compared as words: the search may hand the model its own spelling of the question.
        self.same_meaning = {_as_words(text): meaning for text, meaning in (same_meaning or {}).items()}
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(self.same_meaning.get(_as_words(text), text)):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


def _as_words(text: str) -> str:
    return " ".join(words(text))
