"""Cross-validates NLU pipelines side by side on this repo's training data.

    .venv/bin/python benchmarks/compare_nlu_pipelines.py [--folds 5] [config.yml ...]

For each config: time to train on all of data/nlu, k-fold cross-validation
(intent and entity F1 on the held-out folds) and F1 on tests/nlu/holdout.yml.
Training times are wall-clock on this machine, so compare them only within one
run (the configs run one after the other under the same load).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).parent / "rasa")
OUT = REPO / "results" / "nlu-benchmark"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run(*args: str) -> float:
    started = time.monotonic()
    subprocess.run([RASA, *args], cwd=REPO, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def weighted_f1(report: Path) -> float | None:
    return json.loads(report.read_text())["weighted avg"]["f1-score"] if report.exists() else None


def measure(config: Path, folds: int) -> dict:
    out = OUT / config.stem
    train_s = run("train", "nlu", "--config", str(config), "--nlu", "data/nlu", "--out", str(out / "model"),
                  "--fixed-model-name", "nlu")
    run("test", "nlu", "--model", str(out / "model" / "nlu.tar.gz"), "--nlu", "tests/nlu/holdout.yml",
        "--out", str(out / "holdout"))
    cv_s = run("test", "nlu", "--nlu", "data/nlu", "--config", str(config), "--cross-validation",
               "--folds", str(folds), "--out", str(out / "cv"))
    intents = json.loads((out / "cv" / "intent_report.json").read_text())
    return {
        "config": config.name,
        "train_s": train_s,
        "cv_s": cv_s,
        "cv_intent_f1": intents["weighted avg"]["f1-score"],
        "cv_entity_f1": weighted_f1(out / "cv" / "DIETClassifier_report.json"),
        "holdout_intent_f1": weighted_f1(out / "holdout" / "intent_report.json"),
        "holdout_entity_f1": weighted_f1(out / "holdout" / "DIETClassifier_report.json"),
        "per_intent": {k: v["f1-score"] for k, v in intents.items() if isinstance(v, dict) and "support" in v
                       and k not in ("micro avg", "macro avg", "weighted avg", "accuracy")},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("configs", nargs="*", type=Path,
                        default=[REPO / "benchmarks/nlu/rasa_default.yml", REPO / "benchmarks/nlu/minilm.yml"])
    args = parser.parse_args()
    results = [measure(config, args.folds) for config in args.configs]
    (OUT / "summary.json").write_text(json.dumps(results, indent=2))
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    print("| config | train (s) | CV intent F1 | CV entity F1 | holdout intent F1 | holdout entity F1 |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['config']} | {r['train_s']:.0f} | {fmt(r['cv_intent_f1'])} | {fmt(r['cv_entity_f1'])} "
              f"| {fmt(r['holdout_intent_f1'])} | {fmt(r['holdout_entity_f1'])} |")
    names = sorted(set().union(*(r["per_intent"] for r in results)))
    print("\n| intent | " + " | ".join(r["config"] for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for name in names:
        print(f"| {name} | " + " | ".join(fmt(r["per_intent"].get(name)) for r in results) + " |")


if __name__ == "__main__":
    main()
