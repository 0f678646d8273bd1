"""For shop owners: check the knowledge base, and try questions against it.

    python -m knowledge check [--path knowledge_base] [--lexical-only]
    python -m knowledge ask "how much is shipping to austria" [--topic shipping] [--country AT]
                            [--payment-method paypal] [--explain] [--path knowledge_base] [--lexical-only]

Both search as the chat does, with the sentence model (loading it takes a few seconds);
--lexical-only leaves it out.
"""

from __future__ import annotations

import argparse
import os
import sys

from knowledge.embedding import Embedder, MiniLMEmbedder
from knowledge.loading import KnowledgeBaseError, load
from knowledge.model import KnowledgeBase
from knowledge.retrieval import answer, default_path, example_questions_answered_elsewhere, explain, fusion_for


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    # TensorFlow's start-up notes (no GPU, CPU instructions) are noise for a shop owner.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return arguments.command(arguments)


def check(arguments: argparse.Namespace) -> int:
    try:
        kb = load(arguments.path)
    except KnowledgeBaseError as error:
        print(f"{arguments.path}: {len(error.problems)} problem(s) to fix:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    # Warnings don't fail the check: the knowledge base still works, but an answer may read
    # long or a question may be answered by another entry than the owner meant.
    for warning in kb.warnings + example_questions_answered_elsewhere(kb, _embedder(arguments)):
        print(f"  warning: {warning}")
    print(f"{arguments.path}: OK ({len(kb.entries)} entries, {len(kb.zones)} shipping zones, "
          f"{len(kb.payment_methods)} payment methods)")
    return 0


def ask(arguments: argparse.Namespace) -> int:
    try:
        kb = load(arguments.path)
    except KnowledgeBaseError as error:
        print(error, file=sys.stderr)
        return 1
    entities = {name: value for name, value in
                (("country", arguments.country), ("payment_method", arguments.payment_method)) if value}
    embedder = _embedder(arguments)
    result = answer(arguments.question, arguments.topic, entities, knowledge_base=kb, embedder=embedder)
    if result:
        print(result.text)
        print(f"  source: {result.source_url}")
        print(f"  entry: {result.entry_id} ({result.topic}), confidence {result.confidence:.2f}")
    else:
        print("No answer: the chat would say it doesn't know and offer a colleague.")
    if arguments.explain or not result:
        _print_candidates(arguments, entities, kb, embedder)
    return 0


def _print_candidates(arguments: argparse.Namespace, entities: dict, kb: KnowledgeBase,
                      embedder: Embedder | None) -> None:
    parsed, candidates = explain(arguments.question, arguments.topic, entities, knowledge_base=kb, embedder=embedder)
    slots = parsed.slots
    print(f"  understood: terms {parsed.terms}, country {slots.country.short_name if slots.country else None}, "
          f"payment method {slots.payment_method.id if slots.payment_method else None}")
    print(f"  best matches (an answer needs {fusion_for(embedder).threshold:.2f}):")
    for candidate in candidates:
        meaning = f"  (meaning {candidate.dense:.2f})" if candidate.dense is not None else ""
        print(f"    {candidate.coverage:.2f}  {candidate.entry.id}{meaning}")


def _embedder(arguments: argparse.Namespace) -> Embedder | None:
    return None if arguments.lexical_only else MiniLMEmbedder()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="command")
    check_command = commands.add_parser("check", help="validate the knowledge base (exit 1 on errors)")
    check_command.set_defaults(command=check)
    ask_command = commands.add_parser("ask", help="answer a question as the chat would")
    ask_command.set_defaults(command=ask)
    ask_command.add_argument("question")
    ask_command.add_argument("--topic", help="the NLU's topic: shipping, payment, returns or warranty")
    ask_command.add_argument("--country", help="a country entity, e.g. AT or Austria")
    ask_command.add_argument("--payment-method", help="a payment method entity, e.g. paypal")
    ask_command.add_argument("--explain", action="store_true", help="also show the best matches and scores")
    for command in (check_command, ask_command):
        command.add_argument("--path", default=str(default_path()), help="the knowledge base folder")
        command.add_argument("--lexical-only", action="store_true",
                             help="search without the sentence model (quicker to start; finds fewer paraphrases)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
