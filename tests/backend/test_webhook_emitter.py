"""The sandbox playing the shop: each change is committed, answered, then announced as a signed webhook.

Webhooks go to a local HTTP server (pytest_httpserver); their signatures are checked with the
receiver's own verification (webhooks/signatures.py), so sender and receiver must agree.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import jsonschema
import pytest
import requests
from werkzeug import Response

from local_stack import free_port
from sandbox_backend.webhooks import WebhookEmitter
from tests.backend.client import error_of
from tests.backend.test_openapi import documented_schema
from webhooks.signatures import check_fresh, verify_sandbox

SECRET = "emitter-test-secret"
HOOK_PATH = "/hooks/sandbox"


@pytest.fixture
def hooks(httpserver):
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_json({"status": "applied"})
    return httpserver


def emitting_sandbox(launch_sandbox, url: str):
    return launch_sandbox(extra_env={"SANDBOX_WEBHOOK_URL": url, "SANDBOX_WEBHOOK_SECRET": SECRET})


def call(shop, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, shop.base_url + path, headers={"Authorization": f"Bearer {shop.api_key}"},
                            timeout=10, **kwargs)


def received(httpserver, count: int, seconds: float = 10.0) -> list:
    """The first `count` requests the hook server got, waiting for them if need be."""
    deadline = time.monotonic() + seconds
    while len(httpserver.log) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(httpserver.log) >= count, f"{len(httpserver.log)} webhooks arrived, expected {count}"
    return [request for request, _ in httpserver.log[:count]]


def verified(request) -> tuple[str, str, dict]:
    """(event, delivery id, body) of a webhook whose signature and age check out."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    delivery = verify_sandbox(headers, request.get_data(), [SECRET])
    check_fresh(delivery.sent_at, datetime.now(timezone.utc))
    return delivery.topic, delivery.delivery_id, json.loads(request.get_data())


# (method, documented path, real path, body, the event, what its data must hold)
CHANGES = [
    ("post", "/v1/sandbox/orders/{number}/ship", "/v1/sandbox/orders/100232/ship",
     {"carrier": "ups", "tracking_number": "1Z999AA10100232", "estimated_delivery": "2030-05-03"},
     "order.shipped", {"order": {"number": "100232", "email": "anna.schmidt@example.com", "status": "shipped"}}),
    ("post", "/v1/sandbox/orders/{number}/delay", "/v1/sandbox/orders/100232/delay",
     {"reason": "Missed the connecting truck", "estimated_delivery": "2030-05-06"},
     "order.delayed", {"order": {"number": "100232", "email": "anna.schmidt@example.com", "status": "delayed"}}),
    ("post", "/v1/sandbox/orders/{number}/pay", "/v1/sandbox/orders/100231/pay", None,
     "payment.succeeded", {"order": {"number": "100231", "email": "anna.schmidt@example.com", "status": "paid",
                                     "total": {"amount": "64.00", "currency": "EUR"}}}),
    ("post", "/v1/sandbox/carts/{cart_id}/abandon", "/v1/sandbox/carts/cart_anna_open/abandon", None,
     "cart.abandoned", {"email": "anna.schmidt@example.com"}),
    ("post", "/v1/sandbox/variants/{sku}/stock", "/v1/sandbox/variants/travel-mug-white/stock", {"stock": 12},
     "product.updated", {}),
]


def test_each_change_is_answered_as_documented_and_announced_once_signed(launch_sandbox, hooks):
    shop = emitting_sandbox(launch_sandbox, hooks.url_for(HOOK_PATH))
    for index, (method, documented, path, body, event, data) in enumerate(CHANGES, start=1):
        answer = call(shop, method.upper(), path, **({"json": body} if body is not None else {}))
        assert answer.status_code == 200, answer.text
        jsonschema.validate(answer.json(), documented_schema(method, documented, 200))
        topic, _, payload = verified(received(hooks, index)[-1])
        assert (topic, payload["event"]) == (event, event)
        assert payload["data"].items() >= data.items(), payload["data"]
    delivery_ids = {verified(request)[1] for request in received(hooks, len(CHANGES))}
    assert len(delivery_ids) == len(CHANGES)


def test_the_changes_are_in_the_database(launch_sandbox, hooks):
    shop = emitting_sandbox(launch_sandbox, hooks.url_for(HOOK_PATH))
    for _, _, path, body, _, _ in CHANGES:
        call(shop, "POST", path, **({"json": body} if body is not None else {})).raise_for_status()
    shipped = call(shop, "GET", "/v1/orders/100232").json()
    assert shipped["status"] == "delayed"
    parcel = shipped["shipments"][-1]
    assert (parcel["id"], parcel["carrier"], parcel["tracking_url"]) == (
        "shp_100232_1", {"code": "ups", "name": "UPS"}, "https://tracking.sandbox-carrier.example/ups/1Z999AA10100232")
    assert (parcel["status"], parcel["delay_reason"], parcel["estimated_delivery"]) == (
        "delayed", "Missed the connecting truck", "2030-05-06")
    assert [e["status"] for e in parcel["events"]] == ["label_created", "delayed"]
    assert call(shop, "GET", "/v1/orders/100231").json()["status"] == "paid"
    assert call(shop, "GET", "/v1/carts/cart_anna_open").json()["status"] == "abandoned"
    mug = call(shop, "GET", "/v1/products/travel-mug").json()["variants"]
    assert [(v["sku"], v["stock"], v["available"]) for v in mug if v["sku"] == "travel-mug-white"] == [
        ("travel-mug-white", 12, True)]


# (path, body, status, the field the error names)
REFUSALS = [
    ("/v1/sandbox/orders/999999/ship", {"carrier": "dhl", "tracking_number": "X"}, 404, None),
    ("/v1/sandbox/orders/12ab/ship", {"carrier": "dhl", "tracking_number": "X"}, 422, "number"),
    ("/v1/sandbox/orders/100237/ship", {"carrier": "dhl", "tracking_number": "X"}, 422, "number"),
    ("/v1/sandbox/orders/100231/ship", {"carrier": "dhl", "tracking_number": "X"}, 422, "number"),
    ("/v1/sandbox/orders/100232/ship", {"carrier": "pigeon", "tracking_number": "X"}, 422, "carrier"),
    ("/v1/sandbox/orders/100232/ship", {"carrier": "dhl"}, 422, "tracking_number"),
    ("/v1/sandbox/orders/100232/ship", {"carrier": "dhl", "tracking_number": "X", "estimated_delivery": "soon"},
     422, "estimated_delivery"),
    ("/v1/sandbox/orders/100232/ship", "[]", 400, None),
    ("/v1/sandbox/orders/100235/delay", {"reason": "late", "estimated_delivery": "2030-01-01"}, 422, "number"),
    ("/v1/sandbox/orders/100234/delay", {"reason": "late", "estimated_delivery": "2030-02-30"},
     422, "estimated_delivery"),
    ("/v1/sandbox/orders/100234/delay", {"estimated_delivery": "2030-01-01"}, 422, "reason"),
    ("/v1/sandbox/orders/100232/pay", None, 422, "number"),
    ("/v1/sandbox/carts/cart_ben_abandoned/abandon", None, 422, "cart"),
    ("/v1/sandbox/carts/no-such-cart/abandon", None, 404, None),
    ("/v1/sandbox/variants/travel-mug-white/stock", {"stock": -1}, 422, "stock"),
]


def test_a_refused_change_sends_nothing(launch_sandbox, hooks):
    shop = emitting_sandbox(launch_sandbox, hooks.url_for(HOOK_PATH))
    for path, body, status, field in REFUSALS:
        options = {"data": body} if isinstance(body, str) else {"json": body} if body is not None else {}
        refused = call(shop, "POST", path, **options)
        assert refused.status_code == status, f"{path} {body}: {refused.text}"
        assert field is None or field in error_of(refused)["fields"], f"{path} {body}: {refused.text}"
    call(shop, "POST", "/v1/sandbox/variants/sun-cap-sand/stock", json={"stock": 3}).raise_for_status()
    time.sleep(0.3)  # room for a webhook of the refused change, had one been queued first
    assert [verified(request)[0] for request in received(hooks, 1)] == ["product.updated"]
    assert len(hooks.log) == 1


def test_the_shop_needs_its_key(launch_sandbox, hooks):
    shop = emitting_sandbox(launch_sandbox, hooks.url_for(HOOK_PATH))
    answer = requests.post(f"{shop.base_url}/v1/sandbox/orders/100232/pay", timeout=5)
    assert answer.status_code == 401 and hooks.log == []


def test_a_failed_delivery_is_retried_with_the_same_id_and_a_fresh_signature(launch_sandbox, httpserver):
    httpserver.expect_oneshot_request(HOOK_PATH, method="POST").respond_with_data("busy", status=503)
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_json({"status": "applied"})
    shop = emitting_sandbox(launch_sandbox, httpserver.url_for(HOOK_PATH))
    call(shop, "POST", "/v1/sandbox/orders/100231/pay").raise_for_status()
    first, second = received(httpserver, 2)
    assert verified(first)[:2] == verified(second)[:2]
    assert [response.status_code for _, response in httpserver.log] == [503, 200]
    time.sleep(1.5)  # the pause a third attempt would have come after
    assert len(httpserver.log) == 2
    lines = [json.loads(line) for line in shop.output().splitlines() if '"sandbox_backend.webhooks"' in line]
    assert [(line["message"], line.get("status")) for line in lines] == [
        ("webhook attempt failed", 503), ("webhook delivered", 200)]


def test_a_slow_receiver_never_delays_the_answer(launch_sandbox, httpserver):
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_handler(
        lambda request: time.sleep(1.5) or Response("late", status=200))
    shop = emitting_sandbox(launch_sandbox, httpserver.url_for(HOOK_PATH))
    started = time.monotonic()
    call(shop, "POST", "/v1/sandbox/orders/100231/pay").raise_for_status()
    assert time.monotonic() - started < 1.0
    assert len(received(httpserver, 1)) == 1


def test_an_unreachable_receiver_is_tried_three_times_then_given_up(launch_sandbox):
    shop = emitting_sandbox(launch_sandbox, f"http://127.0.0.1:{free_port()}/nobody-listens")
    started = time.monotonic()
    call(shop, "POST", "/v1/sandbox/orders/100231/pay").raise_for_status()
    assert time.monotonic() - started < 1.0

    def emitter_lines():
        return [json.loads(line) for line in shop.output().splitlines() if '"sandbox_backend.webhooks"' in line]

    deadline = time.monotonic() + 10
    while not any(line["message"] == "webhook given up" for line in emitter_lines()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(line["message"], line.get("attempt"), line.get("error")) for line in emitter_lines()] == [
        ("webhook attempt failed", 1, "ConnectionError"), ("webhook attempt failed", 2, "ConnectionError"),
        ("webhook attempt failed", 3, "ConnectionError"), ("webhook given up", None, None)]


def test_webhooks_are_sent_only_when_both_the_url_and_the_secret_are_set():
    assert WebhookEmitter.from_env({}) is None
    assert WebhookEmitter.from_env({"SANDBOX_WEBHOOK_URL": "http://127.0.0.1:1/h"}) is None
    assert WebhookEmitter.from_env({"SANDBOX_WEBHOOK_SECRET": "s"}) is None
    assert WebhookEmitter.from_env({"SANDBOX_WEBHOOK_URL": "http://127.0.0.1:1/h", "SANDBOX_WEBHOOK_SECRET": "s"})
