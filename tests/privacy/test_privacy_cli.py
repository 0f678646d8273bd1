"""`make privacy` (scripts/privacy.py): an operator's export and erasure, on the real stores, audited as operator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from data_rights.desk import desk_from_env
from scripts import privacy as cli
from tests.actions.conftest import api
from tests.privacy.conftest import save_conversation, stored_senders

REPO_SCRIPT = "scripts/privacy.py"


@pytest.fixture
def customer(shop, rasa_store, endpoints, monkeypatch) -> str:
    """An email with a conversation in the tracker store and a contact with a case in the sandbox CRM."""
    monkeypatch.setenv("RASA_ENDPOINTS_FILE", str(endpoints))
    email = f"cli-{uuid.uuid4().hex[:6]}@example.com"
    save_conversation(rasa_store, f"chat-{email}", (f"my email is {email}", "Thanks, one moment."))
    api(shop, "POST", "/v1/crm/tickets", json={"subject": "Chat handover", "description": "Customer: hi",
                                               "priority": "normal", "category": "handover", "email": email})
    return email


def test_an_export_goes_to_a_file_or_to_standard_output(customer, tmp_path, capsys):
    out = tmp_path / "data.json"
    assert cli.main(["export", customer.upper(), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["email"] == customer
    assert document["conversations"][0]["events"][0]["text"] == f"my email is {customer}"
    assert document["customer_service"]["records"]["tickets"][0]["email"] == customer
    assert cli.main(["export", customer]) == 0
    assert json.loads(capsys.readouterr().out)["customer_service"]["system"] == "sandbox"


def test_an_erasure_says_what_went_and_what_stays(customer, rasa_store, capsys):
    assert cli.main(["erase", customer]) == 0
    summary = capsys.readouterr().out
    assert f"Erased for {customer}:" in summary and "conversations: 1 (" in summary
    assert "CRM (sandbox): interactions 0, tickets 1" in summary and "contacts 1" in summary
    assert "tax law" in summary
    assert stored_senders(rasa_store) == set()
    assert [(e.requested_by, e.kind, e.result) for e in desk_from_env().audit.entries_about(customer)] == [
        ("operator", "erase", "done")]


def test_consent_is_withdrawn_for_the_operator(customer, capsys):
    assert cli.main(["consent", customer]) == 0
    assert capsys.readouterr().out == f"Marketing consent withdrawn for {customer}.\n"
    assert cli.main(["consent", f"x-{customer}"]) == 0
    assert "(sandbox had no contact with it)" in capsys.readouterr().out


def test_a_request_the_crm_cannot_take_now_fails_and_is_audited(shop_down, rasa_store, endpoints, monkeypatch,
                                                               capsys):
    monkeypatch.setenv("RASA_ENDPOINTS_FILE", str(endpoints))
    assert cli.main(["erase", "rosa@example.com"]) == 1
    assert "the erase did not complete (ServiceUnavailable)" in capsys.readouterr().err
    assert desk_from_env().audit.entries_about("rosa@example.com")[0].result == "failed:ServiceUnavailable"


def test_what_is_no_email_is_refused_before_anything_is_done():
    with pytest.raises(SystemExit) as refusal:
        cli.main(["erase", "not-an-email"])
    assert refusal.value.code == 2


def test_the_script_runs_as_make_runs_it(customer, shop, endpoints):
    env = {**os.environ, "SANDBOX_URL": shop.base_url, "SANDBOX_API_KEY": shop.api_key,
           "RASA_ENDPOINTS_FILE": str(endpoints), "PYTHONPATH": os.getcwd(), "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run([sys.executable, REPO_SCRIPT, "export", customer], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["email"] == customer
