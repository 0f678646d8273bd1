"""Grounded answers to policy questions (shipping, payment, returns, warranty) from knowledge_base/.

    from knowledge import MiniLMEmbedder, answer, warm_up
    embedder = MiniLMEmbedder()
    warm_up(embedder)  # at start: loads the sentence model and embeds the knowledge base (seconds)
    result = answer("how much is shipping to austria", topic="shipping", entities={"country": "AT"},
                    embedder=embedder)
    if result is None: ...  # not in the data: say so and offer a person
    else: result.text, result.source_url

No network: YAML files, a lexical search, a sentence model shipped as a pip package, and answers
computed from the shop's tables. Without an embedder, the lexical search answers alone.
"""

from knowledge.embedding import Embedder, MiniLMEmbedder
from knowledge.loading import KnowledgeBaseError, load
from knowledge.model import TOPICS, Answer, KnowledgeBase
from knowledge.retrieval import HYBRID, LEXICAL_ONLY, answer, default_knowledge_base, explain, warm_up

__all__ = ["HYBRID", "LEXICAL_ONLY", "TOPICS", "Answer", "Embedder", "KnowledgeBase", "KnowledgeBaseError",
           "MiniLMEmbedder", "answer", "default_knowledge_base", "explain", "load", "warm_up"]
