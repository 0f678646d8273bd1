"""Fails the build when the NLU model generalises worse than the agreed floor.

Reads what `rasa test nlu` wrote for the held-out test set (tests/nlu/holdout.yml).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nlu_components.formats import FORMAT_ENTITIES

INTENT_F1_FLOOR = 0.85
ENTITY_F1_FLOOR = 0.80
PER_INTENT_F1_FLOOR = 0.6


def weighted_f1(report: dict, extractor: str) -> float:
    """Each extractor judged on the entities it is responsible for: rasa test scores every extractor on
    every entity type, but FormatEntityExtractor finds only the format types and replaces DIET's of them."""
    mine = (lambda entity: entity in FORMAT_ENTITIES) if extractor == "FormatEntityExtractor" else (
        lambda entity: entity not in FORMAT_ENTITIES)
    scores = {name: value for name, value in report.items()
              if isinstance(value, dict) and "support" in value and not name.endswith(" avg") and mine(name)}
    support = sum(value["support"] for value in scores.values())
    return sum(value["f1-score"] * value["support"] for value in scores.values()) / support if support else 1.0


def main(results: Path) -> int:
    intents = json.loads((results / "intent_report.json").read_text())
    failures = []
    intent_f1 = intents["weighted avg"]["f1-score"]
    print(f"held-out intents: weighted F1 {intent_f1:.3f} (floor {INTENT_F1_FLOOR})")
    if intent_f1 < INTENT_F1_FLOOR:
        failures.append(f"intent weighted F1 {intent_f1:.3f} < {INTENT_F1_FLOOR}")
    for name, scores in sorted(intents.items()):
        if isinstance(scores, dict) and "confused_with" in scores and scores["f1-score"] < PER_INTENT_F1_FLOOR:
            failures.append(f"intent {name}: F1 {scores['f1-score']:.2f} (confused with {scores['confused_with']})")
    entity_reports = sorted(results.glob("*Extractor_report.json")) + sorted(results.glob("DIETClassifier_report.json"))
    for report in entity_reports:
        entity_f1 = weighted_f1(json.loads(report.read_text()), report.stem.removesuffix("_report"))
        print(f"held-out entities ({report.stem}): weighted F1 {entity_f1:.3f} (floor {ENTITY_F1_FLOOR})")
        if entity_f1 < ENTITY_F1_FLOOR:
            failures.append(f"{report.stem}: entity weighted F1 {entity_f1:.3f} < {ENTITY_F1_FLOOR}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
