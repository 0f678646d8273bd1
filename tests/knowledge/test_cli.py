"""`python -m knowledge check` and `ask`, as a shop owner runs them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge.__main__
from knowledge.__main__ import main
from tests.knowledge.conftest import FakeEmbedder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_model_load(monkeypatch):
    # The commands search with the sentence model as the chat does; test_dev_questions.py checks the
    # shipped knowledge base with the real one, so here a stand-in spares every test its load.
    monkeypatch.setattr(knowledge.__main__, "MiniLMEmbedder", FakeEmbedder)


def test_check_passes_on_the_shipped_knowledge_base():
    run = subprocess.run([sys.executable, "-m", "knowledge", "check", "--lexical-only"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert re.search(r"knowledge_base: OK \(\d+ entries, \d+ shipping zones, \d+ payment methods\)", run.stdout)
    assert "warning" not in run.stdout


def test_check_fails_with_every_problem_listed(kb_copy, capsys):
    kb_copy.replace("returns.yml", "https://shop.example/policies/returns#refunds", "shop.example/refunds")
    kb_copy.replace("shipping.yml", "countries: [DE]", "countries: [DE, XX]")
    assert main(["check", "--path", str(kb_copy.folder)]) == 1
    errors = capsys.readouterr().err
    assert "2 problem(s) to fix" in errors
    assert "returns.yml, entry 'refunds'" in errors and "bad `source_url` 'shop.example/refunds'" in errors
    assert "shipping.yml, zone 'germany'" in errors and "unknown country code 'XX'" in errors


def test_check_warns_when_an_example_question_goes_to_another_entry(kb_copy, capsys):
    kb_copy.replace("warranty.yml", "      - how do I make a warranty claim\n",
                    "      - how do I make a warranty claim\n      - what payment methods do you accept\n")
    assert main(["check", "--path", str(kb_copy.folder)]) == 0
    output = capsys.readouterr().out
    assert ("warning: warranty.yml, entry 'warranty-claim': the example 'what payment methods do you accept' "
            "gets entry 'payment-methods'") in output


def test_ask_prints_the_answer_and_its_source(capsys):
    assert main(["ask", "how much is shipping to the UK?"]) == 0
    output = capsys.readouterr().out
    assert "Standard shipping to the United Kingdom costs €12.90" in output
    assert "source: https://shop.example/policies/shipping#uk" in output


def test_ask_with_entities(capsys):
    assert main(["ask", "can I use it?", "--topic", "payment", "--payment-method", "paypal"]) == 0
    assert "Yes, you can pay with PayPal." in capsys.readouterr().out


def test_ask_explains_a_question_without_answer(capsys):
    assert main(["ask", "do you sell cars?"]) == 0
    output = capsys.readouterr().out
    assert "No answer" in output
    assert "understood: terms ['sell', 'car']" in output
