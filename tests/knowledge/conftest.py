"""The shipped knowledge base, and editable copies of it for tests that break or change it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, load
from knowledge.retrieval import DEFAULT_PATH


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
