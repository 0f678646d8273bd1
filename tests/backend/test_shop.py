"""The e-shop side over HTTP against the seed data: catalog, customers, orders and carts."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.backend.client import day, error_of

SEEDED_PRODUCTS = {
    "trail-runner-gtx": ("Trail Runner GTX", "footwear"), "city-sneaker": ("City Sneaker", "footwear"),
    "summit-rain-jacket": ("Summit Rain Jacket", "jackets"), "alpine-down-jacket": ("Alpine Down Jacket", "jackets"),
    "merino-tee": ("Merino Tee", "tops"), "fleece-hoodie": ("Fleece Hoodie", "tops"),
    "ridge-backpack-30l": ("Ridge Backpack 30L", "bags"), "cooler-bag-20l": ("Cooler Bag 20L", "bags"),
    "insulated-bottle-750": ("Insulated Bottle 750 ml", "drinkware"), "travel-mug": ("Travel Mug", "drinkware"),
    "aero-wireless-earbuds": ("Aero Wireless Earbuds", "electronics"),
    "trail-headlamp-400": ("Trail Headlamp 400", "electronics"),
    "wool-hiking-socks": ("Wool Hiking Socks", "accessories"), "yoga-mat-pro": ("Yoga Mat Pro", "accessories"),
    "sun-cap": ("Sun Cap", "accessories"),
}


# ---- catalog

def test_paging_over_products_returns_every_product_exactly_once(api):
    for limit in (1, 4, 7, 100):
        ids = [p["id"] for p in api.all_pages("/v1/products", limit=limit)]
        assert len(ids) == len(set(ids)) and set(ids) == set(SEEDED_PRODUCTS), limit


def test_default_page_is_twenty(api):
    page = api.ok("GET", "/v1/products")
    assert len(page["data"]) == 15 and page["next_cursor"] is None


def test_every_seeded_product_with_its_name_and_category(api):
    served = {p["id"]: (p["name"], p["category"]) for p in api.all_pages("/v1/products", limit=100)}
    assert served == SEEDED_PRODUCTS


def test_a_product_with_variants_prices_and_stock(api):
    shoe = api.ok("GET", "/v1/products/trail-runner-gtx")
    assert (shoe["name"], shoe["brand"], shoe["url"]) == (
        "Trail Runner GTX", "Northpeak", "https://shop.example/products/trail-runner-gtx")
    assert {v["options"]["size"] for v in shoe["variants"]} == {str(size) for size in range(38, 47)}
    assert {v["options"]["color"] for v in shoe["variants"]} == {"black", "blue"}
    variant = next(v for v in shoe["variants"] if v["sku"] == "trail-runner-gtx-42-black")
    assert variant == {"sku": "trail-runner-gtx-42-black", "title": "42 / black",
                       "options": {"size": "42", "color": "black"},
                       "price": {"amount": "139.00", "currency": "EUR"}, "stock": 0, "available": False}
    assert all(v["available"] == (v["stock"] > 0) for v in shoe["variants"])


def test_rain_jacket_comes_in_s_to_xl_red_and_navy(api):
    jacket = api.ok("GET", "/v1/products/summit-rain-jacket")
    assert {(v["options"]["size"], v["options"]["color"]) for v in jacket["variants"]} == {
        (size, color) for size in ("S", "M", "L", "XL") for color in ("red", "navy")}


def test_search_matches_name_description_and_tags_case_insensitively(api):
    def found(**params):
        return {p["id"] for p in api.all_pages("/v1/products", limit=100, **params)}

    assert found(q="COLD DRINKS") == {"cooler-bag-20l", "insulated-bottle-750"}  # tags
    assert found(q="Headlamp") == {"trail-headlamp-400"}  # name
    assert found(q="700-fill") == {"alpine-down-jacket"}  # description
    assert found(q="waterproof", category="jackets") == {"summit-rain-jacket"}
    assert found(category="FOOTWEAR") == {"trail-runner-gtx", "city-sneaker"}
    assert found(q="%") == found(q="_") == set()  # SQL wildcards are plain text


def test_unknown_product_is_404(api):
    response = api.get("/v1/products/no-such-thing")
    assert response.status_code == 404 and error_of(response)["type"] == "not_found"


# ---- customers

def test_customer_found_by_email_in_any_case(api):
    (customer,) = api.ok("GET", "/v1/customers", params={"email": "  CARLA.Rossi@example.com "})["data"]
    assert (customer["id"], customer["first_name"], customer["last_name"], customer["loyalty"]["tier"]) == (
        "cust_carla", "Carla", "Rossi", "bronze")
    assert api.ok("GET", "/v1/customers", params={"email": "stranger@example.com"}) == {"data": [], "next_cursor": None}


@pytest.mark.parametrize(("customer_id", "email", "name", "tier"), [
    ("cust_anna", "anna.schmidt@example.com", ("Anna", "Schmidt"), "gold"),
    ("cust_ben", "ben.miller@example.com", ("Ben", "Miller"), "silver"),
    ("cust_carla", "carla.rossi@example.com", ("Carla", "Rossi"), "bronze"),
    ("cust_david", "david.chen@example.com", ("David", "Chen"), "bronze"),
])
def test_seeded_customers(api, customer_id, email, name, tier):
    customer = api.ok("GET", f"/v1/customers/{customer_id}")
    assert (customer["email"], (customer["first_name"], customer["last_name"]), customer["loyalty"]["tier"]) == (
        email, name, tier)


def test_unknown_customer_is_404(api):
    assert api.get("/v1/customers/cust_nobody").status_code == 404


# ---- orders

def test_pending_and_paid_orders(api):
    pending, paid = api.ok("GET", "/v1/orders/100231"), api.ok("GET", "/v1/orders/100232")
    assert (pending["status"], pending["customer_id"], pending["shipments"]) == ("pending", "cust_anna", [])
    assert (paid["status"], paid["customer_id"], paid["shipments"]) == ("paid", "cust_anna", [])
    assert paid["lines"] == [
        {"sku": "merino-tee-m-grey", "product_name": "Merino Tee", "variant_title": "M / grey", "quantity": 2,
         "unit_price": {"amount": "59.00", "currency": "EUR"}},
        {"sku": "wool-hiking-socks-39-42", "product_name": "Wool Hiking Socks", "variant_title": "39-42", "quantity": 1,
         "unit_price": {"amount": "22.00", "currency": "EUR"}},
    ]
    assert paid["total"] == {"amount": "140.00", "currency": "EUR"}


def test_shipped_order_with_dhl_tracking(api, seeded_on):
    order = api.ok("GET", "/v1/orders/100234")
    assert (order["status"], order["email"], order["customer_id"]) == ("shipped", "ben.miller@example.com", "cust_ben")
    assert order["total"] == {"amount": "206.00", "currency": "EUR"}
    assert order["shipping_address"] == {"name": "Ben Miller", "line1": "221 Baker Street", "line2": "Flat 3",
                                         "postal_code": "NW1 6XE", "city": "London", "country": "GB"}
    (shipment,) = order["shipments"]
    assert shipment["carrier"] == {"code": "dhl", "name": "DHL"} and shipment["status"] == "in_transit"
    assert shipment["tracking_number"] == "JJD0099123456"
    assert shipment["tracking_url"] == "https://tracking.sandbox-carrier.example/dhl/JJD0099123456"
    assert shipment["estimated_delivery"] == day(seeded_on, 2) and shipment["delivered_at"] is None
    events = shipment["events"]
    assert len(events) >= 3 and events[0]["status"] == "label_created"
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)  # oldest first


def test_delivered_order(api, seeded_on):
    (shipment,) = api.ok("GET", "/v1/orders/100235")["shipments"]
    assert shipment["status"] == "delivered" and shipment["delivered_at"].startswith(day(seeded_on, -3))
    assert shipment["events"][-1]["status"] == "delivered"


def test_delayed_order_explains_the_delay(api, seeded_on):
    order = api.ok("GET", "/v1/orders/100236")
    assert (order["status"], order["customer_id"]) == ("delayed", "cust_carla")
    (shipment,) = order["shipments"]
    assert (shipment["carrier"]["name"], shipment["status"]) == ("UPS", "delayed")
    assert shipment["delay_reason"] == "Severe weather at the regional hub"
    assert shipment["estimated_delivery"] == day(seeded_on, 3)
    assert "delayed" in [e["status"] for e in shipment["events"]]


def test_cancelled_order_is_refunded_in_full(api):
    order = api.ok("GET", "/v1/orders/100237")
    assert (order["status"], order["customer_id"]) == ("cancelled", "cust_ben")
    assert order["cancel_reason"] == "Cancelled at the customer's request" and order["cancelled_at"]
    assert order["refund"] == {"status": "refunded", "amount": order["total"]}
    assert order["total"] == {"amount": "99.00", "currency": "EUR"}


def test_split_delivery_has_two_shipments(api):
    first, second = api.ok("GET", "/v1/orders/100238")["shipments"]
    assert (first["carrier"]["name"], first["status"]) == ("DHL", "delivered")
    assert (second["carrier"]["name"], second["status"]) == ("DPD", "in_transit")
    assert first["tracking_number"] != second["tracking_number"]


@pytest.mark.parametrize("number", ["100231", "100232", "100234", "100235", "100236", "100237", "100238", "100239"])
def test_every_order_has_lines_an_address_and_a_consistent_total(api, number):
    order = api.ok("GET", f"/v1/orders/{number}")
    assert order["lines"] and order["shipping_address"]["line1"] and order["shipping_address"]["country"]
    line_sum = sum(Decimal(line["unit_price"]["amount"]) * line["quantity"] for line in order["lines"])
    assert Decimal(order["total"]["amount"]) == line_sum and order["total"]["currency"] == "EUR"
    assert order["placed_at"].endswith("Z")


def test_orders_of_a_customer_newest_first_by_id_or_email(api):
    by_id = api.ok("GET", "/v1/orders", params={"customer_id": "cust_anna"})["data"]
    by_email = api.ok("GET", "/v1/orders", params={"email": "Anna.Schmidt@example.com"})["data"]
    assert [o["number"] for o in by_id] == [o["number"] for o in by_email] == ["100231", "100232", "100238", "100235"]
    assert [o["placed_at"] for o in by_id] == sorted((o["placed_at"] for o in by_id), reverse=True)
    both = api.ok("GET", "/v1/orders", params={"customer_id": "cust_anna", "email": "ben.miller@example.com"})
    assert both["data"] == []
    assert [o["number"] for o in api.all_pages("/v1/orders", limit=1, customer_id="cust_anna")] == [
        o["number"] for o in by_id]


def test_customer_without_orders_gets_an_empty_list(api):
    assert api.ok("GET", "/v1/orders", params={"customer_id": "cust_david"}) == {"data": [], "next_cursor": None}


@pytest.mark.parametrize("number", ["12ab", "123", "12345678901", "100234x"])
def test_malformed_order_number_is_422(api, number):
    response = api.get(f"/v1/orders/{number}")
    assert response.status_code == 422 and error_of(response)["fields"] == {"number": "4 to 10 digits"}


def test_unknown_order_is_404(api):
    response = api.get("/v1/orders/99999999")
    assert response.status_code == 404 and error_of(response)["type"] == "not_found"


# ---- carts

def test_seeded_carts(api, seeded_on):
    open_cart = api.ok("GET", "/v1/carts/cart_anna_open")
    assert (open_cart["customer_id"], open_cart["status"]) == ("cust_anna", "open")
    abandoned = api.ok("GET", "/v1/carts/cart_ben_abandoned")
    assert (abandoned["customer_id"], abandoned["status"]) == ("cust_ben", "abandoned")
    assert abandoned["updated_at"].startswith(day(seeded_on, -2))
    assert abandoned["subtotal"] == {"amount": "183.00", "currency": "EUR"}  # 139.00 + 2 x 22.00
    assert api.ok("GET", "/v1/carts/cart_carla_converted")["status"] == "converted"


def test_cart_creation_and_stock_checked_items(api):
    cart = api.ok("POST", "/v1/carts", 201, json={"customer_id": "cust_david"})
    assert (cart["customer_id"], cart["status"], cart["items"]) == ("cust_david", "open", [])
    filled = api.ok("POST", f"/v1/carts/{cart['id']}/items", json={"sku": "sun-cap-sand", "quantity": 2})
    again = api.ok("POST", f"/v1/carts/{cart['id']}/items", json={"sku": "sun-cap-sand", "quantity": 1})
    assert filled["items"] == [{"sku": "sun-cap-sand", "product_name": "Sun Cap", "quantity": 2,
                                "unit_price": {"amount": "27.00", "currency": "EUR"}}]
    assert again["items"][0]["quantity"] == 3 and again["subtotal"] == {"amount": "81.00", "currency": "EUR"}
    assert api.ok("GET", f"/v1/carts/{cart['id']}") == again


def test_anonymous_cart(api):
    assert api.ok("POST", "/v1/carts", 201, json={})["customer_id"] is None


def test_cart_creation_is_idempotent(api):
    key = str(uuid.uuid4())
    first = api.post("/v1/carts", json={"customer_id": "cust_ben"}, headers={"Idempotency-Key": key})
    again = api.post("/v1/carts", json={"customer_id": "cust_ben"}, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201) and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand", "quantity": 0}, "quantity"),
     ("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand", "quantity": 100}, "quantity"),
     ("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand", "quantity": "2"}, "quantity"),
     ("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand", "quantity": 1.5}, "quantity"),
     ("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand", "quantity": True}, "quantity"),
     ("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand"}, "quantity"),
     ("/v1/carts/cart_anna_open/items", {"quantity": 1}, "sku"),
     ("/v1/carts/cart_anna_open/items", {"sku": ["sun-cap-sand"], "quantity": 1}, "sku"),
     ("/v1/carts/cart_anna_open/items", {"sku": "no-such-sku", "quantity": 1}, "sku"),
     ("/v1/carts/cart_anna_open/items", {"sku": "travel-mug-white", "quantity": 1}, "quantity"),  # stock 0
     ("/v1/carts/cart_anna_open/items", {"sku": "cooler-bag-20l-grey", "quantity": 6}, "quantity"),  # stock 5
     ("/v1/carts/cart_carla_converted/items", {"sku": "sun-cap-sand", "quantity": 1}, "cart"),
     ("/v1/carts", {"customer_id": "cust_nobody"}, "customer_id"),
     ("/v1/carts", {"customer_id": 7}, "customer_id")],
)
def test_rule_breaking_cart_input_is_422_with_the_field(api, path, body, field):
    response = api.post(path, json=body)
    assert response.status_code == 422, response.text
    assert error_of(response)["type"] == "validation_failed" and field in error_of(response)["fields"]


def test_items_for_an_unknown_cart_are_404(api):
    assert api.post("/v1/carts/cart_nope/items", json={"sku": "sun-cap-sand", "quantity": 1}).status_code == 404
    assert api.get("/v1/carts/cart_nope").status_code == 404
