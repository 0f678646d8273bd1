"""Pickup points: finding the nearest of a country, and sending an order still in the warehouse to one.

Reads and refusals run on the session's sandbox; every change gets a freshly seeded sandbox (`fresh_api`).
"""

from __future__ import annotations

import uuid

import jsonschema
import pytest

from tests.backend.client import error_of
from tests.backend.test_openapi import documented_schema

BERLIN_MITTE = {"name": "DHL Packstation 104 (pickup)", "line1": "Invalidenstrasse 112", "line2": "",
                "postal_code": "10115", "city": "Berlin", "country": "DE"}
ADDRESS = {"name": "Anna Schmidt", "line1": "Kastanienallee 7", "line2": "", "postal_code": "10435",
           "city": "Berlin", "country": "DE"}


def new_key() -> dict:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


def ids(api, **params) -> list[str]:
    return [point["id"] for point in api.ok("GET", "/v1/pickup-points", params=params)["data"]]


# ---- finding points

def test_the_nearest_points_come_first_by_postcode_prefix_then_id(api):
    assert ids(api, country="DE", postal_code="10115", limit=3) == [
        "pp_berlin_mitte", "pp_berlin_kreuzberg", "pp_hamburg_altstadt"]
    assert ids(api, country="DE", postal_code="10969", limit=2) == ["pp_berlin_kreuzberg", "pp_berlin_mitte"]
    assert ids(api, country="DE", postal_code="80333", limit=1) == ["pp_muenchen_altstadt"]
    assert ids(api, country="DE", postal_code="04103", limit=1) == ["pp_leipzig_zentrum"]
    # No prefix in common with any: id order.
    assert ids(api, country="DE", postal_code="99999", limit=3) == [
        "pp_berlin_kreuzberg", "pp_berlin_mitte", "pp_hamburg_altstadt"]


def test_only_points_of_the_country_are_offered(api):
    assert ids(api, country="DE", postal_code="20121", limit=20) == [
        # 20095 shares "20" with Milano's 20121, but Milano is in IT.
        "pp_hamburg_altstadt", "pp_berlin_kreuzberg", "pp_berlin_mitte", "pp_leipzig_zentrum",
        "pp_muenchen_altstadt"]
    assert ids(api, country="it", postal_code="10115") == ["pp_milano_centro"]
    assert ids(api, country="GB", postal_code="sw1a 2aa") == ["pp_london_westminster"]
    assert ids(api, country="US", postal_code="94105") == []


def test_a_point_is_shaped_as_documented(api):
    answer = api.ok("GET", "/v1/pickup-points", params={"country": "DE", "postal_code": "10115", "limit": 1})
    assert answer["data"] == [{
        "id": "pp_berlin_mitte", "name": "DHL Packstation 104", "carrier": {"code": "dhl", "name": "DHL"},
        "address": {"line1": "Invalidenstrasse 112", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "opening_hours": "Mo-Su 00:00-24:00"}]
    jsonschema.validate(answer, documented_schema("get", "/v1/pickup-points", 200))
    assert len(ids(api, country="DE", postal_code="10115")) == 3  # the default limit


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"postal_code": "10115"}, 422, "country"),
    ({"country": "", "postal_code": "10115"}, 422, "country"),
    ({"country": "CH", "postal_code": "8001"}, 422, "country"),
    ({"country": "Germany", "postal_code": "10115"}, 422, "country"),
    ({"country": "DE", "limit": 0}, 400, "limit"),
    ({"country": "DE", "limit": 21}, 400, "limit"),
])
def test_a_search_without_a_country_the_shop_ships_to_is_refused(api, params, status, field):
    response = api.get("/v1/pickup-points", params=params)
    assert response.status_code == status, response.text
    assert list(error_of(response)["fields"]) == [field]


# ---- sending an order to a point

def test_a_paid_order_can_go_to_a_pickup_point(fresh_api):
    assert fresh_api.ok("GET", "/v1/orders/100232")["pickup_point_id"] is None
    changed = fresh_api.ok("POST", "/v1/orders/100232/delivery-change", headers=new_key(),
                           json={"pickup_point_id": "pp_berlin_mitte"})
    assert (changed["shipping_address"], changed["pickup_point_id"], changed["status"]) == (
        BERLIN_MITTE, "pp_berlin_mitte", "paid")
    jsonschema.validate(changed, documented_schema("post", "/v1/orders/{number}/delivery-change", 200))
    assert fresh_api.ok("GET", "/v1/orders/100232") == changed
    # A home address again forgets the point.
    home = fresh_api.ok("POST", "/v1/orders/100232/delivery-change", json={"address": ADDRESS})
    assert (home["shipping_address"], home["pickup_point_id"]) == (ADDRESS, None)


def test_a_point_and_a_delivery_day_together(fresh_api):
    changed = fresh_api.ok("POST", "/v1/orders/100231/delivery-change",
                           json={"pickup_point_id": "pp_berlin_kreuzberg", "delivery_date": None})
    assert changed["pickup_point_id"] == "pp_berlin_kreuzberg"
    assert changed["shipping_address"]["name"] == "DPD Pickup Kiosk Oranienstrasse (pickup)"


def test_a_change_to_a_point_is_applied_once_per_idempotency_key(fresh_api):
    key, body = new_key(), {"pickup_point_id": "pp_berlin_mitte"}
    first = fresh_api.post("/v1/orders/100232/delivery-change", headers=key, json=body)
    again = fresh_api.post("/v1/orders/100232/delivery-change", headers=key, json=body)
    assert (first.status_code, again.status_code) == (200, 200) and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    other = fresh_api.post("/v1/orders/100232/delivery-change", headers=key,
                           json={"pickup_point_id": "pp_berlin_kreuzberg"})
    assert other.status_code == 409 and error_of(other)["type"] == "conflict"
    assert fresh_api.ok("GET", "/v1/orders/100232")["pickup_point_id"] == "pp_berlin_mitte"


@pytest.mark.parametrize(("number", "refusal"), [
    ("100234", "order_already_shipped"), ("100235", "order_already_shipped"), ("100237", "order_cancelled"),
])
def test_an_order_that_left_the_warehouse_or_was_cancelled_cannot_go_to_a_point(api, number, refusal):
    before = api.ok("GET", f"/v1/orders/{number}")
    response = api.post(f"/v1/orders/{number}/delivery-change", headers=new_key(),
                        json={"pickup_point_id": "pp_berlin_mitte"})
    assert response.status_code == 409 and error_of(response)["type"] == refusal, response.text
    assert api.ok("GET", f"/v1/orders/{number}") == before


@pytest.mark.parametrize(("body", "fields"), [
    ({"pickup_point_id": "pp_nowhere"}, {"pickup_point_id": "does not exist"}),
    ({"pickup_point_id": ""}, {"pickup_point_id": "required, a non-empty string"}),
    ({"pickup_point_id": 7}, {"pickup_point_id": "required, a non-empty string"}),
    ({"pickup_point_id": "pp_berlin_mitte", "address": ADDRESS},
     {"address": "not together with pickup_point_id", "pickup_point_id": "not together with address"}),
])
def test_an_unknown_point_or_a_point_with_an_address_is_422_naming_the_fields(api, body, fields):
    response = api.post("/v1/orders/100232/delivery-change", json=body)
    assert response.status_code == 422, response.text
    assert error_of(response)["fields"] == fields
    assert api.ok("GET", "/v1/orders/100232")["pickup_point_id"] is None


def test_an_unknown_point_is_422_even_for_a_shipped_order(api):
    response = api.post("/v1/orders/100234/delivery-change", json={"pickup_point_id": "pp_nowhere"})
    assert response.status_code == 422 and error_of(response)["fields"] == {"pickup_point_id": "does not exist"}
