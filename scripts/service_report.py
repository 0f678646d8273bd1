"""How many service conversations the bot solved alone (containment), and how customers rated them (CSAT).

    make report                      # the local defaults: endpoints.yml and var/
    make report ARGS="--since 2026-11-01 --json --endpoints my-endpoints.yml"

Reads the tracker store named in the endpoints file and the CSAT ratings in the state database
(STATE_DATABASE_URL, see integrations.config).

A conversation session counts as a *service* session when the customer asked one of SERVICE_INTENTS in
it, and as *contained* when it ended without a handover to a person (action_request_human opened no
case). A complaint the bot registered as a CRM case is contained: the customer got a case number without
waiting for anybody. The seed's target for service conversations is TARGET (60 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, UserUttered
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.csat import CsatRating
from data_rights.conversations import open_tracker_store
from integrations.config import state_database_url
from integrations.state_database import state_engine

REPO = Path(__file__).resolve().parents[1]

SERVICE_INTENTS = frozenset({
    "order_status", "no_order_number", "change_delivery", "cancel_order", "return_item", "return_status",
    "file_complaint", "case_status", "shipping_info",
})
HANDOVER_ACTION = "action_request_human"
TARGET = 0.60


@dataclass(frozen=True)
class SessionSummary:
    started_at: datetime
    topics: frozenset[str]
    handed_over: bool


@dataclass
class Containment:
    sessions: int = 0
    contained: int = 0
    by_topic: dict[str, list[int]] = field(default_factory=dict)  # topic -> [sessions, contained]

    def add(self, session: SessionSummary) -> None:
        self.sessions += 1
        self.contained += not session.handed_over
        for topic in session.topics:
            counts = self.by_topic.setdefault(topic, [0, 0])
            counts[0] += 1
            counts[1] += not session.handed_over

    @property
    def rate(self) -> float | None:
        return self.contained / self.sessions if self.sessions else None


def split_sessions(events: Iterable[Event]) -> list[list[Event]]:
    """The conversation's events cut at each SessionStarted: what happened in each visit."""
    sessions: list[list[Event]] = [[]]
    for event in events:
        if isinstance(event, SessionStarted) and sessions[-1]:
            sessions.append([])
        sessions[-1].append(event)
    return [session for session in sessions if session]


def summarize(session: Sequence[Event]) -> SessionSummary | None:
    """What the customer came for and whether a person had to take over; None for a session with no service topic."""
    intents = {event.intent_name for event in session if isinstance(event, UserUttered)}
    topics = frozenset(intents & SERVICE_INTENTS)
    if not topics:
        return None
    handed_over = any(isinstance(event, ActionExecuted) and event.action_name == HANDOVER_ACTION for event in session)
    return SessionSummary(datetime.fromtimestamp(session[0].timestamp, timezone.utc), topics, handed_over)


def containment(conversations: Iterable[Sequence[Event]], since: datetime | None = None) -> Containment:
    report = Containment()
    for events in conversations:
        for session in split_sessions(events):
            summary = summarize(session)
            if summary is not None and (since is None or summary.started_at >= since):
                report.add(summary)
    return report


async def stored_conversations(store: TrackerStore) -> list[list[Event]]:
    conversations = []
    for sender_id in await store.keys():
        tracker = await store.retrieve_full_tracker(sender_id)
        if tracker is not None:
            conversations.append(list(tracker.events))
    return conversations


def csat_by_topic(database_url: str, since: datetime | None = None) -> dict[str, tuple[int, float]]:
    """Per topic: how many ratings and their mean (1–5)."""
    query = select(CsatRating.topic, func.count(), func.avg(CsatRating.score)).group_by(CsatRating.topic)
    if since is not None:
        query = query.where(CsatRating.rated_at >= since.replace(tzinfo=None))
    with Session(state_engine(database_url), future=True) as session:
        return {topic: (count, float(mean)) for topic, count, mean in session.execute(query)}


def as_text(report: Containment, csat: dict[str, tuple[int, float]]) -> str:
    if report.rate is None:
        lines = ["No service conversations yet."]
    else:
        verdict = "meets" if report.rate >= TARGET else "misses"
        lines = [f"Service sessions: {report.sessions}, contained: {report.contained} "
                 f"({report.rate:.0%}; {verdict} the {TARGET:.0%} target)"]
        for topic, (sessions, contained) in sorted(report.by_topic.items()):
            lines.append(f"  {topic:<16} {contained:>5} of {sessions:<5} ({contained / sessions:.0%})")
    ratings = sum(count for count, _ in csat.values())
    if ratings:
        mean = sum(count * average for count, average in csat.values()) / ratings
        lines.append(f"CSAT: {ratings} ratings, mean {mean:.2f} of 5")
        lines += [f"  {topic:<16} {count:>5} ratings, mean {average:.2f}" for topic, (count, average) in sorted(csat.items())]
    else:
        lines.append("CSAT: no ratings yet.")
    return "\n".join(lines)


def as_json(report: Containment, csat: dict[str, tuple[int, float]]) -> str:
    return json.dumps({
        "service_sessions": report.sessions, "contained": report.contained, "containment": report.rate,
        "target": TARGET, "by_topic": {topic: {"sessions": s, "contained": c} for topic, (s, c) in report.by_topic.items()},
        "csat": {topic: {"ratings": n, "mean": mean} for topic, (n, mean) in csat.items()},
    }, indent=2, sort_keys=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", default="endpoints.yml", help="where the tracker store is configured")
    parser.add_argument("--domain", default=str(REPO / "domain.yml"))
    parser.add_argument("--since", type=lambda day: datetime.fromisoformat(day).replace(tzinfo=timezone.utc),
                        help="count sessions and ratings from this day (YYYY-MM-DD, UTC)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    store = open_tracker_store(Path(args.endpoints), domain=Domain.load(args.domain))
    report = containment(asyncio.run(stored_conversations(store)), args.since)
    csat = csat_by_topic(state_database_url(), args.since)
    print(as_json(report, csat) if args.json else as_text(report, csat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
