"""Grounded answers to policy questions (shipping, payment, returns, warranty) from knowledge_base/.

    from knowledge import answer
    result = answer("how much is shipping to austria", topic="shipping", entities={"country": "AT"})
    if result is None: ...  # not in the data: say so and offer a person
    else: result.text, result.source_url

No network, no model: YAML files, lexical search, and answers computed from the shop's tables.
"""

from knowledge.loading import KnowledgeBaseError, load
from knowledge.model import TOPICS, Answer, KnowledgeBase
from knowledge.retrieval import ANSWER_THRESHOLD, answer, default_knowledge_base, explain

__all__ = ["ANSWER_THRESHOLD", "TOPICS", "Answer", "KnowledgeBase", "KnowledgeBaseError", "answer",
           "default_knowledge_base", "explain", "load"]
