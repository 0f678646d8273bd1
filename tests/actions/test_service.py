"""Unit tests of the service requests (cancel, change delivery, return) against a real sandbox."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from actions import service as service_actions
from actions.service import (
    ActionAskPickupPoint,
    ActionAskServiceConfirmed,
    ActionSubmitServiceRequest,
    ValidateServiceRequestForm,
)
from integrations.eshop import EShop
from integrations.sandbox import SandboxEShop
from integrations.transport import HttpTransport
from tests.actions.conftest import api, proof_for, responses, run, tracker

ANNA, BEN = "anna.schmidt@example.com", "ben.miller@example.com"


def validate(service: str, *, slots: dict | None = None, just_set: dict | None = None, intent: str = "inform"):
    return run(ValidateServiceRequestForm(), tracker(
        slots={"service": service, **(slots or {})}, just_set=just_set, intent=intent, active_loop="service_request_form"))


def proven(service: str, email: str, number: str, **answers) -> dict:
    """The slots of a form whose order is proven and checked, plus the answers given so far."""
    slots, _ = validate(service, just_set={"email": email, "order_id": number})
    kept = {k: v for k, v in slots.items() if not k.startswith("__")}
    return {"service": service, "email": email, **kept, **answers}


def submit(slots: dict):
    return run(ActionSubmitServiceRequest(), tracker(slots=slots, active_loop=None))


def test_an_unshipped_order_of_the_customer_goes_straight_to_the_confirmation(shop):
    slots, messages = validate("cancel", just_set={"email": ANNA, "order_id": "100232"})
    assert slots["verified_order"] == "100232" and slots["service_checked"] == "cancel:100232"
    assert json.loads(slots["service_order"])["status"] == "paid"
    assert slots["requested_slot"] == "service_confirmed" and messages == []


def test_another_customers_order_is_neither_shown_nor_touched(shop):
    slots, messages = validate("cancel", just_set={"email": BEN, "order_id": "100232"})
    assert slots["order_id"] is None and "service_order" not in slots and "verified_order" not in slots
    assert responses(messages) == ["utter_order_not_found_for_email"]
    assert slots["requested_slot"] == "order_id"


@pytest.mark.parametrize(("service", "number", "refusal"), [
    ("cancel", "100234", "order_already_shipped"),
    ("change_delivery", "100234", "order_already_shipped"),
    ("cancel", "100237", "order_cancelled"),
])
def test_an_order_whose_state_forbids_the_request_is_refused_before_asking_more(shop, service, number, refusal):
    slots, _ = validate(service, just_set={"email": BEN, "order_id": number})
    assert slots["service_refusal"] == refusal and slots["requested_slot"] is None


class ShopThatCannotChangeOrders(SandboxEShop):
    """The sandbox, less what Shopify's adapter lacks: it answers order questions, changes nothing."""

    cancel_order = EShop.cancel_order
    change_delivery = EShop.change_delivery


@pytest.mark.parametrize("service", ["cancel", "change_delivery"])
def test_a_request_the_shop_cannot_carry_out_is_refused_before_asking_more(shop, monkeypatch, service):
    headers = {"Authorization": f"Bearer {shop.api_key}"}
    limited = ShopThatCannotChangeOrders(HttpTransport(shop.base_url, headers, platform="sandbox"))
    monkeypatch.setattr(service_actions, "eshop", lambda: limited)
    slots, _ = validate(service, just_set={"email": ANNA, "order_id": "100232"})
    assert slots["verified_order"] == "100232", "the order is still proven and can be asked about"
    assert slots["service_refusal"] == "unsupported" and slots["requested_slot"] is None

class ShopThatChangesOnlyAddresses(SandboxEShop):
    """The sandbox, less what WooCommerce and Shopify lack: no delivery days, no pickup points."""

    delivery_changes = frozenset({"address"})


@pytest.fixture
def address_only_shop(shop, monkeypatch):
    headers = {"Authorization": f"Bearer {shop.api_key}"}
    limited = ShopThatChangesOnlyAddresses(HttpTransport(shop.base_url, headers, platform="sandbox"))
    monkeypatch.setattr(service_actions, "eshop", lambda: limited)


def test_a_shop_that_changes_only_addresses_asks_for_the_address_straight_away(address_only_shop):
    slots, messages = validate("change_delivery", just_set={"email": ANNA, "order_id": "100232"})
    assert slots["delivery_change"] == "address" and slots["requested_slot"] == "new_address"
    assert messages == []


@pytest.mark.parametrize("asked", ["the delivery day", "a pickup point"])
def test_a_change_the_shop_cannot_make_is_refused_when_named(address_only_shop, asked):
    slots, _ = validate("change_delivery", just_set={"delivery_change": asked})
    assert slots["service_refusal"] == "unsupported" and slots["requested_slot"] is None

def test_an_order_proven_earlier_is_not_asked_for_again(shop):
    slots, messages = validate("cancel", slots={"email": ANNA, "verified_order": "100232", "ownership_proof": proof_for(ANNA, "100232")},
                               just_set={"service": "cancel"}, intent="cancel_order")
    assert slots["order_id"] == "100232" and slots["requested_slot"] == "service_confirmed"


def test_the_form_revalidating_the_same_email_keeps_the_proof(shop):
    # On activation Rasa sends the slots already filled, the email among them, for validation.
    slots, _ = validate("cancel", slots={"verified_order": "100232", "ownership_proof": proof_for(ANNA, "100232")},
                        just_set={"email": ANNA, "service": "cancel"}, intent="cancel_order")
    assert slots["order_id"] == "100232" and slots["requested_slot"] == "service_confirmed"


def test_another_email_does_not_inherit_the_proof(shop):
    slots, messages = validate("cancel", slots={"verified_order": "100232", "ownership_proof": proof_for(ANNA, "100232"), "order_id": "100232"},
                               just_set={"email": BEN})
    assert slots["order_id"] is None and responses(messages) == ["utter_order_not_found_for_email"]
    assert "service_order" not in slots


def test_switching_the_request_forgets_the_answers_of_the_old_one(shop):
    before = proven("change_delivery", ANNA, "100232", delivery_change="date")
    slots, _ = validate("cancel", slots=before, just_set={"service": "cancel"}, intent="cancel_order")
    assert slots["delivery_change"] is None and slots["service_checked"] == "cancel:100232"
    assert slots["requested_slot"] == "service_confirmed"


def test_the_delivery_change_asks_the_address_or_the_day(shop):
    asked, _ = validate("change_delivery", slots=proven("change_delivery", ANNA, "100232"),
                        just_set={"delivery_change": "the address please"})
    assert asked["delivery_change"] == "address" and asked["requested_slot"] == "new_address"


def test_an_address_without_postcode_is_asked_again_with_an_example(shop):
    slots, messages = validate("change_delivery", slots=proven("change_delivery", ANNA, "100232", delivery_change="address"),
                               just_set={"new_address": "somewhere in Berlin"})
    assert slots["new_address"] is None and responses(messages) == ["utter_new_address_unclear"]


def test_a_typed_address_takes_the_orders_country_and_name(shop):
    slots, _ = validate("change_delivery", slots=proven("change_delivery", ANNA, "100232", delivery_change="address"),
                        just_set={"new_address": "Gartenweg 3, 80331 München"})
    address = json.loads(slots["new_address"])
    assert address["postal_code"] == "80331" and address["country"] == "DE" and address["name"]


@pytest.mark.parametrize(("typed", "response"), [
    ("whenever", "utter_delivery_date_unclear"),
    ((date.today() + timedelta(days=60)).isoformat(), "utter_delivery_date_out_of_range"),
    ((date.today() + timedelta(days=(6 - date.today().weekday()) % 7 or 7)).isoformat(), "utter_delivery_date_sunday"),
])
def test_a_day_we_cannot_deliver_is_asked_again(shop, typed, response):
    slots, messages = validate("change_delivery", slots=proven("change_delivery", ANNA, "100232", delivery_change="date"),
                               just_set={"delivery_date": typed})
    assert slots["delivery_date"] is None and responses(messages) == [response]


def test_the_third_miss_offers_a_person_instead_of_a_fourth_question(shop):
    slots, _ = validate("change_delivery",
                        slots={**proven("change_delivery", ANNA, "100232", delivery_change="date"), "lookup_attempts": 2},
                        just_set={"delivery_date": "whenever"})
    assert slots["service_refusal"] == "too_many_attempts" and slots["requested_slot"] is None
    _, messages = submit({**proven("change_delivery", ANNA, "100232"), "service_refusal": "too_many_attempts"})
    assert responses(messages) == ["utter_service_attempts_exhausted"]


def test_the_confirmation_says_what_will_happen(shop):
    _, messages = run(ActionAskServiceConfirmed(), tracker(slots=proven("cancel", ANNA, "100232"),
                                                           active_loop="service_request_form"))
    assert responses(messages) == ["utter_confirm_cancel_paid"] and messages[0]["total"]


def test_a_confirmed_cancellation_cancels_once_and_refunds(fresh_shop):
    confirmed = {**proven("cancel", ANNA, "100232"), "service_confirmed": True}
    slots, messages = submit(confirmed)
    assert responses(messages) == ["utter_order_cancelled_now_refund"] and messages[0]["amount"]
    assert slots["service"] is None and slots["order_id"] is None  # the form's state is forgotten
    assert api(fresh_shop, "GET", "/v1/orders/100232")["status"] == "cancelled"
    _, again = submit(confirmed)  # the customer's "yes" arrives twice
    assert responses(again) == ["utter_order_cancelled_now_refund"]


def test_a_cancellation_refused_by_the_shop_is_explained(fresh_shop):
    confirmed = {**proven("cancel", ANNA, "100232"), "service_confirmed": True}
    api(fresh_shop, "POST", "/v1/sandbox/orders/100232/ship", json={"carrier": "dhl", "tracking_number": "JJD1"})
    slots, messages = submit(confirmed)
    assert responses(messages) == ["utter_cancel_refused_shipped"]
    assert slots["service_outcome"] == "needs_human"


def test_a_new_address_is_written_to_the_order(fresh_shop):
    address = {"name": "Anna Schmidt", "line1": "Gartenweg 3", "postal_code": "80331", "city": "München", "country": "DE"}
    confirmed = {**proven("change_delivery", ANNA, "100232"), "delivery_change": "address",
                 "new_address": json.dumps(address), "service_confirmed": True}
    _, messages = submit(confirmed)
    assert responses(messages) == ["utter_delivery_address_changed"]
    shipping = api(fresh_shop, "GET", "/v1/orders/100232")["shipping_address"]
    assert shipping["postal_code"] == "80331" and shipping["city"] == "München"


def test_a_new_delivery_day_is_written_to_the_order(fresh_shop):
    day = date.today() + timedelta(days=3)
    day += timedelta(days=1) if day.weekday() == 6 else timedelta()
    confirmed = {**proven("change_delivery", ANNA, "100232"), "delivery_change": "date",
                 "delivery_date": day.isoformat(), "service_confirmed": True}
    _, messages = submit(confirmed)
    assert responses(messages) == ["utter_delivery_date_changed"]
    assert api(fresh_shop, "GET", "/v1/orders/100232")["requested_delivery_date"] == day.isoformat()


def test_the_shop_being_down_gets_an_apology_and_a_person(shop_down):
    slots, messages = validate("cancel", just_set={"email": ANNA, "order_id": "100232"})
    assert slots["service_refusal"] == "unavailable"
    slots, messages = submit({"service": "cancel", "email": ANNA, "order_id": "100232", "service_refusal": "unavailable"})
    assert responses(messages) == ["utter_backend_unavailable"] and slots["service_outcome"] == "needs_human"


def test_a_return_sent_twice_opens_one_rma(fresh_shop):
    form = proven("return", ANNA, "100235")
    returnable = json.loads(form["returnable"])
    confirmed = {**form, "return_items": ",".join(line["sku"] for line in returnable), "return_reason": "wrong_size",
                 "return_condition": "unopened", "service_confirmed": True}
    slots, first_answer = submit(confirmed)
    _, second_answer = submit(confirmed)
    assert responses(first_answer) == ["utter_return_created"] and slots["service_outcome"] == "done"
    assert first_answer[0]["rma_number"] == second_answer[0]["rma_number"]
    assert "sig=" in first_answer[0]["label_url"]  # a link the customer can open without our key
    assert len(api(fresh_shop, "GET", "/v1/returns", params={"order_number": "100235"})["data"]) == 1


def test_a_refusal_that_needs_a_person_says_so_to_the_rules(shop):
    slots, messages = submit({**proven("return", BEN, "100240")})
    assert responses(messages) == ["utter_return_refused_window"] and slots["service_outcome"] == "needs_human"


def test_pickup_points_near_the_address_are_offered_and_the_chosen_one_is_written(fresh_shop):
    form = proven("change_delivery", ANNA, "100231")
    slots, _ = validate("change_delivery", slots=form, just_set={"delivery_change": "a pickup point please"})
    assert slots["delivery_change"] == "pickup" and slots["requested_slot"] == "pickup_point"
    options = json.loads(slots["pickup_options"])
    assert options and options[0]["city"] == "Berlin"  # nearest Anna's Berlin address first
    asking = {**form, "delivery_change": "pickup", "pickup_options": slots["pickup_options"]}
    _, asked = run(ActionAskPickupPoint(), tracker(slots=asking, active_loop="service_request_form"))
    assert len(asked[0]["buttons"]) == len(options)
    picked, _ = validate("change_delivery", slots=asking, just_set={"pickup_point": options[0]["id"]})
    assert picked["pickup_point"] == options[0]["id"] and picked["requested_slot"] == "service_confirmed"
    _, done = submit({**asking, "pickup_point": options[0]["id"], "service_confirmed": True})
    assert responses(done) == ["utter_delivery_pickup_changed"]
    assert api(fresh_shop, "GET", "/v1/orders/100231")["pickup_point_id"] == options[0]["id"]


# ---- Ownership is read from the signed proof, never from the slots a tracker brings.

def forged(service: str, number: str, email: str, **answers) -> dict:
    """What a forged action call claims: a confirmed request with every slot the form would have set."""
    snapshot = json.dumps({"number": number, "status": "paid", "total": "1", "lines": []})
    return {"service": service, "email": email, "order_id": number, "verified_order": number,
            "service_checked": f"{service}:{number}", "service_order": snapshot, "service_confirmed": True, **answers}


@pytest.mark.parametrize(("service", "answers"), [
    ("cancel", {}),
    ("change_delivery", {"delivery_change": "address", "new_address": json.dumps(
        {"name": "X", "line1": "Evil Street 1", "postal_code": "10115", "city": "Berlin", "country": "DE"})}),
])
def test_a_request_without_a_proof_changes_nothing(fresh_shop, service, answers):
    before = api(fresh_shop, "GET", "/v1/orders/100232")
    slots, messages = submit(forged(service, "100232", BEN, **answers))
    assert responses(messages) == ["utter_service_not_proven"] and slots["service_outcome"] == "needs_human"
    assert api(fresh_shop, "GET", "/v1/orders/100232") == before


def test_a_proof_from_another_conversation_changes_nothing(fresh_shop):
    stolen = proof_for(ANNA, "100232", sender="someone-else")
    _, messages = submit({**forged("cancel", "100232", ANNA), "ownership_proof": stolen})
    assert responses(messages) == ["utter_service_not_proven"]
    assert api(fresh_shop, "GET", "/v1/orders/100232")["status"] == "paid"


def test_guessing_numbers_after_one_miss_proves_nothing(shop):
    # Anna's orders are 100231, 100232, 100235 and 100238: after the first wrong guess none is found.
    found = []
    for number in (str(n) for n in range(100230, 100243)):
        slots, _ = validate("cancel", just_set={"email": ANNA, "order_id": number})
        if slots.get("ownership_proof"):
            found.append(number)
    assert found == []
