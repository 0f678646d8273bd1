"""Customer satisfaction: at the end of a conversation that solved something, ask for 1–5 and keep it.

Ratings go to the bot's state database (one per conversation and topic: asking twice never counts
twice), so containment and CSAT can be reported without the tracker store, and onto the
customer's CRM timeline when we know who they are.
"""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.backends import conversation_ref, turn_ref
from actions.crm_log import record_interaction_later
from integrations.config import state_database_url
from integrations.state_database import StateTable, state_engine, utc_now

SCORE_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
SCORE = re.compile(r"(?<![\d.])([1-5])(?![\d])")

class CsatRating(StateTable):
    """One rating per conversation and topic; the conversation is kept as its pseudonymous reference."""

    __tablename__ = "csat_ratings"
    __table_args__ = (UniqueConstraint("conversation", "topic"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation = Column(String(40), nullable=False)
    topic = Column(String(40), nullable=False)
    score = Column(Integer, nullable=False)
    rated_at = Column(DateTime, nullable=False, index=True)


@lru_cache(maxsize=1)
def ratings_engine() -> Engine:
    return state_engine(state_database_url())


def record_rating(conversation: str, topic: str, score: int) -> None:
    """Keep the rating; a second rating of the same conversation and topic replaces the first."""
    with Session(ratings_engine(), future=True) as session, session.begin():
        rating = session.scalars(select(CsatRating).where(
            CsatRating.conversation == conversation, CsatRating.topic == topic)).first()
        if rating is None:
            rating = CsatRating(conversation=conversation, topic=topic)
            session.add(rating)
        rating.score = score
        rating.rated_at = utc_now()


def resolved(topic: str) -> list[EventType]:
    """What an action returns when it solved the customer's request: the goodbye then asks for a rating."""
    return [SlotSet("resolved", True), SlotSet("resolved_topic", topic)]


def score_in(text: Any) -> int | None:
    said = str(text or "").casefold()
    digit = SCORE.search(said)
    if digit:
        return int(digit.group(1))
    return next((score for word, score in SCORE_WORDS.items() if re.search(rf"\b{word}\b", said)), None)


class ValidateCsatForm(FormValidationAction):
    def name(self) -> str:
        return "validate_csat_form"

    def validate_csat_score(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        score = score_in(value)
        if score is None:
            dispatcher.utter_message(response="utter_csat_unclear")
        return {"csat_score": score}


class ActionStoreCsat(Action):
    def name(self) -> str:
        return "action_store_csat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        score = int(tracker.get_slot("csat_score"))
        topic = tracker.get_slot("resolved_topic") or "other"
        await asyncio.to_thread(record_rating, conversation_ref(tracker), topic, score)
        email = tracker.get_slot("email")
        if email:
            record_interaction_later(
                email=email, kind="csat", summary=f"Rated the chat {score} of 5 ({topic}).",
                channel=tracker.get_latest_input_channel() or "unknown", conversation_id=conversation_ref(tracker),
                idempotency_key=f"csat:{turn_ref(tracker)}", outcome=f"csat_{score}",
            )
        dispatcher.utter_message(response="utter_csat_thanks" if score >= 4 else "utter_csat_sorry")
        dispatcher.utter_message(response="utter_goodbye")
        return [SlotSet("resolved", False), SlotSet("csat_score", None)]
