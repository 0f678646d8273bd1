"""Tracker fixtures and a runner for action unit tests, with the real sandbox behind them."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import backends, crm_log
from actions.crm_log import wait_for_pending_writes
from actions.proof import Proof
from webhooks import conversations

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())


def _use_backend(monkeypatch, url: str, key: str) -> None:
    monkeypatch.setenv("SANDBOX_URL", url)
    monkeypatch.setenv("SANDBOX_API_KEY", key)
    backends.eshop.cache_clear()
    backends.crm.cache_clear()


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch, tmp_path):
    """Each test gets its own state database, so pending writes and conversation links never leak."""
    monkeypatch.setenv("STATE_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    crm_log.outbox.cache_clear()
    conversations._state_links.cache_clear()
    backends.attempt_limits.cache_clear()
    yield
    crm_log.outbox.cache_clear()
    conversations._state_links.cache_clear()
    backends.attempt_limits.cache_clear()


@pytest.fixture
def shop(monkeypatch, sandbox_server):
    _use_backend(monkeypatch, sandbox_server.base_url, sandbox_server.api_key)
    yield sandbox_server
    backends.eshop.cache_clear()
    backends.crm.cache_clear()


@pytest.fixture
def fresh_shop(monkeypatch, launch_sandbox):
    """A sandbox of its own, for tests that change orders: the shared one stays as seeded."""
    server = launch_sandbox()
    _use_backend(monkeypatch, server.base_url, server.api_key)
    yield server
    backends.eshop.cache_clear()
    backends.crm.cache_clear()


@pytest.fixture
def shop_down(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        _use_backend(monkeypatch, f"http://127.0.0.1:{sock.getsockname()[1]}", "any")
        yield
    backends.eshop.cache_clear()
    backends.crm.cache_clear()


def tracker(
    *,
    slots: dict[str, Any] | None = None,
    just_set: dict[str, Any] | None = None,
    intent: str = "inform",
    text: str = "",
    sender: str = "unit-test-user",
    events: list[dict] | None = None,
    active_loop: str | None = "order_lookup_form",
) -> Tracker:
    """A tracker whose last user turn set `just_set` (what a form validates) on top of `slots`."""
    all_slots = {"lookup_attempts": 0, **(slots or {}), **(just_set or {})}
    history = list(events or [])
    history.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.99}}})
    history += [{"event": "slot", "name": name, "value": value} for name, value in (just_set or {}).items()]
    return Tracker(
        sender,
        all_slots,
        {"intent": {"name": intent, "confidence": 0.99}, "entities": [], "text": text, "message_id": f"msg-{len(history)}"},
        history,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def proof_for(email: str, *orders: str, customer_id: str | None = None, sender: str = "unit-test-user") -> str:
    """The signed proof the form leaves once `email` has proven `orders` (or an account) in conversation `sender`."""
    return backends.proof_signer().sign(sender, Proof(email, frozenset(orders), customer_id))


def run(action, a_tracker: Tracker) -> tuple[dict[str, Any], list[dict]]:
    """Runs an action (and lets its background CRM writes finish); its slot changes and messages."""

    async def go():
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, a_tracker, DOMAIN)
        await wait_for_pending_writes()
        return events, dispatcher.messages

    events, messages = asyncio.run(go())
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return {"__events__": events, **slots}, messages


def followups(slots: dict[str, Any]) -> list[str]:
    """The actions an action asked Rasa to run next."""
    return [e["name"] for e in slots["__events__"] if e.get("event") == "followup"]


def responses(messages: list[dict]) -> list[str]:
    return [m.get("response") for m in messages]


def api(server, method: str, path: str, **kwargs):
    response = requests.request(
        method, server.base_url + path, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=5, **kwargs
    )
    response.raise_for_status()
    return response.json()


def latest_code(server, email: str) -> str:
    mails = api(server, "GET", "/v1/sandbox/mailbox", params={"to": email})["data"]
    return re.search(r"\b(\d{6})\b", mails[0]["body"]).group(1)
