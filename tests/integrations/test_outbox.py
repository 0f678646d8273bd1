"""The durable outbox: writes survive an outage and reach the CRM exactly once."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta

import pytest
import requests

from integrations.errors import InvalidRequest, ServiceUnavailable
from integrations.outbox import Outbox, OutboxRow
from integrations.sandbox import SandboxCRM
from integrations.state_database import state_engine
from integrations.transport import HttpTransport
from sqlalchemy import select
from sqlalchemy.orm import Session


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingCrm:
    """Stands in for the deliver function: fails while `down`, and counts what it was asked."""

    def __init__(self) -> None:
        self.down = False
        self.refuse = False
        self.calls: list[tuple[str, dict]] = []

    async def __call__(self, kind: str, payload: dict) -> dict:
        self.calls.append((kind, payload))
        if self.down:
            raise ServiceUnavailable("crm down")
        if self.refuse:
            raise InvalidRequest("bad email")
        return {"id": f"i{len(self.calls)}"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path):
    return state_engine(f"sqlite:///{tmp_path / 'outbox.db'}")


def row(engine, key: str) -> OutboxRow:
    with Session(engine, future=True) as session:
        return session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == key)).one()


def test_a_write_is_delivered_at_once_and_its_copy_dropped(engine, clock):
    crm = RecordingCrm()
    outcome = asyncio.run(Outbox(engine, crm, clock).submit("interaction", {"email": "a@example.com"}, "k1"))
    assert (outcome.status, outcome.result) == ("delivered", {"id": "i1"})
    assert row(engine, "k1").payload == {}, "the customer's data is not kept once the CRM has it"


def test_a_repeated_submit_is_answered_from_the_first_delivery(engine, clock):
    crm = RecordingCrm()
    outbox = Outbox(engine, crm, clock)
    first = asyncio.run(outbox.submit("ticket", {"subject": "help"}, "k1"))
    second = asyncio.run(outbox.submit("ticket", {"subject": "help"}, "k1"))
    assert first == second and len(crm.calls) == 1


def test_during_an_outage_the_write_waits_with_growing_pauses(engine, clock):
    crm = RecordingCrm()
    crm.down = True
    outbox = Outbox(engine, crm, clock)
    assert asyncio.run(outbox.submit("ticket", {"subject": "help"}, "k1")).status == "pending"
    assert row(engine, "k1").next_attempt_at == clock.now + timedelta(seconds=2)
    assert asyncio.run(outbox.deliver_due()) == [], "not due before its pause is over"
    clock.advance(2)
    asyncio.run(outbox.deliver_due())
    assert row(engine, "k1").next_attempt_at == clock.now + timedelta(seconds=4)
    assert row(engine, "k1").payload == {"subject": "help"}, "kept until delivered"
    crm.down = False
    clock.advance(4)
    [outcome] = asyncio.run(outbox.deliver_due())
    assert outcome.status == "delivered" and len(crm.calls) == 3
    assert asyncio.run(outbox.deliver_due()) == []


def test_a_write_the_crm_refuses_is_set_aside_with_its_data(engine, clock):
    crm = RecordingCrm()
    crm.refuse = True
    outbox = Outbox(engine, crm, clock)
    assert asyncio.run(outbox.submit("ticket", {"email": "nope"}, "k1")).status == "rejected"
    clock.advance(3600)
    assert asyncio.run(outbox.deliver_due()) == []
    assert row(engine, "k1").payload == {"email": "nope"} and row(engine, "k1").last_error == "InvalidRequest"


def test_concurrent_rounds_deliver_each_write_once(engine, clock):
    crm = RecordingCrm()
    crm.down = True
    outbox = Outbox(engine, crm, clock)

    async def scenario():
        for n in range(5):
            await outbox.submit("interaction", {"n": n}, f"k{n}")
        crm.down = False
        clock.advance(10)
        await asyncio.gather(outbox.deliver_due(), outbox.deliver_due(), outbox.deliver_due())

    asyncio.run(scenario())
    delivered = [payload["n"] for kind, payload in crm.calls[5:]]
    assert sorted(delivered) == [0, 1, 2, 3, 4]
    assert outbox.counts() == {"delivered": 5}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_after_the_sandbox_crm_comes_back_every_pending_write_lands_exactly_once(sandbox_server, engine, clock):
    headers = {"Authorization": f"Bearer {sandbox_server.api_key}"}
    down = SandboxCRM(HttpTransport(f"http://127.0.0.1:{closed_port()}", headers, platform="sandbox"))
    up = SandboxCRM(HttpTransport(sandbox_server.base_url, headers, platform="sandbox"))
    current = {"crm": down}

    async def deliver(kind: str, payload: dict):
        contact = await current["crm"].upsert_contact(payload["email"])
        return await current["crm"].log_interaction(contact.id, **payload["details"])

    outbox = Outbox(engine, deliver, clock)
    conversation = "conv-outbox-test"
    writes = 4

    async def scenario():
        for n in range(writes):
            details = {
                "kind": "order_status", "summary": f"lookup {n}", "channel": "rest",
                "conversation_id": conversation, "idempotency_key": f"outbox-test:{n}",
            }
            outcome = await outbox.submit("interaction", {"email": "anna.schmidt@example.com", "details": details},
                                          details["idempotency_key"])
            assert outcome.status == "pending"
        current["crm"] = up
        clock.advance(60)
        first_round = await outbox.deliver_due()
        clock.advance(3600)
        second_round = await outbox.deliver_due()
        return first_round, second_round

    first_round, second_round = asyncio.run(scenario())
    assert [outcome.status for outcome in first_round] == ["delivered"] * writes and second_round == []
    contact_id = first_round[0].result["contact_id"]
    logged = requests.get(
        f"{sandbox_server.base_url}/v1/crm/contacts/{contact_id}/interactions", headers=headers,
        params={"limit": 100}, timeout=5,
    ).json()["data"]
    mine = [item["summary"] for item in logged if item["conversation_id"] == conversation]
    assert sorted(mine) == [f"lookup {n}" for n in range(writes)]
