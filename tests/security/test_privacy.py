"""Issue 9, finding 8, against the real servers: a customer's data can be exported and erased, and is then gone.

A stack of its own, whose Rasa server keeps conversations in a SQL tracker store (a SQLite file here), the
store the action server searches and erases too. A customer has a conversation (an order, a case, a rating);
an export, asked in the chat after a one-time code, holds that conversation, the state rows and the CRM
records; then the erasure, and the tracker store, the state database and the sandbox CRM are queried
directly: nothing of the customer is left, and the audit log has both requests. An operator's export and
erasure (`make privacy`) are checked the same way.

The conversations here are written for these tests; do not copy their phrasings into data/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from data_rights.state import conversation_pseudonym
from local_stack import REPO, Ports, Stack, action_endpoint_yaml
from tests.e2e.conftest import MODEL, Chat, sandbox_get
from webhooks.conversations import email_hash

pytestmark = pytest.mark.e2e

ANNA, BEN = "anna.schmidt@example.com", "ben.miller@example.com"
# Rasa writes the turn of an erasure back after the reply; the action server deletes it again then.
WRITTEN_BACK_WITHIN_SECONDS = 20
STARTUP_SECONDS = 480


@pytest.fixture(scope="module")
def privacy_stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first (make test does)")
    work = tmp_path_factory.mktemp("privacy-stack")
    ports = Ports.free()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(action_endpoint_yaml(ports.actions)
                         + f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {work / 'tracker.db'}\n")
    # The action server reads the same endpoints file, so it searches and erases the store Rasa writes.
    stack = Stack(ports=ports, log_dir=work / "logs", endpoints=endpoints, model=MODEL,
                  sandbox_database_url=f"sqlite:///{work / 'sandbox.db'}",
                  state_database_url=f"sqlite:///{work / 'state.db'}",
                  platform_env={"RASA_ENDPOINTS_FILE": str(endpoints)})
    try:
        # Rasa loads the model in a minute or two, more on a machine busy with other stacks.
        stack.start(timeout=STARTUP_SECONDS)
        yield stack
    finally:
        stack.stop()


def rows(url: str, query: str, **params) -> list[tuple]:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), params)]
    finally:
        engine.dispose()


def tracker_database(stack) -> str:
    """The tracker store's database, next to the endpoints file that names it (see privacy_stack)."""
    return f"sqlite:///{stack.endpoints.parent / 'tracker.db'}"


def events_of(stack, *senders: str) -> int:
    found = rows(tracker_database(stack), "SELECT sender_id FROM events")
    return sum(1 for (sender,) in found if sender in senders)


def senders_mentioning(stack, email: str) -> set[str]:
    return {sender for (sender,) in rows(tracker_database(stack),
                                         "SELECT DISTINCT sender_id FROM events WHERE lower(data) LIKE :email",
                                         email=f"%{email}%")}


def state_rows_about(stack, email: str, *senders: str) -> dict[str, int]:
    """The state database's rows that name the customer: by email (hash), conversation, or pseudonym."""
    url = stack.state_database_url
    links = rows(url, "SELECT sender_id, email_hash FROM conversation_links")
    ratings = rows(url, "SELECT conversation FROM csat_ratings")
    outbox = rows(url, "SELECT idempotency_key, payload, result FROM outbox")
    names = {conversation_pseudonym(sender) for sender in senders}
    return {
        "conversation_links": sum(1 for sender, hashed in links if sender in senders or hashed == email_hash(email)),
        "csat_ratings": sum(1 for (conversation,) in ratings if conversation in names),
        "outbox": sum(1 for key, payload, result in outbox
                      if any(name in key for name in names) or email in f"{payload}{result}".lower()),
    }


def audit_rows(stack, email: str) -> list[tuple]:
    return rows(stack.state_database_url,
                "SELECT requested_by, kind, result FROM privacy_requests WHERE subject = :subject ORDER BY id",
                subject=email_hash(email))


def newest_code(stack, email: str) -> str:
    mails = sandbox_get(stack, "/v1/sandbox/mailbox", to=email)["data"]
    return re.search(r"\b(\d{6})\b", next(m for m in mails if "code" in m["subject"].lower())["body"]).group(1)


def exported(stack, email: str) -> dict:
    """The newest mail with the customer's data, as the customer would open its attachment."""
    mail = next(m for m in sandbox_get(stack, "/v1/sandbox/mailbox", to=email)["data"] if m["attachments"])
    return json.loads(mail["attachments"][0]["content"])


def wait_until_no_events(stack, *senders: str) -> int:
    deadline = time.monotonic() + WRITTEN_BACK_WITHIN_SECONDS
    while events_of(stack, *senders) and time.monotonic() < deadline:
        time.sleep(0.5)
    return events_of(stack, *senders)


def test_a_customers_data_is_exported_then_erased_everywhere(privacy_stack):
    stack = privacy_stack
    # A visit: an order looked up, a person asked for (a case in the CRM), a rating at the end.
    visit = Chat(stack)
    assert "email" in visit.say("hi, has my order 100231 gone out yet?")
    assert "waiting for payment" in visit.say(ANNA)
    assert "case" in visit.say("actually I'd like to speak with someone from your team").lower()
    assert "rate" in visit.say("ok that's all, bye").lower()
    visit.say("5")
    (ticket,) = [t for t in sandbox_get(stack, "/v1/crm/personal-data", email=ANNA)["tickets"]
                 if t["subject"].startswith("Chat handover")]
    before = state_rows_about(stack, ANNA, visit.sender)
    # The order lookup and the rating on the CRM timeline, and the case, went through the outbox.
    assert (before["conversation_links"], before["csat_ratings"]) == (1, 1) and before["outbox"] >= 3

    # The export, asked in another conversation, once the email is proven with a one-time code.
    rights = Chat(stack)
    assert "one-time code" in rights.say("I'd like to get a copy of all the personal information you keep on me")
    assert "6-digit code" in rights.say(ANNA)
    assert "emailed everything" in rights.say(newest_code(stack, ANNA))
    document = exported(stack, ANNA)
    said = [event.get("text") for conversation in document["conversations"] for event in conversation["events"]]
    assert {"hi, has my order 100231 gone out yet?", "actually I'd like to speak with someone from your team"} <= set(said)
    assert [row["sender_id"] for row in document["assistant_records"]["conversation_links"]] == [visit.sender]
    assert [row["score"] for row in document["assistant_records"]["csat_ratings"]] == [5]
    crm = document["customer_service"]["records"]
    assert ticket["id"] in {t["id"] for t in crm["tickets"]} and crm["contacts"][0]["id"] == "ct_anna"
    assert any(ix["kind"] == "csat" for ix in crm["interactions"])

    # The erasure: confirmed, with what the shop keeps, and carried out.
    assert "tax law" in rights.say("next, please erase everything you keep about me")
    assert "erased" in rights.say("yes")

    assert wait_until_no_events(stack, visit.sender, rights.sender) == 0
    assert senders_mentioning(stack, ANNA) == set()
    assert state_rows_about(stack, ANNA, visit.sender, rights.sender) == {
        "conversation_links": 0, "csat_ratings": 0, "outbox": 0}
    personal = sandbox_get(stack, "/v1/crm/personal-data", email=ANNA)
    assert all(personal[kind] == [] for kind in ("contacts", "interactions", "tickets", "deals", "leads"))
    assert sandbox_get(stack, "/v1/crm/contacts", email=ANNA)["data"] == []
    # What must be kept is kept, without the person: the order, and the won deal without its contact.
    assert sandbox_get(stack, "/v1/orders/100231")["email"] == ANNA
    won = [deal for deal in sandbox_get(stack, "/v1/crm/deals")["data"] if deal["id"] == "deal_anna_club"]
    assert won[0]["contact_id"] is None

    audit = audit_rows(stack, ANNA)
    assert [(kind, result) for _, kind, result in audit] == [("export", "done"), ("erase", "done")]
    assert all(re.fullmatch(r"conv-[0-9a-f]{16}", requested_by) for requested_by, _, _ in audit)
    everything = json.dumps(rows(stack.state_database_url, "SELECT * FROM privacy_requests"))
    assert "anna" not in everything and "example.com" not in everything


def test_an_erasure_needs_the_code_not_just_an_order_number(privacy_stack):
    stack = privacy_stack
    chat = Chat(stack)
    assert "on its way" in chat.say("where's my parcel 100234?") + chat.say(BEN)
    before = sandbox_get(stack, "/v1/crm/personal-data", email=BEN)
    reply = chat.say("remove everything about me from your systems")
    assert "6-digit code" in reply and "erased" not in reply  # the order proved the order, not the mailbox
    assert "doesn't match" in chat.say("000001" if newest_code(stack, BEN) != "000001" else "000002")
    assert sandbox_get(stack, "/v1/crm/personal-data", email=BEN) == before
    assert events_of(stack, chat.sender) > 0


def test_an_operator_exports_and_erases_with_make_privacy(privacy_stack, tmp_path):
    stack = privacy_stack
    chat = Chat(stack)
    chat.say("where is order 100236")
    assert "delayed" in chat.say("carla.rossi@example.com")
    env = {**os.environ, "SANDBOX_URL": stack.sandbox_url, "SANDBOX_API_KEY": stack.api_key,
           "STATE_DATABASE_URL": stack.state_database_url, "RASA_ENDPOINTS_FILE": str(stack.endpoints),
           "PYTHONPATH": str(REPO), "RASA_TELEMETRY_ENABLED": "false"}

    def privacy(*args: str) -> str:
        done = subprocess.run([sys.executable, "scripts/privacy.py", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = tmp_path / "carla.json"
    privacy("export", "carla.rossi@example.com", "--out", str(out))
    document = json.loads(out.read_text())
    assert [c["conversation"] for c in document["conversations"]] == [chat.sender]
    assert document["customer_service"]["records"]["tickets"][0]["number"] == "T-000101"

    summary = privacy("erase", "carla.rossi@example.com")
    assert "conversations: 1 (" in summary and "tax law" in summary
    assert events_of(stack, chat.sender) == 0 and senders_mentioning(stack, "carla.rossi@example.com") == set()
    assert sandbox_get(stack, "/v1/crm/personal-data", email="carla.rossi@example.com")["tickets"] == []
    assert state_rows_about(stack, "carla.rossi@example.com", chat.sender)["conversation_links"] == 0
    assert audit_rows(stack, "carla.rossi@example.com") == [("operator", "export", "done"),
                                                           ("operator", "erase", "done")]
