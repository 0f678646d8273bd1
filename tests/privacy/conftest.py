"""Fixtures of the data subject rights tests: a real SQL tracker store in a file, the real sandbox, and the
action fixtures of tests/actions (tracker, run, proofs; each test with a state database of its own)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from actions import privacy as privacy_actions
from tests.actions.conftest import fresh_shop, fresh_state, shop, shop_down  # noqa: F401  (the fixtures, shared)


@pytest.fixture
def endpoints(tmp_path) -> Path:
    """An endpoints file whose tracker store is a SQLite file of this test, as the Rasa server would use it."""
    path = tmp_path / "endpoints.yml"
    path.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'tracker.db'}\n")
    return path


@pytest.fixture
def rasa_store(endpoints) -> SQLTrackerStore:
    """The tracker store as the Rasa server opens it: conversations are written through it."""
    return TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), Domain.empty())


@pytest.fixture
def privacy_env(monkeypatch, endpoints):
    """The action server's settings for data requests: the tracker store above; a fresh desk per test."""
    monkeypatch.setenv("RASA_ENDPOINTS_FILE", str(endpoints))
    privacy_actions.privacy_desk.cache_clear()
    yield
    privacy_actions.privacy_desk.cache_clear()


def save_conversation(store: SQLTrackerStore, sender: str, *turns: tuple[str, str], slots: dict | None = None,
                      extra: list[Event] | None = None) -> None:
    """Store a conversation the way Rasa does: (customer text, bot text) turns, then slot values."""
    events: list[Event] = [ActionExecuted("action_listen")]
    for said, answered in turns:
        events += [UserUttered(said, {"name": "inform", "confidence": 0.9}), BotUttered(answered),
                   ActionExecuted("action_listen")]
    events += [SlotSet(name, value) for name, value in (slots or {}).items()] + list(extra or [])
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def stored_senders(store: SQLTrackerStore) -> set[str]:
    return set(asyncio.run(store.keys()))
