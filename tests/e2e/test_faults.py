"""A sick backend, on loopback: the customer gets a clear answer in time, and no CRM write is lost or doubled.

A fault-injecting proxy sits between the action server and the sandbox (e-shop and CRM alike).
"""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.outbox import OutboxRow
from integrations.state_database import state_engine
from local_stack import Stack, free_port
from tests.e2e.conftest import Chat, new_stack
from tests.fakes.fault_proxy import FAULTS, PASS, FaultProxy

pytestmark = pytest.mark.e2e

# The transport's budget is 600 ms; Rasa and the action server add their own turn on a busy 2-core machine.
ANSWER_WITHIN_SECONDS = 1.5
# The outbox retries after 2 s, and its background round runs every 5 s.
DELIVERY_WAIT_SECONDS = 30
FAULT_OUTLASTS_THE_ANSWER_SECONDS = 3
EMAIL = "anna.schmidt@example.com"


@pytest.fixture(scope="module")
def proxy_and_stack(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("faults"))
    proxy = FaultProxy(stack.sandbox_url, free_port())
    stack.actions_backend_url = proxy.url
    proxy.start()
    try:
        stack.start()
        yield proxy, stack
    finally:
        stack.stop()
        proxy.stop()


def conversation_of(sender: str) -> str:
    return "conv-" + hashlib.sha256(sender.encode()).hexdigest()[:16]


def outbox_attempts(stack: Stack, sender: str) -> list[tuple[str, int]]:
    """(status, attempts) of the conversation's writes in the action server's outbox."""
    with Session(state_engine(stack.state_database_url), future=True) as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key.contains(conversation_of(sender))))
        return [(row.status, row.attempts) for row in rows]


def outage_logs(stack: Stack, sender: str) -> list[dict]:
    """The CRM interactions this conversation left, read from the sandbox directly (not through the proxy)."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    contacts = requests.get(f"{stack.sandbox_url}/v1/crm/contacts", params={"email": EMAIL}, headers=headers,
                            timeout=5).json()["data"]
    if not contacts:
        return []
    logged = requests.get(f"{stack.sandbox_url}/v1/crm/contacts/{contacts[0]['id']}/interactions",
                          params={"limit": 100}, headers=headers, timeout=5).json()["data"]
    return [item for item in logged if item["conversation_id"] == conversation_of(sender)]


def wait_for_logs(stack: Stack, sender: str) -> list[dict]:
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while time.monotonic() < deadline:
        logs = outage_logs(stack, sender)
        if logs:
            return logs
        time.sleep(0.5)
    return []


@pytest.mark.parametrize("fault", FAULTS)
def test_a_sick_backend_gets_a_clear_answer_and_loses_no_write(fault, proxy_and_stack):
    proxy, stack = proxy_and_stack
    chat = Chat(stack)
    chat.say("where is my order 100235")
    proxy.set_mode(fault)
    started = time.monotonic()
    answer = chat.say(EMAIL)
    waited = time.monotonic() - started
    time.sleep(FAULT_OUTLASTS_THE_ANSWER_SECONDS)  # the CRM write after the reply must meet the fault too
    proxy.set_mode(PASS)

    assert "can't reach our order system" in answer and "colleague" in answer, answer
    assert "delivered" not in answer
    print(f"{fault}: answered in {waited * 1000:.0f} ms")
    assert waited < ANSWER_WITHIN_SECONDS, f"{fault}: answered after {waited:.2f} s"
    assert all(process.poll() is None for process in stack.processes.values()), f"a server died under {fault}"

    logs = wait_for_logs(stack, chat.sender)
    time.sleep(6)  # one more redelivery round: a write delivered twice would show now
    logs = outage_logs(stack, chat.sender)
    assert [item["outcome"] for item in logs] == ["backend_unavailable"], logs
    [(status, attempts)] = outbox_attempts(stack, chat.sender)
    assert status == "delivered" and attempts >= 2, "the write should have waited out the fault in the outbox"

    recovered = Chat(stack)
    recovered.say("where is my order 100235")
    assert "delivered" in recovered.say(EMAIL)
