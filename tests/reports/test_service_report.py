"""The containment and CSAT report, read from a real SQL tracker store and state database."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions import csat
from scripts import service_report
from tests.conftest import REPO

DOMAIN = Domain.load(str(REPO / "domain.yml"))


def at(day: str, minute: int = 0) -> float:
    return datetime.fromisoformat(f"{day}T10:{minute:02d}:00+00:00").timestamp()


def session(day: str, *turns: tuple[str, list[str]]) -> list:
    """A visit: SessionStarted, then per turn the user's intent and the actions that answered it."""
    events = [ActionExecuted("action_session_start", timestamp=at(day)), SessionStarted(timestamp=at(day)),
              ActionExecuted("action_listen", timestamp=at(day))]
    for minute, (intent, actions) in enumerate(turns, start=1):
        events.append(UserUttered(f"({intent})", {"name": intent, "confidence": 1.0}, timestamp=at(day, minute)))
        events += [ActionExecuted(action, timestamp=at(day, minute)) for action in actions]
        events.append(BotUttered("…", timestamp=at(day, minute)))
        events.append(ActionExecuted("action_listen", timestamp=at(day, minute)))
    return events


CONVERSATIONS = {
    # Two visits: the order question was answered, the return needed a person.
    "anna": session("2026-11-10", ("order_status", ["order_lookup_form", "action_show_order_status"]))
    + session("2026-11-12", ("return_item", ["service_request_form", "action_submit_service_request"]),
              ("affirm", ["handover_form", "action_request_human"])),
    "ben": session("2026-11-11", ("greet", ["utter_greet"]), ("cancel_order", ["service_request_form"]),
                   ("affirm", ["action_submit_service_request"]), ("goodbye", ["utter_goodbye"])),
    "carla": session("2026-11-13", ("file_complaint", ["service_request_form", "action_submit_service_request"])),
    "chitchat": session("2026-11-14", ("greet", ["utter_greet"]), ("request_human", ["handover_form",
                                                                                      "action_request_human"])),
    "last month": session("2026-10-02", ("shipping_info", ["action_answer_policy_question"])),
}


@pytest.fixture
def stores(tmp_path, monkeypatch):
    tracker_db = tmp_path / "tracker.db"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tracker_db))
    for sender, events in CONVERSATIONS.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, DOMAIN.slots)))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker_db}\n")
    monkeypatch.setenv("STATE_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    csat.ratings_engine.cache_clear()
    csat.record_rating("conversation-a", "order_status", 5)
    csat.record_rating("conversation-b", "cancel", 4)
    csat.record_rating("conversation-c", "cancel", 2)
    yield endpoints
    csat.ratings_engine.cache_clear()


def report(endpoints, capsys, *args: str) -> dict:
    assert service_report.main(["--endpoints", str(endpoints), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_each_visit_with_a_service_question_counts_once_and_a_handover_is_not_contained(stores, capsys):
    numbers = report(stores, capsys)
    assert (numbers["service_sessions"], numbers["contained"]) == (5, 4)
    assert numbers["containment"] == pytest.approx(0.8)
    assert numbers["by_topic"]["return_item"] == {"sessions": 1, "contained": 0}
    assert numbers["by_topic"]["file_complaint"] == {"sessions": 1, "contained": 1}
    assert "greet" not in numbers["by_topic"] and "request_human" not in numbers["by_topic"]


def test_since_leaves_out_older_sessions(stores, capsys):
    numbers = report(stores, capsys, "--since", "2026-11-01")
    assert (numbers["service_sessions"], numbers["contained"]) == (4, 3)
    assert "shipping_info" not in numbers["by_topic"]


def test_ratings_are_averaged_per_topic(stores, capsys):
    numbers = report(stores, capsys)
    assert numbers["csat"] == {"cancel": {"ratings": 2, "mean": 3.0}, "order_status": {"ratings": 1, "mean": 5.0}}


def test_the_text_report_says_whether_the_target_is_met(stores, capsys):
    assert service_report.main(["--endpoints", str(stores), "--since", "2026-11-01"]) == 0
    text = capsys.readouterr().out
    assert "Service sessions: 4, contained: 3 (75%; meets the 60% target)" in text
    assert "CSAT: 3 ratings, mean 3.67 of 5" in text


def test_an_empty_store_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STATE_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'tracker.db'}\n")
    assert service_report.main(["--endpoints", str(endpoints)]) == 0
    assert capsys.readouterr().out.splitlines() == ["No service conversations yet.", "CSAT: no ratings yet."]
