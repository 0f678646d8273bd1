"""How the bot understands customers as they really write (issue 10): four numbers, one model load.

    .venv/bin/python benchmarks/understanding_sets.py [--model models/commerce-assistant.tar.gz]
        [--json results/understanding.json] [--markdown benchmarks/understanding/<name>.md] [--worst 15]

(with PYTHONPATH=. RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1, from the repo root)

Sets, in tests/understanding/ (written apart from the training data and the knowledge base):
  (a) policy_questions.yml: each question is parsed by the NLU; if the dialogue's rules send its intent to
      action_answer_policy_question, that action is run as the action server runs it (same arguments to
      knowledge.answer), and the answer is scored: answered correctly (the expected entry, with every
      expected fact), refused correctly (an explicit "we don't ship/accept that", or no answer for what the
      policies don't cover), wrong (any other answer), missed (no answer where one was due, or the intent
      went to another flow).
  (b) out_of_scope.yml: the share whose final intent is out_of_scope or nlu_fallback. Agent.parse_message
      already runs the FallbackClassifier of the model's config; the script re-applies the thresholds of
      config.yml to the ranking as a cross-check and reports any disagreement.
  (c) negations.yml: how many parse as affirm (with their confidence), how many as deny.
  (d) tests/nlu/holdout.yml: in-scope intent accuracy (and weighted F1, as `rasa test nlu` reports it) of
      the same model, so a change that helps (a)-(c) can show it costs nothing here.

Runs one message at a time on the CPU; a few minutes on 2 cores. Trains nothing, starts no server.

The knowledge base alone, without a Rasa model (seconds; for tuning knowledge/ on its development set):

    .venv/bin/python benchmarks/understanding_sets.py --knowledge-base-only [--lexical-only]
        [--questions tests/knowledge/dev_policy_questions.yml] [--label after] [--markdown ...] [--json ...]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import functools
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from benchmarks.entity_extraction import sha256  # one file hash for both benchmarks

REPO = Path(__file__).resolve().parent.parent
SETS = REPO / "tests" / "understanding"
OUT_OF_SCOPE = {"out_of_scope", "nlu_fallback"}
FALLBACK = "nlu_fallback"
POLICY_ACTION = "action_answer_policy_question"

# An explicit refusal in the answer text, per kind of refusal.
REFUSAL_PATTERNS = {
    "country": re.compile(r"\b(?:don't|do not|doesn't|does not|can't|cannot|can not|won't|unable to)\s+"
                          r"(?:currently\s+)?(?:ship|deliver|send)|\bnot\s+(?:ship|deliver)", re.I),
    "payment": re.compile(r"\b(?:don't|do not|doesn't|does not|can't|cannot|can not|won't)\s+"
                          r"(?:currently\s+)?(?:accept|take|offer|support)|\bnot\s+(?:accepted|offered|available)"
                          r"|\bisn't (?:accepted|offered|available)", re.I),
}


# ---------------------------------------------------------------- sets

def load_sets() -> tuple[list[dict], dict[str, list[str]], dict[str, list[str]]]:
    policy = load_policy_questions(SETS / "policy_questions.yml")
    oos = yaml.safe_load((SETS / "out_of_scope.yml").read_text())["domains"]
    negations = yaml.safe_load((SETS / "negations.yml").read_text())["negations"]
    for name, groups in [("out_of_scope.yml", oos), ("negations.yml", negations)]:
        for group, texts in groups.items():
            _require_plain_text(f"{name}, {group}", texts)
    return policy, oos, negations


def load_policy_questions(path: Path) -> list[dict]:
    """A set in the format of policy_questions.yml (the exam, or tests/knowledge/dev_policy_questions.yml)."""
    policy = yaml.safe_load(path.read_text())["questions"]
    _require_plain_text(f"{path.name}, questions", [item["q"] for item in policy])
    for item in policy:
        if ("answer" in item) == ("refuse" in item):
            raise SystemExit(f"{path.name}: {item['q']!r} needs exactly one of answer/refuse")
        if "refuse" in item and item.get("kind") not in ("country", "payment", "not_covered"):
            raise SystemExit(f"{path.name}: {item['q']!r} needs kind: country, payment or not_covered")
    return policy


def _require_plain_text(where: str, texts: list) -> None:
    # YAML reads a bare `no` or `false` as a boolean and `a: b` as a mapping: quote such lines.
    odd = [t for t in texts if not isinstance(t, str)]
    if odd:
        raise SystemExit(f"{where}: not plain text, quote them: {odd}")


def load_holdout(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data
    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def training_texts() -> dict[str, set[str]]:
    """Texts the model or the knowledge base were shown: an exact copy in a set is reported."""
    from rasa.shared.nlu.training_data.loading import load_data
    nlu = {_norm(m.get("text")) for m in load_data(str(REPO / "data" / "nlu")).intent_examples}
    holdout = {_norm(t) for t, _ in load_holdout(REPO / "tests" / "nlu" / "holdout.yml")}
    kb = set()
    for file in sorted((REPO / "knowledge_base").glob("*.yml")):
        for entry in (yaml.safe_load(file.read_text()) or {}).get("entries", []):
            kb |= {_norm(q) for q in entry.get("questions", [])}
    return {"data/nlu": nlu, "tests/nlu/holdout.yml": holdout, "knowledge_base questions": kb}


def _norm(text: str) -> str:
    return re.sub(r"[^\w\s]", "", (text or "").lower()).strip()


def policy_intents() -> set[str]:
    """Intents the dialogue sends to the policy action: read from the rules and stories, not hard-coded."""
    intents: set[str] = set()
    for file in [REPO / "data" / "rules.yml", REPO / "data" / "stories.yml"]:
        if not file.exists():
            continue
        doc = yaml.safe_load(file.read_text()) or {}
        for block in (doc.get("rules") or []) + (doc.get("stories") or []):
            steps = block.get("steps") or []
            for step, following in zip(steps, steps[1:]):
                if "intent" in step and following.get("action") == POLICY_ACTION:
                    intents.add(step["intent"])
    return intents or {"shipping_info"}


def fallback_thresholds() -> tuple[float, float]:
    config = yaml.safe_load((REPO / "config.yml").read_text())
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.0, 0.0


# ---------------------------------------------------------------- the model

class Parser:
    def __init__(self, agent, thresholds: tuple[float, float]):
        self.agent = agent
        self.threshold, self.ambiguity = thresholds
        self.disagreements: list[dict] = []

    async def parse(self, text: str) -> dict[str, Any]:
        parsed = await self.agent.parse_message(text)
        intent = parsed.get("intent") or {}
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        top = ranking[0] if ranking else {"name": None, "confidence": 0.0}
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        # The FallbackClassifier's rule, re-applied with config.yml's thresholds as a cross-check.
        expected_fallback = (top["confidence"] < self.threshold
                             or top["confidence"] - second < self.ambiguity)
        if expected_fallback != (intent.get("name") == FALLBACK):
            self.disagreements.append({"text": text, "intent": intent.get("name"), "top": top["name"],
                                       "confidence": top["confidence"], "second": second})
        return {
            "text": text,
            "intent": intent.get("name"),
            "confidence": round(float(intent.get("confidence") or 0.0), 3),
            # What the classifier picked before the fallback: the intent it was "mistaken for".
            "top_intent": top["name"],
            "top_confidence": round(float(top["confidence"]), 3),
            "entities": parsed.get("entities") or [],
            "raw": parsed,
        }


# ---------------------------------------------------------------- (a) policy questions

async def run_policy_action(parsed: dict[str, Any]) -> tuple[Any, str | None, bool | None]:
    """Run action_answer_policy_question as the action server does, at the start of a conversation.

    Returns the knowledge.Answer it used (None if none), the text the customer reads, and policy_answered.
    """
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    import actions.policy as policy_action

    captured: list[Any] = []
    real_answer = policy_action.knowledge.answer

    def recording_answer(*args, **kwargs):
        result = real_answer(*args, **kwargs)
        captured.append(result)
        return result

    latest = {key: value for key, value in parsed["raw"].items()}
    latest.setdefault("text", parsed["text"])
    tracker = Tracker(sender_id="understanding-bench", slots={"policy_topic": None, "policy_answered": None},
                      latest_message=latest, events=[], paused=False, followup_action=None,
                      active_loop={}, latest_action_name="action_listen")
    dispatcher = CollectingDispatcher()
    policy_action.knowledge.answer = recording_answer
    try:
        events = await policy_action.ActionAnswerPolicyQuestion().run(dispatcher, tracker, {})
    finally:
        policy_action.knowledge.answer = real_answer
    answered = next((e.get("value") for e in events if e.get("name") == "policy_answered"), None)
    said = None
    for message in dispatcher.messages:
        if message.get("response") == "utter_policy_answer":
            said = message.get("answer") or message.get("text")
    return (captured[-1] if captured else None), said, answered


def _has(text: str, fact: str) -> bool:
    def clean(s: str) -> str:
        return s.lower().replace("–", "-").replace("—", "-").replace("’", "'")
    return clean(str(fact)) in clean(text)


def score_policy(item: dict, route: str | None, answer_obj: Any, text: str | None) -> tuple[str, str]:
    """(outcome, why): outcome is correct_answer, correct_refusal, wrong or missed."""
    facts = [str(f) for f in item.get("facts") or []]
    if "answer" in item:
        expected = item["answer"] if isinstance(item["answer"], list) else [item["answer"]]
        if route is not None:
            return "missed", f"intent {route} does not lead to the policy answer"
        if text is None:
            return "missed", "no answer from the knowledge base"
        entry = getattr(answer_obj, "entry_id", None)
        if entry not in expected:
            return "wrong", f"answered by {entry}, expected {'/'.join(expected)}"
        lacking = [f for f in facts if not _has(text, f)]
        if lacking:
            return "wrong", f"answer lacks {lacking}"
        return "correct_answer", entry
    kind = item["kind"]
    if kind == "not_covered":
        if route in OUT_OF_SCOPE:
            return ("correct_refusal" if route == "out_of_scope" else "missed",
                    f"intent {route}" + ("" if route == "out_of_scope" else ": asked to rephrase"))
        if route is not None:
            return "missed", f"intent {route} leads to another flow"
        if text is None:
            return "correct_refusal", "no answer (utter_policy_unknown)"
        if any(p.search(text) for p in REFUSAL_PATTERNS.values()):
            return "correct_refusal", f"explicit refusal by {getattr(answer_obj, 'entry_id', None)}"
        return "wrong", f"guessed an answer from {getattr(answer_obj, 'entry_id', None)}"
    if route is not None:
        return "missed", f"intent {route} does not lead to the policy answer"
    if text is None:
        return "missed", "no answer (\"I can't find that\") where the shop's data says no"
    lacking = [f for f in facts if not _has(text, f)]
    if REFUSAL_PATTERNS[kind].search(text) and not lacking:
        return "correct_refusal", getattr(answer_obj, "entry_id", None) or ""
    return "wrong", (f"answered by {getattr(answer_obj, 'entry_id', None)} without saying no"
                     + (f" (lacks {lacking})" if lacking else ""))


async def measure_policy(parser: Parser, items: list[dict], routed: set[str]) -> dict:
    rows = []
    for item in items:
        parsed = await parser.parse(item["q"])
        route = None if parsed["intent"] in routed else parsed["intent"]
        # The action runs either way: when the intent went elsewhere, its result says what the knowledge
        # base alone would have done, so NLU routing and retrieval failures can be told apart.
        answer_obj, text, answered = await run_policy_action(parsed)
        if_routed, if_routed_why = score_policy(item, None, answer_obj, text)
        if route is not None:
            answer_obj, text = None, None
        outcome, why = score_policy(item, route, answer_obj, text)
        rows.append({
            "q": item["q"], "expected": item.get("answer") or f"refuse ({item['kind']}): {item['refuse']}",
            "kind": "answer" if "answer" in item else item["kind"],
            "intent": parsed["intent"], "confidence": parsed["confidence"], "top_intent": parsed["top_intent"],
            "entry": getattr(answer_obj, "entry_id", None),
            "kb_confidence": getattr(answer_obj, "confidence", None),
            "answer": text, "outcome": outcome, "why": why,
            "outcome_if_routed": if_routed, "why_if_routed": if_routed_why,
        })
    counts = collections.Counter(r["outcome"] for r in rows)
    by_kind: dict[str, dict[str, int]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], collections.Counter())[r["outcome"]] += 1
    total = len(rows)
    good = counts["correct_answer"] + counts["correct_refusal"]
    return {
        "total": total,
        "answerable": sum(1 for r in rows if r["kind"] == "answer"),
        "refusals": sum(1 for r in rows if r["kind"] != "answer"),
        "correct_answer": counts["correct_answer"], "correct_refusal": counts["correct_refusal"],
        "wrong": counts["wrong"], "missed": counts["missed"],
        "correct_share": round(good / total, 3) if total else None,
        "by_kind": {k: dict(v) for k, v in by_kind.items()},
        "routes": dict(collections.Counter(r["intent"] for r in rows)),
        # Had every question reached the policy action (the knowledge base's share of the problem):
        "if_all_routed": dict(collections.Counter(r["outcome_if_routed"] for r in rows)),
        "not_routed": sum(r["intent"] not in routed for r in rows),
        "items": rows,
    }


# ---------------------------------------------------------------- (a) the knowledge base alone

def measure_knowledge_base_alone(items: list[dict], answer: Callable[[str], Any]) -> dict:
    """(a) without the NLU: each question goes to `answer` as text alone (no topic, no entities).

    As if every question reached the policy action and the NLU found no entity: the knowledge base's
    part of (a), measured in seconds, with no Rasa model. The latency is the retrieval's per question.
    """
    rows, latencies = [], []
    for item in items:
        started = time.perf_counter()
        result = answer(item["q"])
        latencies.append(time.perf_counter() - started)
        text = result.text if result else None
        outcome, why = score_policy(item, None, result, text)
        rows.append({"q": item["q"], "expected": item.get("answer") or f"refuse ({item['kind']}): {item['refuse']}",
                     "kind": "answer" if "answer" in item else item["kind"],
                     "entry": getattr(result, "entry_id", None), "kb_confidence": getattr(result, "confidence", None),
                     "answer": text, "outcome": outcome, "why": why})
    counts = collections.Counter(r["outcome"] for r in rows)
    milliseconds = sorted(1000 * s for s in latencies) or [0.0]
    return {
        "total": len(rows),
        **{outcome: counts[outcome] for outcome in ("correct_answer", "correct_refusal", "wrong", "missed")},
        "correct_share": round((counts["correct_answer"] + counts["correct_refusal"]) / max(len(rows), 1), 3),
        "latency_ms": {"mean": round(sum(milliseconds) / len(milliseconds), 1),
                       "p95": round(milliseconds[int(0.95 * (len(milliseconds) - 1))], 1),
                       "max": round(milliseconds[-1], 1)},
        "items": rows,
    }


def knowledge_base_alone_report(result: dict, label: str, questions: str) -> str:
    lines = [f"# Policy questions, knowledge base alone: {label}", "",
             f"- set: `{questions}` (text only: no NLU, no topic, no entities)",
             f"- {result['correct_answer']} answered correctly, {result['correct_refusal']} refused correctly, "
             f"{result['wrong']} wrong, {result['missed']} missed of {result['total']} "
             f"= **{result['correct_share']:.0%}** correct",
             f"- retrieval per question: {result['latency_ms']['mean']} ms mean, {result['latency_ms']['p95']} ms p95, "
             f"{result['latency_ms']['max']} ms max", ""]
    for outcome in ("wrong", "missed"):
        lines += [f"{outcome.capitalize()}:", ""]
        lines += [f"- `{r['q']}` (expected {r['expected']}): {r['why']}"
                  + (f"; said: \"{_short(r['answer'])}\"" if r["answer"] else "")
                  for r in result["items"] if r["outcome"] == outcome] or ["- none"]
        lines.append("")
    return "\n".join(lines)


def run_knowledge_base_alone(args: argparse.Namespace) -> dict:
    import knowledge

    embedder = None if args.lexical_only else knowledge.MiniLMEmbedder()
    # Loading the model and embedding the knowledge base happen once, at the action server's start.
    knowledge.warm_up(embedder)
    items = load_policy_questions(Path(args.questions))
    return measure_knowledge_base_alone(items, functools.partial(knowledge.answer, embedder=embedder))


# ---------------------------------------------------------------- (b) out of scope, (c) negations, (d) holdout

async def measure_out_of_scope(parser: Parser, domains: dict[str, list[str]]) -> dict:
    rows, per_domain = [], {}
    for domain, texts in domains.items():
        caught = 0
        for text in texts:
            p = await parser.parse(text)
            ok = p["intent"] in OUT_OF_SCOPE
            caught += ok
            rows.append({"domain": domain, "text": text, "intent": p["intent"], "confidence": p["confidence"],
                         "top_intent": p["top_intent"], "top_confidence": p["top_confidence"], "caught": ok})
        mistaken = collections.Counter(r["intent"] for r in rows if r["domain"] == domain and not r["caught"])
        per_domain[domain] = {"n": len(texts), "caught": caught, "share": round(caught / len(texts), 3),
                              "mistaken_for": dict(mistaken.most_common())}
    n = len(rows)
    caught = sum(r["caught"] for r in rows)
    missed = [r for r in rows if not r["caught"]]
    return {
        "n": n, "caught": caught, "share": round(caught / n, 3) if n else None,
        "as_out_of_scope": sum(r["intent"] == "out_of_scope" for r in rows),
        "as_nlu_fallback": sum(r["intent"] == FALLBACK for r in rows),
        "per_domain": per_domain,
        "mistaken_for": dict(collections.Counter(r["intent"] for r in missed).most_common()),
        "items": rows,
    }


async def measure_negations(parser: Parser, groups: dict[str, list[str]]) -> dict:
    rows = []
    for group, texts in groups.items():
        for text in texts:
            p = await parser.parse(text)
            rows.append({"group": group, "text": text, "intent": p["intent"], "confidence": p["confidence"],
                         "top_intent": p["top_intent"], "top_confidence": p["top_confidence"]})
    affirm = [r for r in rows if r["intent"] == "affirm"]
    per_group = {}
    for group in groups:
        mine = [r for r in rows if r["group"] == group]
        per_group[group] = {"n": len(mine), "affirm": sum(r["intent"] == "affirm" for r in mine),
                            "deny": sum(r["intent"] == "deny" for r in mine)}
    return {
        "n": len(rows),
        "affirm": len(affirm),
        "affirm_max_confidence": max((r["confidence"] for r in affirm), default=None),
        # Below the fallback threshold the bot asks to rephrase; the classifier still leaned to yes.
        "affirm_before_fallback": sum(r["top_intent"] == "affirm" for r in rows),
        "deny": sum(r["intent"] == "deny" for r in rows),
        "nlu_fallback": sum(r["intent"] == FALLBACK for r in rows),
        "other": dict(collections.Counter(r["intent"] for r in rows
                                          if r["intent"] not in ("affirm", "deny", FALLBACK)).most_common()),
        "per_group": per_group,
        "items": rows,
    }


async def measure_holdout(parser: Parser, examples: list[tuple[str, str]]) -> dict:
    rows = []
    for text, intent in examples:
        p = await parser.parse(text)
        rows.append({"text": text, "expected": intent, "intent": p["intent"], "confidence": p["confidence"],
                     "top_intent": p["top_intent"]})
    n = len(rows)
    correct = sum(r["intent"] == r["expected"] for r in rows)
    labels = sorted({r["expected"] for r in rows})
    f1s, weights = [], []
    for label in labels:
        tp = sum(r["intent"] == label and r["expected"] == label for r in rows)
        fp = sum(r["intent"] == label and r["expected"] != label for r in rows)
        fn = sum(r["intent"] != label and r["expected"] == label for r in rows)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        weights.append(tp + fn)
    return {
        "n": n, "correct": correct, "accuracy": round(correct / n, 3) if n else None,
        "weighted_f1": round(sum(f * w for f, w in zip(f1s, weights)) / sum(weights), 3) if weights else None,
        "nlu_fallback": sum(r["intent"] == FALLBACK for r in rows),
        "errors": [r for r in rows if r["intent"] != r["expected"]],
        "rows": rows,
    }


# ---------------------------------------------------------------- what a higher threshold alone would do

SWEEP = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def threshold_sweep(result: dict) -> list[dict]:
    """The same parses with a higher FallbackClassifier threshold: a lower bound for "just raise it".

    Only the threshold moves (the ambiguity rule stays as it was): a message whose final intent had a
    confidence below `t` would have become nlu_fallback. Thresholds below the configured one are skipped.
    """
    oos, neg, hold = result["out_of_scope"]["items"], result["negations"]["items"], result["holdout"]
    hold_rows = hold["rows"]
    rows = []
    for t in SWEEP:
        if t < result["meta"]["fallback_threshold"]:
            continue

        def final(r):
            return FALLBACK if r["intent"] == FALLBACK or r["confidence"] < t else r["intent"]
        caught = sum(final(r) in OUT_OF_SCOPE for r in oos)
        rows.append({
            "threshold": t,
            "out_of_scope_share": round(caught / len(oos), 3) if oos else None,
            "negations_affirm": sum(final(r) == "affirm" for r in neg),
            "negations_deny": sum(final(r) == "deny" for r in neg),
            "holdout_accuracy": round(sum(final(r) == r["expected"] for r in hold_rows) / len(hold_rows), 3)
            if hold_rows else None,
        })
    return rows


# ---------------------------------------------------------------- report

def overlaps(policy: list[dict], oos: dict[str, list[str]], negations: dict[str, list[str]]) -> dict:
    seen = training_texts()
    sets = {"policy_questions": [i["q"] for i in policy],
            "out_of_scope": [t for ts in oos.values() for t in ts],
            "negations": [t for ts in negations.values() for t in ts]}
    return {name: {source: sorted(t for t in texts if _norm(t) in known) for source, known in seen.items()}
            for name, texts in sets.items()}


def markdown(result: dict, worst: int) -> str:
    meta, pol, oos, neg, hold = (result[k] for k in ("meta", "policy", "out_of_scope", "negations", "holdout"))
    lines = [
        f"# Understanding sets: {meta['label']}",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}",
        f"- model: `{meta['model']}` sha256 `{meta['model_sha256'][:12]}` (file modified {meta['model_mtime']})",
        f"- git HEAD: `{meta['git_head']}` (working tree may differ; the model is what counts)",
        f"- FallbackClassifier (config.yml): threshold {meta['fallback_threshold']}, "
        f"ambiguity_threshold {meta['ambiguity_threshold']}; intents routed to the policy action: "
        f"{', '.join(sorted(meta['policy_intents']))}",
        f"- runtime: {meta['runtime_s']} s in all ({meta['load_s']} s to load the model, "
        f"{meta['messages']} messages parsed)",
        "",
        "## Summary",
        "",
        "| measure | value | done-when |",
        "|---|---|---|",
        f"| policy questions: correct answers + correct refusals | {pol['correct_answer']} + {pol['correct_refusal']}"
        f" of {pol['total']} = **{pol['correct_share']:.0%}** | >= 90 % |",
        f"| policy questions: wrong answers | **{pol['wrong']}** | 0 |",
        f"| policy questions: missed (no answer / other flow) | {pol['missed']} | |",
        f"| off-domain ending as out_of_scope or nlu_fallback | {oos['caught']} of {oos['n']} = **{oos['share']:.1%}**"
        f" ({oos['as_out_of_scope']} out_of_scope, {oos['as_nlu_fallback']} nlu_fallback) | >= 80 % |",
        f"| negations read as affirm | **{neg['affirm']}** of {neg['n']} (max confidence "
        f"{neg['affirm_max_confidence']}) | 0 |",
        f"| negations read as deny | {neg['deny']} of {neg['n']} ({neg['nlu_fallback']} nlu_fallback) | |",
        f"| held-out in-scope intent accuracy (tests/nlu/holdout.yml) | {hold['correct']} of {hold['n']} = "
        f"**{hold['accuracy']:.1%}** (weighted F1 {hold['weighted_f1']}) | not lower than before |",
        "",
        "## (a) Policy questions",
        "",
        "| kind | n | correct answer | correct refusal | wrong | missed |",
        "|---|---|---|---|---|---|",
    ]
    for kind, c in pol["by_kind"].items():
        n = sum(c.values())
        lines.append(f"| {kind} | {n} | {c.get('correct_answer', 0)} | {c.get('correct_refusal', 0)} | "
                     f"{c.get('wrong', 0)} | {c.get('missed', 0)} |")
    routes = ", ".join(f"{k} {v}" for k, v in sorted(pol["routes"].items(), key=lambda kv: -kv[1]))
    ifr = pol["if_all_routed"]
    lines += ["", f"Intents the questions got: {routes}. {pol['not_routed']} of {pol['total']} did not reach the "
              "policy action.", "",
              f"Had every question reached the policy action (the knowledge base's part alone): "
              f"{ifr.get('correct_answer', 0)} answered correctly, {ifr.get('correct_refusal', 0)} refused correctly, "
              f"{ifr.get('wrong', 0)} wrong, {ifr.get('missed', 0)} missed.", "", "Wrong answers:", ""]
    wrong = [r for r in pol["items"] if r["outcome"] == "wrong"]
    lines += [f"- `{r['q']}` (expected {r['expected']}): {r['why']}; said: \"{_short(r['answer'])}\""
              for r in wrong] or ["- none"]
    lines += ["", "Missed:", ""]
    lines += [f"- `{r['q']}` (expected {r['expected']}): {r['why']}"
              + (f"; knowledge base alone: {r['outcome_if_routed']} ({r['why_if_routed']})"
                 if r["why"].startswith("intent") else "")
              for r in pol["items"] if r["outcome"] == "missed"] or ["- none"]
    lines += ["", "## (b) Out of scope", "", "| domain | n | caught | share | mistaken for |", "|---|---|---|---|---|"]
    for domain, d in sorted(oos["per_domain"].items(), key=lambda kv: kv[1]["share"]):
        top = ", ".join(f"{k} {v}" for k, v in list(d["mistaken_for"].items())[:3])
        lines.append(f"| {domain} | {d['n']} | {d['caught']} | {d['share']:.0%} | {top} |")
    mistaken = ", ".join(f"{k} {v}" for k, v in oos["mistaken_for"].items())
    lines += ["", f"Mistaken for: {mistaken}.", "", f"Worst {worst} (a shop intent, highest confidence):", ""]
    missed = sorted((r for r in oos["items"] if not r["caught"]), key=lambda r: -r["confidence"])
    lines += [f"- `{r['text']}` ({r['domain']}) -> {r['intent']} {r['confidence']:.2f}" for r in missed[:worst]]
    lines += ["", "## (c) Negations", "", "| group | n | affirm | deny |", "|---|---|---|---|"]
    for group, g in neg["per_group"].items():
        lines.append(f"| {group} | {g['n']} | {g['affirm']} | {g['deny']} |")
    other = ", ".join(f"{k} {v}" for k, v in neg["other"].items()) or "none"
    lines += ["", f"Other intents: {other}. Leaning to affirm before the fallback: {neg['affirm_before_fallback']}.",
              "", "Read as affirm:", ""]
    lines += [f"- `{r['text']}` -> affirm {r['confidence']:.2f}"
              for r in sorted((r for r in neg["items"] if r["intent"] == "affirm"), key=lambda r: -r["confidence"])
              ] or ["- none"]
    lines += ["", "Neither deny nor nlu_fallback (what the bot would do instead of dropping the request):", ""]
    lines += [f"- `{r['text']}` -> {r['intent']} {r['confidence']:.2f}"
              for r in sorted((r for r in neg["items"] if r["intent"] not in ("deny", FALLBACK, "affirm")),
                              key=lambda r: (r["intent"], -r["confidence"]))] or ["- none"]
    lines += ["", "## (d) Held-out set", "", f"Errors ({len(hold['errors'])}):", ""]
    lines += [f"- `{r['text']}`: {r['expected']} -> {r['intent']} {r['confidence']:.2f}" for r in hold["errors"]] \
        or ["- none"]
    lines += ["", "## A higher fallback threshold alone (same parses, re-scored)", "",
              "| threshold | off-domain caught | negations as affirm | negations as deny | held-out accuracy |",
              "|---|---|---|---|---|"]
    lines += [f"| {s['threshold']} | {s['out_of_scope_share']:.1%} | {s['negations_affirm']} | {s['negations_deny']} | "
              f"{s['holdout_accuracy']:.1%} |" for s in result["threshold_sweep"]]
    ov = result["overlap_with_training"]
    copies = [(name, source, t) for name, sources in ov.items() for source, ts in sources.items() for t in ts]
    lines += ["", "## Exact copies of training or knowledge-base text in the sets", ""]
    lines += [f"- {name}: `{t}` is also in {source}" for name, source, t in copies] or ["- none"]
    if meta["fallback_disagreements"]:
        lines += ["", f"Note: {meta['fallback_disagreements']} parses disagree with config.yml's fallback "
                      "thresholds (the model was trained with other ones?)."]
    return "\n".join(lines) + "\n"


def _short(text: str | None, n: int = 160) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[:n - 1] + "…"


def summary(result: dict) -> str:
    pol, oos, neg, hold = (result[k] for k in ("policy", "out_of_scope", "negations", "holdout"))
    return "\n".join([
        f"model sha256 {result['meta']['model_sha256'][:12]}",
        f"(a) policy: {pol['correct_answer']} answered correctly, {pol['correct_refusal']} refused correctly, "
        f"{pol['wrong']} wrong, {pol['missed']} missed of {pol['total']} ({pol['correct_share']:.0%} correct); "
        f"{pol['not_routed']} did not reach the policy action; had all reached it: {pol['if_all_routed']}",
        f"(b) out of scope: {oos['caught']}/{oos['n']} = {oos['share']:.1%} "
        f"(out_of_scope {oos['as_out_of_scope']}, nlu_fallback {oos['as_nlu_fallback']}); "
        f"mistaken for {dict(list(oos['mistaken_for'].items())[:6])}",
        f"(c) negations: affirm {neg['affirm']}/{neg['n']} (max {neg['affirm_max_confidence']}), "
        f"deny {neg['deny']}, nlu_fallback {neg['nlu_fallback']}, other {neg['other']}",
        f"(d) holdout: accuracy {hold['accuracy']:.1%} ({hold['correct']}/{hold['n']}), "
        f"weighted F1 {hold['weighted_f1']}",
        f"runtime {result['meta']['runtime_s']} s",
    ])


# ---------------------------------------------------------------- main

async def run(args: argparse.Namespace) -> dict:
    started = time.monotonic()
    date = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    policy, oos, negations = load_sets()
    holdout = load_holdout(Path(args.holdout))
    model = Path(args.model).resolve()
    # Load a private copy, so the sha256 is that of the model measured even if someone retrains meanwhile.
    tmp = Path(tempfile.mkdtemp(prefix="understanding-"))
    try:
        copy = tmp / model.name
        shutil.copy2(model, copy)
        digest = sha256(copy)
        model_mtime = copy.stat().st_mtime  # copy2 keeps it: the time of the model measured
        from rasa.core.agent import Agent
        loading = time.monotonic()
        agent = Agent.load(str(copy))
        load_s = time.monotonic() - loading
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    parser = Parser(agent, fallback_thresholds())
    routed = policy_intents()
    result = {
        "policy": await measure_policy(parser, policy, routed),
        "out_of_scope": await measure_out_of_scope(parser, oos),
        "negations": await measure_negations(parser, negations),
        "holdout": await measure_holdout(parser, holdout),
    }
    result["overlap_with_training"] = overlaps(policy, oos, negations)
    threshold, ambiguity = fallback_thresholds()
    result["meta"] = {
        "label": args.label,
        "command": args.command,
        "date": date,
        "model": str(model.relative_to(REPO) if model.is_relative_to(REPO) else model),
        "model_sha256": digest,
        "model_mtime": dt.datetime.fromtimestamp(model_mtime).astimezone().isoformat(timespec="seconds"),
        "git_head": _git_head(),
        "fallback_threshold": threshold, "ambiguity_threshold": ambiguity,
        "policy_intents": sorted(routed),
        "fallback_disagreements": len(parser.disagreements),
        "fallback_disagreement_examples": parser.disagreements[:10],
        "messages": sum(len(x) for x in [policy, holdout]) + sum(len(v) for v in oos.values())
        + sum(len(v) for v in negations.values()),
        "load_s": round(load_s, 1),
        "runtime_s": round(time.monotonic() - started, 1),
    }
    result["threshold_sweep"] = threshold_sweep(result)
    return result


def _git_head() -> str:
    try:
        head = (REPO / ".git" / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            return (REPO / ".git" / head[5:]).read_text().strip()[:12]
        return head[:12]
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(REPO / "models" / "commerce-assistant.tar.gz"))
    parser.add_argument("--holdout", default=str(REPO / "tests" / "nlu" / "holdout.yml"))
    parser.add_argument("--json", help="write every number and every item's result here")
    parser.add_argument("--markdown", help="write a report here")
    parser.add_argument("--label", default="before", help="the report's title, e.g. before / after")
    parser.add_argument("--worst", type=int, default=15, help="how many off-domain mistakes to list")
    parser.add_argument("--knowledge-base-only", action="store_true",
                        help="(a) alone, without the NLU: each question's text straight to the knowledge base")
    parser.add_argument("--questions", default=str(SETS / "policy_questions.yml"),
                        help="with --knowledge-base-only: the set, e.g. tests/knowledge/dev_policy_questions.yml")
    parser.add_argument("--lexical-only", action="store_true",
                        help="with --knowledge-base-only: without the sentence model (lexical search alone)")
    args = parser.parse_args()
    if args.knowledge_base_only:
        main_knowledge_base_alone(args)
        return
    args.command = "PYTHONPATH=. RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 " \
                   ".venv/bin/python " + " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.chdir(REPO)  # the model's config names the MiniLM weights by a path relative to the repo
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    result = asyncio.run(run(args))
    print(summary(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str) + "\n")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(markdown(result, args.worst))


def main_knowledge_base_alone(args: argparse.Namespace) -> None:
    result = run_knowledge_base_alone(args)
    report = knowledge_base_alone_report(result, args.label, args.questions)
    print(report)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str) + "\n")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(report)


if __name__ == "__main__":
    main()
