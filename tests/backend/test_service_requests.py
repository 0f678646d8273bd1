"""Service requests over HTTP: delivery changes, cancellations and returns (RMA), with the rules that refuse them.

Refusals change nothing, so they run on the session's sandbox; every test that changes an order gets a
freshly seeded sandbox of its own (`fresh_api`), so the order and shop tests keep reading the seed.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import jsonschema
import pytest

from tests.backend.client import Api, day, error_of
from tests.backend.test_openapi import documented_schema
from webhooks.signatures import check_fresh, verify_sandbox

ADDRESS = {"name": "Anna Schmidt", "line1": "Kastanienallee 7", "line2": "Hinterhaus", "postal_code": "10435",
           "city": "Berlin", "country": "DE"}
WEBHOOK_SECRET = "returns-test-secret"
HOOK_PATH = "/hooks/sandbox"


def new_key() -> dict:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def weekday_after(days: int) -> str:
    """The first day at least `days` from today that is not a Sunday."""
    wanted = utc_today() + timedelta(days=days)
    return (wanted + timedelta(days=1) if wanted.weekday() == 6 else wanted).isoformat()


def sunday_after(days: int) -> str:
    wanted = utc_today() + timedelta(days=days)
    return (wanted + timedelta(days=(6 - wanted.weekday()) % 7)).isoformat()


def item(sku: str, quantity: int = 1, reason: str = "changed_mind", condition: str = "unused") -> dict:
    return {"sku": sku, "quantity": quantity, "reason": reason, "condition": condition}


def matches_schema(body: dict, method: str, path: str, status: int) -> None:
    jsonschema.validate(body, documented_schema(method, path, status))


# ---- the seed has an order for every case

@pytest.mark.parametrize(("number", "status"), [
    ("100231", "pending"), ("100232", "paid"), ("100234", "shipped"), ("100235", "delivered"),
    ("100237", "cancelled"), ("100240", "delivered"), ("100241", "delivered"),
])
def test_seeded_orders_for_each_service_case(api, number, status):
    order = api.ok("GET", f"/v1/orders/{number}")
    assert order["status"] == status
    assert set(order["shipping_address"]) == {"name", "line1", "line2", "postal_code", "city", "country"}
    assert order["requested_delivery_date"] is None
    matches_schema(order, "get", "/v1/orders/{number}", 200)


def test_products_carry_their_return_policy(api):
    def policy(product_id):
        return api.ok("GET", f"/v1/products/{product_id}")["return_policy"]

    assert policy("merino-tee") == {"returnable": True, "window_days": 30, "condition": "unused"}
    assert policy("trail-headlamp-400") == {"returnable": True, "window_days": 14, "condition": "unused"}
    assert policy("aero-wireless-earbuds") == {"returnable": True, "window_days": 14, "condition": "unopened"}
    assert policy("wool-hiking-socks")["returnable"] is False


# ---- delivery changes

def test_a_paid_order_gets_a_new_address_and_delivery_day(fresh_api):
    wanted = weekday_after(3)
    changed = fresh_api.ok("POST", "/v1/orders/100232/delivery-change", headers=new_key(),
                           json={"address": ADDRESS, "delivery_date": wanted})
    assert (changed["shipping_address"], changed["requested_delivery_date"]) == (ADDRESS, wanted)
    assert changed["status"] == "paid"
    matches_schema(changed, "post", "/v1/orders/{number}/delivery-change", 200)
    assert fresh_api.ok("GET", "/v1/orders/100232") == changed


def test_a_pending_order_may_change_only_its_day_and_keeps_its_address(fresh_api):
    before = fresh_api.ok("GET", "/v1/orders/100231")["shipping_address"]
    changed = fresh_api.ok("POST", "/v1/orders/100231/delivery-change", json={"delivery_date": weekday_after(30)})
    assert changed["shipping_address"] == before and changed["requested_delivery_date"] == weekday_after(30)


@pytest.mark.parametrize(("country", "typed", "stored"), [
    ("DE", "10969", "10969"), ("GB", "nw1 6xe", "NW1 6XE"), ("GB", "SW1A 1AA", "SW1A 1AA"),
    ("IT", "20121", "20121"), ("US", "94105", "94105"), ("US", "94105-1234", "94105-1234"),
    ("NL", "1017 CT", "1017 CT"), ("fr", "75001", "75001"),
])
def test_postcodes_valid_in_their_country_are_accepted(fresh_api, country, typed, stored):
    address = {**ADDRESS, "country": country, "postal_code": typed, "line2": ""}
    changed = fresh_api.ok("POST", "/v1/orders/100232/delivery-change", json={"address": address})
    assert changed["shipping_address"] == {**address, "country": country.upper(), "postal_code": stored}


@pytest.mark.parametrize(("change", "problems"), [
    ({"country": "DE", "postal_code": "1234"}, {"address.postal_code": "not a postcode of DE"}),
    ({"country": "DE", "postal_code": "ABCDE"}, {"address.postal_code": "not a postcode of DE"}),
    ({"country": "GB", "postal_code": "12345"}, {"address.postal_code": "not a postcode of GB"}),
    ({"country": "IT", "postal_code": "2012"}, {"address.postal_code": "not a postcode of IT"}),
    ({"country": "US", "postal_code": "9410"}, {"address.postal_code": "not a postcode of US"}),
    ({"country": "CH", "postal_code": "8001"}, {"address.country": "one of DE, AT, NL, BE, FR, IT, ES, GB, US"}),
    ({"name": "", "line1": None, "city": "  "}, {"address.name": "required, a non-empty string",
                                                  "address.line1": "required, a non-empty string",
                                                  "address.city": "required, a non-empty string"}),
    ({"line1": "x" * 201}, {"address.line1": "at most 200 characters"}),
])
def test_an_address_the_shop_cannot_deliver_to_is_422_naming_each_problem(api, change, problems):
    response = api.post("/v1/orders/100232/delivery-change", json={"address": {**ADDRESS, **change}})
    assert response.status_code == 422, response.text
    assert error_of(response)["type"] == "validation_failed" and error_of(response)["fields"] == problems
    assert api.ok("GET", "/v1/orders/100232")["shipping_address"]["line1"] == "Lindenstrasse 12"


@pytest.mark.parametrize(("delivery_date", "problem"), [
    (lambda: utc_today().isoformat(), "a day after today"),
    (lambda: (utc_today() - timedelta(days=3)).isoformat(), "a day after today"),
    (lambda: (utc_today() + timedelta(days=45)).isoformat(), "at most 30 days ahead"),
    (lambda: sunday_after(2), "not a Sunday: carriers do not deliver on Sundays"),
    (lambda: "next week", "a date, YYYY-MM-DD"),
    (lambda: "2031-02-30", "a date, YYYY-MM-DD"),
])
def test_a_delivery_day_must_be_soon_in_the_future_and_not_a_sunday(api, delivery_date, problem):
    response = api.post("/v1/orders/100232/delivery-change", json={"delivery_date": delivery_date()})
    assert response.status_code == 422, response.text
    assert error_of(response)["fields"] == {"delivery_date": problem}


def test_every_problem_of_a_delivery_change_is_named_at_once(api):
    response = api.post("/v1/orders/100232/delivery-change",
                        json={"address": {**ADDRESS, "postal_code": "1"}, "delivery_date": sunday_after(2)})
    assert set(error_of(response)["fields"]) == {"address.postal_code", "delivery_date"}


@pytest.mark.parametrize(("body", "status", "field"), [
    ({}, 422, "address"),
    ({"address": None, "delivery_date": ""}, 422, "address"),
    ({"address": "Lindenstrasse 12, Berlin"}, 422, "address"),
    ("[]", 400, None),
])
def test_a_delivery_change_without_a_change_is_refused(api, body, status, field):
    options = {"data": body} if isinstance(body, str) else {"json": body}
    response = api.post("/v1/orders/100232/delivery-change", **options)
    assert response.status_code == status, response.text
    assert field is None or field in error_of(response)["fields"]


@pytest.mark.parametrize(("number", "refusal"), [
    ("100234", "order_already_shipped"), ("100236", "order_already_shipped"), ("100235", "order_already_shipped"),
    ("100238", "order_already_shipped"), ("100237", "order_cancelled"),
])
def test_an_order_that_left_the_warehouse_or_was_cancelled_keeps_its_delivery(api, number, refusal):
    before = api.ok("GET", f"/v1/orders/{number}")
    response = api.post(f"/v1/orders/{number}/delivery-change", headers=new_key(),
                        json={"address": ADDRESS, "delivery_date": weekday_after(3)})
    assert response.status_code == 409 and error_of(response)["type"] == refusal, response.text
    matches_schema(response.json(), "post", "/v1/orders/{number}/delivery-change", 409)
    assert api.ok("GET", f"/v1/orders/{number}") == before


def test_delivery_change_of_an_unknown_or_malformed_order_number(api):
    assert api.post("/v1/orders/99999999/delivery-change", json={"address": ADDRESS}).status_code == 404
    response = api.post("/v1/orders/12ab/delivery-change", json={"address": ADDRESS})
    assert response.status_code == 422 and error_of(response)["fields"] == {"number": "4 to 10 digits"}


def test_a_delivery_change_is_applied_once_per_idempotency_key(fresh_api):
    key = new_key()
    first = fresh_api.post("/v1/orders/100232/delivery-change", headers=key, json={"address": ADDRESS})
    again = fresh_api.post("/v1/orders/100232/delivery-change", headers=key, json={"address": ADDRESS})
    assert (first.status_code, again.status_code) == (200, 200) and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    other_body = fresh_api.post("/v1/orders/100232/delivery-change", headers=key,
                                json={"address": {**ADDRESS, "city": "Potsdam", "postal_code": "14467"}})
    assert other_body.status_code == 409 and error_of(other_body)["type"] == "conflict"
    assert fresh_api.ok("GET", "/v1/orders/100232")["shipping_address"]["city"] == "Berlin"


# ---- cancellations

def test_cancelling_a_paid_order_refunds_its_total(fresh_api):
    cancelled = fresh_api.ok("POST", "/v1/orders/100232/cancellation", headers=new_key(),
                             json={"reason": "Ordered the wrong size"})
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Ordered the wrong size")
    assert cancelled["cancelled_at"].startswith(utc_today().isoformat())
    assert cancelled["refund"] == {"status": "pending", "amount": {"amount": "140.00", "currency": "EUR"}}
    matches_schema(cancelled, "post", "/v1/orders/{number}/cancellation", 200)
    assert fresh_api.ok("GET", "/v1/orders/100232") == cancelled


def test_cancelling_an_unpaid_order_refunds_nothing(fresh_api):
    cancelled = fresh_api.ok("POST", "/v1/orders/100231/cancellation", json={"reason": "Found it cheaper"})
    assert cancelled["status"] == "cancelled" and cancelled["refund"] is None


def test_a_cancellation_is_answered_once_per_key_and_refused_after(fresh_api):
    key = new_key()
    first = fresh_api.post("/v1/orders/100232/cancellation", headers=key, json={"reason": "No longer needed"})
    again = fresh_api.post("/v1/orders/100232/cancellation", headers=key, json={"reason": "No longer needed"})
    assert (first.status_code, again.status_code) == (200, 200) and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    another = fresh_api.post("/v1/orders/100232/cancellation", headers=new_key(), json={"reason": "No longer needed"})
    assert another.status_code == 409 and error_of(another)["type"] == "order_cancelled"
    matches_schema(another.json(), "post", "/v1/orders/{number}/cancellation", 409)
    moved = fresh_api.post("/v1/orders/100232/delivery-change", json={"delivery_date": weekday_after(3)})
    assert moved.status_code == 409 and error_of(moved)["type"] == "order_cancelled"
    assert fresh_api.ok("GET", "/v1/orders/100232")["cancelled_at"] == first.json()["cancelled_at"]


@pytest.mark.parametrize(("number", "refusal"), [
    ("100234", "order_already_shipped"), ("100235", "order_already_shipped"), ("100236", "order_already_shipped"),
    ("100237", "order_cancelled"),
])
def test_an_order_that_left_the_warehouse_cannot_be_cancelled(api, number, refusal):
    before = api.ok("GET", f"/v1/orders/{number}")
    response = api.post(f"/v1/orders/{number}/cancellation", headers=new_key(), json={"reason": "Too slow"})
    assert response.status_code == 409 and error_of(response)["type"] == refusal, response.text
    assert api.ok("GET", f"/v1/orders/{number}") == before


@pytest.mark.parametrize(("number", "body", "status"), [
    ("100232", {}, 422), ("100232", {"reason": "  "}, 422), ("100232", {"reason": "x" * 301}, 422),
    ("100232", "not json", 400), ("99999999", {"reason": "x"}, 404), ("12ab", {"reason": "x"}, 422),
])
def test_a_bad_cancellation_is_a_json_error(api, number, body, status):
    options = {"data": body} if isinstance(body, str) else {"json": body}
    response = api.post(f"/v1/orders/{number}/cancellation", **options)
    assert response.status_code == status and error_of(response)["message"], response.text
    assert api.ok("GET", "/v1/orders/100232")["status"] == "paid"


# ---- return eligibility

def lines_by_sku(eligibility: dict) -> dict[str, tuple]:
    return {line["sku"]: (line["eligible"], line["quantity_returnable"], line["reason_code"], line["window_ends_on"])
            for line in eligibility["lines"]}


def test_eligibility_per_line_of_a_partly_returnable_order(api, seeded_on):
    eligibility = api.ok("GET", "/v1/orders/100241/return-eligibility")
    matches_schema(eligibility, "get", "/v1/orders/{number}/return-eligibility", 200)
    assert eligibility["delivered_on"] == day(seeded_on, -20)
    assert lines_by_sku(eligibility) == {
        "merino-tee-l-green": (True, 2, None, day(seeded_on, 10)),
        "trail-headlamp-400-black": (False, 0, "outside_return_window", day(seeded_on, -6)),
        "wool-hiking-socks-43-46": (False, 0, "not_returnable", None),
    }


@pytest.mark.parametrize(("number", "expected"), [
    ("100235", {"ridge-backpack-30l-black": (True, 1, None, 27)}),
    ("100240", {"city-sneaker-42-white": (False, 0, "outside_return_window", -15)}),
    ("100232", {"merino-tee-m-grey": (False, 0, "not_delivered_yet", None),
                "wool-hiking-socks-39-42": (False, 0, "not_returnable", None)}),
    ("100238", {"trail-runner-gtx-40-black": (False, 0, "not_delivered_yet", None),  # one parcel still on its way
                "insulated-bottle-750-sage": (False, 0, "not_delivered_yet", None)}),
    ("100237", {"aero-wireless-earbuds-black": (False, 0, "order_cancelled", None)}),
])
def test_eligibility_of_each_kind_of_order(api, seeded_on, number, expected):
    lines = lines_by_sku(api.ok("GET", f"/v1/orders/{number}/return-eligibility"))
    assert lines == {sku: (eligible, quantity, reason, None if ends is None else day(seeded_on, ends))
                     for sku, (eligible, quantity, reason, ends) in expected.items()}


def test_eligibility_of_an_unknown_or_malformed_order(api):
    assert error_of(api.get("/v1/orders/99999999/return-eligibility"))["type"] == "not_found"
    assert api.get("/v1/orders/12ab/return-eligibility").status_code == 422


# ---- returns

def create_return(api, number: str, items: list[dict], headers: dict | None = None):
    return api.post("/v1/returns", headers=headers or new_key(), json={"order_number": number, "items": items})


def test_a_return_comes_with_a_prepaid_label(fresh_api):
    response = create_return(fresh_api, "100241", [item("merino-tee-l-green", reason="wrong_size")])
    assert response.status_code == 201, response.text
    rma = response.json()
    matches_schema(rma, "post", "/v1/returns", 201)
    assert (rma["number"], rma["order_number"], rma["status"]) == ("RMA-100241-1", "100241", "open")
    assert rma["items"] == [{"sku": "merino-tee-l-green", "product_name": "Merino Tee", "quantity": 1,
                             "reason": "wrong_size", "condition": "unused",
                             "unit_price": {"amount": "59.00", "currency": "EUR"}}]
    assert rma["refund"] == {"status": "awaiting_return", "amount": {"amount": "59.00", "currency": "EUR"}}
    label = rma["label"]
    assert label["carrier"] == "Sandbox Parcel" and label["tracking_number"].startswith("SBX")
    assert label["label_url"].startswith(f"{fresh_api.server.base_url}/labels/{rma['id']}.pdf?expires=")
    assert fresh_api.ok("GET", f"/v1/returns/{rma['id']}") == fresh_api.ok("GET", "/v1/returns/RMA-100241-1") == rma
    listed = fresh_api.ok("GET", "/v1/returns", params={"order_number": "100241"})
    assert listed == {"data": [rma], "next_cursor": None}
    matches_schema(listed, "get", "/v1/returns", 200)


def test_the_label_is_a_pdf_naming_the_return(fresh_api):
    rma = create_return(fresh_api, "100235", [item("ridge-backpack-30l-black")]).json()
    label = fresh_api.call("GET", f"/v1/returns/{rma['number']}/label")
    assert label.status_code == 200 and label.headers["Content-Type"] == "application/pdf"
    assert label.content.startswith(b"%PDF-1.4") and label.content.rstrip().endswith(b"%%EOF")
    for text in (rma["number"], rma["label"]["tracking_number"], "Sandbox Outdoor Returns", "Ridge Backpack 30L"):
        assert text.encode() in label.content
    assert fresh_api.call("GET", f"/v1/returns/{rma['id']}/label", key="wrong").status_code == 401


def test_a_return_is_created_once_per_key_and_never_beyond_what_was_bought(fresh_api):
    key, tee = new_key(), item("merino-tee-l-green")
    first, again = create_return(fresh_api, "100241", [tee], key), create_return(fresh_api, "100241", [tee], key)
    assert (first.status_code, again.status_code) == (201, 201) and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(fresh_api.ok("GET", "/v1/returns", params={"order_number": "100241"})["data"]) == 1

    both = create_return(fresh_api, "100241", [item("merino-tee-l-green", quantity=2)])  # 2 bought, 1 returned
    assert both.status_code == 422 and error_of(both)["fields"] == {"items[0]": "quantity_exceeds_returnable"}
    second = create_return(fresh_api, "100241", [tee])  # a new key: the customer returns the other tee too
    assert second.status_code == 201 and second.json()["number"] == "RMA-100241-2"
    third = create_return(fresh_api, "100241", [tee])
    assert third.status_code == 422 and error_of(third) == {
        "type": "return_refused", "message": "Some items cannot be returned.",
        "fields": {"items[0]": "already_returned"}}
    (tee_line,) = [line for line in fresh_api.ok("GET", "/v1/orders/100241/return-eligibility")["lines"]
                   if line["sku"] == "merino-tee-l-green"]
    assert (tee_line["eligible"], tee_line["quantity_returnable"], tee_line["reason_code"]) == (
        False, 0, "already_returned")


def test_a_refused_return_creates_nothing(fresh_api):
    refused = create_return(fresh_api, "100241", [item("merino-tee-l-green"), item("wool-hiking-socks-43-46")])
    assert refused.status_code == 422 and error_of(refused)["fields"] == {"items[1]": "not_returnable"}
    matches_schema(refused.json(), "post", "/v1/returns", 422)
    assert fresh_api.ok("GET", "/v1/returns", params={"order_number": "100241"})["data"] == []
    assert lines_by_sku(fresh_api.ok("GET", "/v1/orders/100241/return-eligibility"))["merino-tee-l-green"][:2] == (
        True, 2)
    accepted = create_return(fresh_api, "100241", [item("merino-tee-l-green", quantity=2)])
    assert accepted.status_code == 201 and accepted.json()["number"] == "RMA-100241-1"


@pytest.mark.parametrize(("number", "items", "refusals"), [
    ("100240", [item("city-sneaker-42-white")], {"items[0]": "outside_return_window"}),
    ("100241", [item("trail-headlamp-400-black")], {"items[0]": "outside_return_window"}),
    ("100241", [item("wool-hiking-socks-43-46", condition="unopened")], {"items[0]": "not_returnable"}),
    ("100232", [item("merino-tee-m-grey")], {"items[0]": "not_delivered_yet"}),
    ("100238", [item("trail-runner-gtx-40-black")], {"items[0]": "not_delivered_yet"}),
    ("100237", [item("aero-wireless-earbuds-black", condition="unopened")], {"items[0]": "order_cancelled"}),
    ("100241", [item("sun-cap-sand")], {"items[0]": "not_in_order"}),
    ("100241", [item("merino-tee-l-green", quantity=3)], {"items[0]": "quantity_exceeds_returnable"}),
    ("100235", [item("ridge-backpack-30l-black", condition="used")], {"items[0]": "condition_not_accepted"}),
    ("100241", [item("trail-headlamp-400-black"), item("merino-tee-l-green"), item("wool-hiking-socks-43-46")],
     {"items[0]": "outside_return_window", "items[2]": "not_returnable"}),
])
def test_each_refusal_names_the_item_and_why(api, number, items, refusals):
    response = create_return(api, number, items)
    assert response.status_code == 422, response.text
    assert error_of(response)["type"] == "return_refused" and error_of(response)["fields"] == refusals
    assert api.ok("GET", "/v1/returns", params={"order_number": number})["data"] == []


def test_faulty_goods_may_come_back_used(fresh_api):
    response = create_return(fresh_api, "100235", [item("ridge-backpack-30l-black", reason="defective",
                                                         condition="used")])
    assert response.status_code == 201 and response.json()["items"][0]["condition"] == "used"


@pytest.mark.parametrize(("body", "status", "fields"), [
    ({"items": [item("merino-tee-l-green")]}, 422, {"order_number": "required, 4 to 10 digits"}),
    ({"order_number": "12ab", "items": [item("merino-tee-l-green")]}, 422, {"order_number": "4 to 10 digits"}),
    ({"order_number": "99999999", "items": [item("merino-tee-l-green")]}, 422, {"order_number": "does not exist"}),
    ({"order_number": "100241", "items": []}, 422, {"items": "a list of 1 to 50 items"}),
    ({"order_number": "100241", "items": "merino-tee-l-green"}, 422, {"items": "a list of 1 to 50 items"}),
    ({"order_number": "100241", "items": ["merino-tee-l-green"]}, 422,
     {"items[0]": "an object with sku, quantity, reason and condition"}),
    ({"order_number": "100241", "items": [{**item("merino-tee-l-green"), "quantity": 0, "reason": "meh",
                                           "condition": "new"}]}, 422,
     {"items[0].quantity": "1..99",
      "items[0].reason": "one of changed_mind, wrong_size, not_as_described, wrong_item, defective, "
                         "arrived_damaged, other",
      "items[0].condition": "one of unopened, unused, used"}),
    ({"order_number": "100241", "items": [item("merino-tee-l-green"), item("merino-tee-l-green")]}, 422,
     {"items[1].sku": "listed twice"}),
    ("[]", 400, None),
])
def test_a_malformed_return_request_is_a_json_error_naming_the_fields(api, body, status, fields):
    options = {"data": body} if isinstance(body, str) else {"json": body}
    response = api.post("/v1/returns", headers=new_key(), **options)
    assert response.status_code == status, response.text
    assert error_of(response).get("fields") == fields
    assert api.ok("GET", "/v1/returns", params={"order_number": "100241"})["data"] == []


def test_unknown_returns_and_lists_without_an_order(api):
    assert error_of(api.get("/v1/returns/RMA-100241-99"))["type"] == "not_found"
    assert api.get("/v1/returns/ret_nothing/label").status_code == 404
    assert api.post("/v1/sandbox/returns/RMA-100241-99/receive").status_code == 404
    assert error_of(api.get("/v1/returns"))["fields"] == {"order_number": "required"}
    assert api.ok("GET", "/v1/returns", params={"order_number": "99999999"}) == {"data": [], "next_cursor": None}


# ---- the returns warehouse: received, refunded, each announced as a signed webhook

@pytest.fixture
def hooks(httpserver):
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_json({"status": "applied"})
    return httpserver


def webhooks_received(httpserver) -> list[tuple[str, dict]]:
    """(event, body) of each webhook so far, its signature and age checked as the bot's receiver checks them."""
    events = []
    for request, _ in httpserver.log:
        headers = {name.lower(): value for name, value in request.headers.items()}
        delivery = verify_sandbox(headers, request.get_data(), [WEBHOOK_SECRET])
        check_fresh(delivery.sent_at, datetime.now(timezone.utc))
        events.append((delivery.topic, json.loads(request.get_data())))
    return events


def wait_for_webhooks(httpserver, count: int, seconds: float = 10.0) -> list[tuple[str, dict]]:
    """The webhooks so far, once at least `count` arrived (they are sent from a background thread)."""
    deadline = time.monotonic() + seconds
    while len(httpserver.log) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return webhooks_received(httpserver)


def test_the_warehouse_receives_then_refunds_a_return_and_says_so_signed(launch_sandbox, hooks):
    api = Api(launch_sandbox(extra_env={"SANDBOX_WEBHOOK_URL": hooks.url_for(HOOK_PATH),
                                        "SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET}))
    rma = create_return(api, "100241", [item("merino-tee-l-green", quantity=2)]).json()

    received = api.ok("POST", f"/v1/sandbox/returns/{rma['number']}/receive")
    matches_schema(received, "post", "/v1/sandbox/returns/{return_ref}/receive", 200)
    assert (received["status"], received["refund"]["status"]) == ("received", "pending")
    assert received["received_at"] and received["refunded_at"] is None
    [(event, body)] = wait_for_webhooks(hooks, 1)
    assert (event, body["event"], body["data"]["return"]) == ("return.received", "return.received", received)
    assert body["data"]["order"] == {"number": "100241", "email": "ben.miller@example.com", "status": "delivered"}

    refunded = api.ok("POST", f"/v1/sandbox/returns/{rma['id']}/refund")
    matches_schema(refunded, "post", "/v1/sandbox/returns/{return_ref}/refund", 200)
    assert (refunded["status"], refunded["refund"]) == (
        "refunded", {"status": "refunded", "amount": {"amount": "118.00", "currency": "EUR"}})
    assert [event for event, _ in wait_for_webhooks(hooks, 2)] == ["return.received", "return.refunded"]

    again = api.post(f"/v1/sandbox/returns/{rma['id']}/receive")
    assert again.status_code == 422 and error_of(again)["fields"] == {"return": "status is refunded"}
    assert api.ok("GET", f"/v1/returns/{rma['id']}") == refunded
    # A refused step announces nothing: the next change's webhook is the third, not the fourth.
    api.ok("POST", "/v1/sandbox/variants/sun-cap-sand/stock", json={"stock": 3})
    assert [event for event, _ in wait_for_webhooks(hooks, 3)] == [
        "return.received", "return.refunded", "product.updated"]


def test_a_return_cannot_be_refunded_before_it_is_received(fresh_api):
    rma = create_return(fresh_api, "100235", [item("ridge-backpack-30l-black")]).json()
    early = fresh_api.post(f"/v1/sandbox/returns/{rma['id']}/refund")
    assert early.status_code == 422 and error_of(early)["fields"] == {"return": "status is open"}


# ---- privacy

def test_the_log_holds_no_email_or_address_of_a_service_request(fresh_api):
    address = {**ADDRESS, "name": "Zora Quill", "line1": "Quittenweg 99", "postal_code": "14467", "city": "Potsdam"}
    fresh_api.ok("POST", "/v1/orders/100232/delivery-change", json={"address": address})
    fresh_api.post("/v1/orders/100232/delivery-change", json={"address": {**address, "postal_code": "99"}})
    fresh_api.ok("POST", "/v1/orders/100232/cancellation", json={"reason": "Moving to Quittenweg 99"})
    rma = create_return(fresh_api, "100241", [item("merino-tee-l-green")]).json()
    fresh_api.call("GET", f"/v1/returns/{rma['id']}/label")
    fresh_api.ok("GET", "/v1/returns", params={"order_number": "100241"})
    log = fresh_api.server.output()
    assert '"route": "/v1/orders/<number:str>/cancellation"' in log  # the requests were logged...
    for secret in ("Zora", "Quill", "Quittenweg", "14467", "Potsdam", "anna.schmidt", "ben.miller", "@example"):
        assert secret not in log  # ...without what they carried


def test_concurrent_returns_never_return_more_than_was_bought(fresh_api):
    tee = item("merino-tee-l-green")  # two were bought
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: create_return(fresh_api, "100241", [tee]), range(8)))
    assert sorted(answer.status_code for answer in answers) == [201] * 2 + [422] * 6, [a.text for a in answers]
    returns = fresh_api.ok("GET", "/v1/returns", params={"order_number": "100241"})["data"]
    assert sorted(rma["number"] for rma in returns) == ["RMA-100241-1", "RMA-100241-2"]


def test_of_concurrent_cancellations_one_wins(fresh_api):
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: fresh_api.post("/v1/orders/100232/cancellation", headers=new_key(),
                                                         json={"reason": "Ordered twice"}), range(8)))
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 7
    assert {error_of(answer)["type"] for answer in answers if answer.status_code == 409} == {"order_cancelled"}
