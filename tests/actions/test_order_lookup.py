"""Unit tests of the order lookup: form validation, asking, and explaining the status."""

from __future__ import annotations

import pytest

from actions.orders import (
    ActionAskLoginCode,
    ActionAskOrderId,
    ActionShowOrderStatus,
    ValidateOrderLookupForm,
)
from actions.backends import attempt_limits, proof_signer
from tests.actions.conftest import api, followups, latest_code, proof_for, responses, run, tracker
from webhooks import conversations

ORDER_DATA_KEYS = {"carrier", "tracking_url", "eta", "delay_reason", "total", "cancel_reason"}


def validate(**kwargs):
    return run(ValidateOrderLookupForm(), tracker(**kwargs))


def test_number_and_email_of_the_same_order_pass(shop):
    slots, messages = validate(just_set={"order_id": "#100234", "email": " Ben.Miller@Example.com"})
    assert slots["order_id"] == "100234" and slots["email"] == "ben.miller@example.com"
    assert "lookup_failure" not in slots and messages == []


def test_email_given_after_the_number_is_checked_against_the_order(shop):
    slots, messages = validate(slots={"order_id": "100234"}, just_set={"email": "anna.schmidt@example.com"})
    assert slots["order_id"] is None and slots["lookup_attempts"] == 1
    assert responses(messages) == ["utter_order_not_found_for_email"]


def test_wrong_email_and_unknown_number_get_the_same_answer(shop):
    _, wrong_email = validate(just_set={"order_id": "100234", "email": "anna.schmidt@example.com"})
    _, unknown = validate(just_set={"order_id": "99999999", "email": "anna.schmidt@example.com"})
    assert responses(wrong_email) == responses(unknown) == ["utter_order_not_found_for_email"]
    assert not ORDER_DATA_KEYS & wrong_email[0].keys()


def test_third_failed_match_ends_the_lookup(shop):
    slots, messages = validate(
        slots={"lookup_attempts": 2}, just_set={"order_id": "100234", "email": "carla.rossi@example.com"}
    )
    assert slots["lookup_failure"] == "too_many_attempts" and slots["requested_slot"] is None
    assert messages == []


@pytest.mark.parametrize("typed", ["12", "12345678901", "abcd"])
def test_malformed_order_numbers_are_re_asked(shop, typed):
    slots, messages = validate(slots={"email": "ben.miller@example.com"}, just_set={"order_id": typed})
    assert slots["order_id"] is None and responses(messages) == ["utter_invalid_order_id"]


def test_malformed_email_is_re_asked(shop):
    slots, messages = validate(just_set={"email": "ben.miller(at)example"})
    assert slots["email"] is None and responses(messages) == ["utter_invalid_email"]


def test_backend_down_ends_the_lookup_gracefully(shop_down):
    slots, _ = validate(just_set={"order_id": "100234", "email": "ben.miller@example.com"})
    assert slots["lookup_failure"] == "unavailable" and slots["requested_slot"] is None


def test_a_typed_code_is_not_taken_for_an_order_number(shop):
    email = "carla.rossi@example.com"
    slots, _ = validate(
        slots={"email": email, "use_login_code": True, "login_code_sent_to": email, "requested_slot": "login_code"},
        just_set={"order_id": "123456", "login_code": "123456"},
    )
    assert slots.get("order_id") is None
    # Not checked as an order number either: a check would have counted a miss against the email.
    assert not attempt_limits().proof_refused({"email": email, "conversation": "another", "client": None})


def test_code_login_picks_the_only_order(shop):
    email = "carla.rossi@example.com"
    run(ActionAskLoginCode(), tracker(slots={"email": email, "use_login_code": True}))
    code = latest_code(shop, email)
    slots, messages = validate(
        slots={"email": email, "use_login_code": True, "login_code_sent_to": email, "requested_slot": "login_code"},
        just_set={"login_code": f"it's {code}"},
    )
    proof = proof_signer().read("unit-test-user", slots["ownership_proof"])
    assert proof.customer_id == "cust_carla" and proof.orders == {"100236"} and slots["order_id"] == "100236"
    assert messages == []


def test_wrong_code_says_how_many_tries_are_left(shop):
    email = "ben.miller@example.com"
    run(ActionAskLoginCode(), tracker(slots={"email": email, "use_login_code": True}))
    code = latest_code(shop, email)
    wrong = "000000" if code != "000000" else "111111"
    slots, messages = validate(
        slots={"email": email, "use_login_code": True, "login_code_sent_to": email, "requested_slot": "login_code"},
        just_set={"login_code": wrong},
    )
    assert slots["login_code"] is None and "ownership_proof" not in slots
    assert messages == [{**messages[0], "response": "utter_login_code_wrong", "attempts_left": 4}]


def test_code_is_sent_once_per_address(shop):
    email = "david.chen@example.com"
    before = len(api(shop, "GET", "/v1/sandbox/mailbox", params={"to": email})["data"])
    slots, messages = run(ActionAskLoginCode(), tracker(slots={"email": email, "use_login_code": True}))
    assert slots["login_code_sent_to"] == email
    assert responses(messages) == ["utter_login_code_sent", "utter_ask_login_code"]
    _, again = run(ActionAskLoginCode(), tracker(slots={"email": email, "login_code_sent_to": email}))
    assert responses(again) == ["utter_ask_login_code"]
    assert len(api(shop, "GET", "/v1/sandbox/mailbox", params={"to": email})["data"]) == before + 1


def test_verified_customer_chooses_among_own_orders(shop):
    anna = "anna.schmidt@example.com"
    _, messages = run(ActionAskOrderId(), tracker(slots={"email": anna, "ownership_proof": proof_for(anna, customer_id="cust_anna")}))
    (message,) = messages
    assert message["response"] == "utter_ask_order_choice"
    payloads = {b["payload"] for b in message["buttons"]}
    assert '/inform{"order_id":"100238"}' in payloads
    assert not any("100234" in p for p in payloads)  # Ben's order


def show(order_id: str, email: str, *, proven: bool = True):
    """The status action after the form proved `order_id` for `email` (proven=False: a tracker that only names it)."""
    proof = {"ownership_proof": proof_for(email, order_id)} if proven else {}
    return run(ActionShowOrderStatus(), tracker(slots={"order_id": order_id, "email": email, **proof}, active_loop=None))


def test_shipped_order_shows_carrier_tracking_and_eta(shop):
    slots, messages = show("100234", "ben.miller@example.com")
    (message,) = messages
    assert message["response"] == "utter_shipment_in_transit"
    assert message["tracking_url"].startswith("https://") and message["carrier"]
    assert message["eta"] != "not known yet"
    assert slots["order_id"] is None and slots["lookup_attempts"] == 0  # ready for the next order


def test_delayed_order_explains_the_delay(shop):
    _, messages = show("100236", "carla.rossi@example.com")
    assert messages[0]["response"] == "utter_shipment_delayed"
    assert messages[0]["delay_reason"] == "Severe weather at the regional hub"


def test_split_delivery_shows_every_parcel(shop):
    _, messages = show("100238", "anna.schmidt@example.com")
    assert responses(messages) == ["utter_order_split", "utter_shipment_delivered", "utter_shipment_in_transit"]


@pytest.mark.parametrize(
    ("number", "email", "response"),
    [
        ("100231", "anna.schmidt@example.com", "utter_order_pending"),
        ("100232", "anna.schmidt@example.com", "utter_order_paid"),
        ("100235", "anna.schmidt@example.com", "utter_shipment_delivered"),
        ("100237", "ben.miller@example.com", "utter_order_cancelled_refunded"),
    ],
)
def test_each_status_has_its_explanation(shop, number, email, response):
    _, messages = show(number, email)
    assert responses(messages) == [response]


def test_status_is_never_shown_without_a_proof(shop):
    _, messages = show("100234", "anna.schmidt@example.com", proven=False)
    assert responses(messages) == ["utter_order_not_found_for_email"]
    assert not ORDER_DATA_KEYS & messages[0].keys()


def test_answered_lookup_is_logged_once_on_the_crm_contact(shop):
    anna = "anna.schmidt@example.com"
    a_tracker = tracker(slots={"order_id": "100235", "email": anna, "ownership_proof": proof_for(anna, "100235", sender="crm-log-test")},
                        active_loop=None, sender="crm-log-test")
    run(ActionShowOrderStatus(), a_tracker)
    run(ActionShowOrderStatus(), a_tracker)  # the same turn again, as after a retry
    (contact,) = api(shop, "GET", "/v1/crm/contacts", params={"email": "anna.schmidt@example.com"})["data"]
    logged = [
        i
        for i in api(shop, "GET", f"/v1/crm/contacts/{contact['id']}/interactions")["data"]
        if i["order_number"] == "100235" and i["kind"] == "order_status"
    ]
    assert len(logged) == 1 and logged[0]["conversation_id"].startswith("conv-")
    assert "crm-log-test" not in str(logged)  # the raw sender id (maybe a phone number) stays out


@pytest.mark.parametrize("failure", ["unavailable", "too_many_attempts", "verification_failed", "no_orders"])
def test_failures_are_explained_and_a_person_offered(shop, failure):
    slots, messages = run(ActionShowOrderStatus(), tracker(slots={"lookup_failure": failure}, active_loop=None))
    assert len(messages) == 1 and messages[0]["response"].startswith("utter_")
    assert followups(slots) == ["utter_offer_human"]
    assert slots["lookup_failure"] is None


def test_backend_down_while_showing_apologises(shop_down):
    slots, messages = show("100234", "ben.miller@example.com")
    assert responses(messages) == ["utter_backend_unavailable"]
    assert followups(slots) == ["utter_offer_human"]



def timeline(shop, email: str) -> list[dict]:
    (contact,) = api(shop, "GET", "/v1/crm/contacts", params={"email": email})["data"]
    return api(shop, "GET", f"/v1/crm/contacts/{contact['id']}/interactions")["data"]


def test_an_outage_is_logged_on_the_contact(shop):
    email = "david.chen@example.com"
    run(ActionShowOrderStatus(), tracker(slots={"lookup_failure": "unavailable", "email": email}, active_loop=None))
    assert [i["outcome"] for i in timeline(shop, email)].count("backend_unavailable") == 1


def test_a_failed_verification_leaves_the_contact_untouched(shop):
    email = "ben.miller@example.com"
    before = timeline(shop, email)
    run(ActionShowOrderStatus(), tracker(slots={"lookup_failure": "verification_failed", "email": email}, active_loop=None))
    assert timeline(shop, email) == before


def test_a_verified_lookup_lets_the_shops_news_reach_the_conversation(shop):
    show("100234", "ben.miller@example.com")
    links = conversations._state_links()
    assert links.conversation_for("100234", None) == "unit-test-user"
    assert links.conversation_for(None, conversations.email_hash("Ben.Miller@example.com")) == "unit-test-user"


def test_a_refused_lookup_links_nothing(shop):
    show("100234", "anna.schmidt@example.com", proven=False)
    links = conversations._state_links()
    assert links.conversation_for("100234", conversations.email_hash("anna.schmidt@example.com")) is None


def test_code_requests_beyond_the_limit_send_no_mail(shop):
    email = "david.chen@example.com"
    before = len(api(shop, "GET", "/v1/sandbox/mailbox", params={"to": email})["data"])
    said = []
    for n in range(6):  # six new conversations, as a script would open them
        _, messages = run(ActionAskLoginCode(), tracker(slots={"email": email, "use_login_code": True}, sender=f"s{n}"))
        said.append(responses(messages)[0])
    assert said == ["utter_login_code_sent"] * 3 + ["utter_login_code_limit"] * 3
    assert len(api(shop, "GET", "/v1/sandbox/mailbox", params={"to": email})["data"]) == before + 3


def test_a_code_proves_the_email_and_its_orders(shop):
    email = "carla.rossi@example.com"
    run(ActionAskLoginCode(), tracker(slots={"email": email, "use_login_code": True}))
    slots, _ = validate(
        slots={"email": email, "use_login_code": True, "login_code_sent_to": email, "requested_slot": "login_code"},
        just_set={"login_code": latest_code(shop, email)},
    )
    _, messages = run(ActionShowOrderStatus(), tracker(slots={**slots, "email": email}, active_loop=None))
    assert responses(messages) == ["utter_shipment_delayed"]


def test_a_delivered_parcel_ends_with_the_offer_of_a_colleague(shop):
    slots, messages = show("100235", "anna.schmidt@example.com")
    assert responses(messages) == ["utter_shipment_delivered"]
    assert followups(slots) == ["utter_offer_colleague_for_missing_parcel"]


def test_a_parcel_on_its_way_makes_no_offer(shop):
    slots, _ = show("100234", "ben.miller@example.com")
    assert followups(slots) == []


def test_a_second_request_in_the_same_message_follows_the_status(shop):
    proof = proof_for("anna.schmidt@example.com", "100235")
    slots, messages = run(ActionShowOrderStatus(), tracker(
        slots={"order_id": "100235", "email": "anna.schmidt@example.com", "ownership_proof": proof,
               "next_request": "return_item"}, active_loop=None))
    assert responses(messages) == ["utter_shipment_delivered", "utter_then_return"]
    assert slots["service"] == "return" and slots["next_request"] is None
    assert followups(slots) == ["service_request_form"]


def test_a_second_request_is_dropped_with_an_order_that_was_not_proven(shop):
    slots, _ = run(ActionShowOrderStatus(), tracker(
        slots={"order_id": "100235", "email": "anna.schmidt@example.com", "next_request": "cancel_order"},
        active_loop=None))
    assert slots["next_request"] is None and "service" not in slots and followups(slots) == []
