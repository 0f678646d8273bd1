"""Complaints become CRM cases with what the customer said; a case's status goes only to its customer."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from actions.complaints import ActionAskComplaintItem, answer_due
from actions.service import ActionSubmitServiceRequest, ValidateServiceRequestForm
from tests.actions.conftest import api, responses, run, tracker

ANNA, BEN = "anna.schmidt@example.com", "ben.miller@example.com"


def validate(*, slots: dict | None = None, just_set: dict | None = None, intent: str = "inform", text: str = ""):
    return run(ValidateServiceRequestForm(), tracker(
        slots=slots, just_set=just_set, intent=intent, text=text, active_loop="service_request_form"))


def proven(email: str, number: str, **answers) -> dict:
    slots, _ = validate(slots={"service": "complaint"}, just_set={"email": email, "order_id": number})
    return {"service": "complaint", **{k: v for k, v in slots.items() if not k.startswith("__")}, **answers}


def test_a_first_message_that_names_the_problem_is_not_asked_again(shop):
    slots, _ = validate(just_set={"service": "complaint"}, intent="file_complaint",
                        text="my headlamp arrived broken, the glass is cracked")
    assert slots["complaint_kind"] == "arrived_damaged"
    assert slots["complaint_details"] == "my headlamp arrived broken, the glass is cracked"


def test_an_order_still_in_the_warehouse_cannot_have_a_damaged_parcel(shop):
    slots, _ = validate(slots={"service": "complaint"}, just_set={"email": ANNA, "order_id": "100232"})
    assert slots["service_refusal"] == "not_delivered_yet"
    _, messages = run(ActionSubmitServiceRequest(), tracker(slots={**proven(ANNA, "100232")}, active_loop=None))
    assert responses(messages) == ["utter_complaint_refused_not_delivered"]


def test_the_items_of_the_order_are_offered_and_typed_names_understood(shop):
    form = proven(BEN, "100241")
    _, messages = run(ActionAskComplaintItem(), tracker(slots=form, active_loop="service_request_form"))
    assert responses(messages) == ["utter_ask_complaint_item"] and len(messages[0]["buttons"]) == 3
    slots, _ = validate(slots=form, just_set={"complaint_item": "the headlamp"})
    assert slots["complaint_item"] == "trail-headlamp-400-black"


def test_a_description_too_short_to_act_on_is_asked_again(shop):
    slots, messages = validate(slots=proven(BEN, "100241", complaint_item="trail-headlamp-400-black"),
                               just_set={"complaint_details": "broken"})
    assert slots["complaint_details"] is None and responses(messages) == ["utter_complaint_details_unclear"]


def test_a_complaint_opens_one_case_with_photos_priority_and_due_date(fresh_shop):
    form = proven(BEN, "100241", complaint_item="trail-headlamp-400-black", complaint_kind="arrived_damaged",
                  complaint_details="The glass is cracked, see https://photos.example.com/p/123")
    _, messages = run(ActionSubmitServiceRequest(), tracker(slots=form, active_loop=None))
    assert responses(messages) == ["utter_complaint_opened"], messages
    number = messages[0]["case_number"]
    case = api(fresh_shop, "GET", f"/v1/crm/tickets/{number}")
    assert case["priority"] == "high" and case["category"] == "complaint" and case["due_at"]
    assert case["attachments"] == ["https://photos.example.com/p/123"]
    assert "The glass is cracked" in case["description"] and case["email"] == BEN
    _, again = run(ActionSubmitServiceRequest(), tracker(slots=form, active_loop=None))  # the message came twice
    assert again[0]["case_number"] == number


def test_a_case_is_shown_only_to_its_customer(fresh_shop):
    form = proven(BEN, "100241", complaint_item="trail-headlamp-400-black", complaint_kind="defective",
                  complaint_details="It stopped charging after a week")
    _, opened = run(ActionSubmitServiceRequest(), tracker(slots=form, active_loop=None))
    number = opened[0]["case_number"]
    stranger, messages = validate(slots={"service": "case_status"}, just_set={"email": ANNA, "case_number": number})
    assert stranger["case_number"] is None and responses(messages) == ["utter_case_not_found_for_email"]
    owner, _ = validate(slots={"service": "case_status"}, just_set={"email": BEN, "case_number": number.lower()})
    assert owner["requested_slot"] is None and json.loads(owner["service_case"])["status"] == "open"
    _, told = run(ActionSubmitServiceRequest(), tracker(slots={"service": "case_status", "email": BEN, **owner},
                                                        active_loop=None))
    assert responses(told) == ["utter_case_status_open"] and told[0]["case_number"] == number


@pytest.mark.parametrize(("now", "priority", "due"), [
    (datetime(2026, 11, 25, 10, tzinfo=timezone.utc), "high", datetime(2026, 11, 26, 10, tzinfo=timezone.utc)),
    (datetime(2026, 11, 27, 10, tzinfo=timezone.utc), "high", datetime(2026, 11, 30, 10, tzinfo=timezone.utc)),
    (datetime(2026, 11, 27, 10, tzinfo=timezone.utc), "normal", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
])
def test_the_answer_is_due_in_business_days(now, priority, due):
    assert answer_due(priority, now) == due
