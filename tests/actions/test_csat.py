"""Customer satisfaction ratings: read from what people type, kept once per conversation and topic."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import csat
from actions.csat import ActionStoreCsat, CsatRating, ValidateCsatForm, score_in
from tests.actions.conftest import responses, run, tracker


@pytest.fixture(autouse=True)
def fresh_ratings():
    csat.ratings_engine.cache_clear()
    yield
    csat.ratings_engine.cache_clear()


def stored() -> list[tuple[str, int]]:
    with Session(csat.ratings_engine(), future=True) as session:
        return [(r.topic, r.score) for r in session.scalars(select(CsatRating))]


@pytest.mark.parametrize(("typed", "score"), [
    ("5", 5), ("4 stars", 4), ("I'd give it a 3", 3), ("two", 2), ("1/5", 1), ("10", None), ("great", None), ("0", None),
])
def test_a_score_is_read_from_what_people_type(typed, score):
    assert score_in(typed) == score


def test_an_unreadable_score_is_asked_again():
    slots, messages = run(ValidateCsatForm(), tracker(just_set={"csat_score": "brilliant"}, active_loop="csat_form"))
    assert slots["csat_score"] is None and responses(messages) == ["utter_csat_unclear"]


def test_a_rating_is_kept_once_per_conversation_and_topic(shop):
    rated = {"csat_score": "2", "resolved": True, "resolved_topic": "return", "email": "anna.schmidt@example.com"}
    slots, messages = run(ActionStoreCsat(), tracker(slots=rated, active_loop=None))
    assert responses(messages) == ["utter_csat_sorry", "utter_goodbye"] and slots["resolved"] is False
    run(ActionStoreCsat(), tracker(slots={**rated, "csat_score": "4"}, active_loop=None))
    assert stored() == [("return", 4)]
