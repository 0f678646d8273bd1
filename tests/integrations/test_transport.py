"""The transport against a local fake HTTP server: every failure becomes one of our errors."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from pytest_httpserver import HTTPServer

from integrations.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from integrations.transport import HttpTransport, Timeouts, correlation_id


def transport(url: str, **kwargs) -> HttpTransport:
    return HttpTransport(url, {"Authorization": "Bearer k"}, platform="fake", **kwargs)


def test_json_body_is_returned_and_headers_sent(httpserver: HTTPServer):
    httpserver.expect_request("/v1/things", headers={"Authorization": "Bearer k"}).respond_with_json({"ok": 1})
    correlation_id.set("conv-abc")
    assert asyncio.run(transport(httpserver.url_for("")).get("/v1/things")) == {"ok": 1}
    request, _ = httpserver.log[0]
    assert request.headers["X-Correlation-ID"] == "conv-abc"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, {"error": {"type": "not_found", "message": "no such order"}}, NotFound),
        (401, {"error": {"type": "authentication_failed", "message": "bad key"}}, AuthenticationFailed),
        (409, {"error": {"type": "conflict", "message": "key reused"}}, Conflict),
        (422, {"error": {"type": "validation_failed", "message": "bad", "fields": {"email": "invalid"}}}, InvalidRequest),
        (500, {"error": {"type": "internal", "message": "boom"}}, ServiceUnavailable),
        (429, {"message": "slow down"}, ServiceUnavailable),
        (401, {"errors": "[API] Invalid API key or access token"}, AuthenticationFailed),
        (402, {"errors": "Unavailable Shop"}, ServiceUnavailable),
        (423, {"errors": "This shop is unavailable"}, ServiceUnavailable),
    ],
)
def test_error_statuses_map_to_errors(httpserver: HTTPServer, status, body, error):
    httpserver.expect_request("/x").respond_with_json(body, status=status)
    with pytest.raises(error) as raised:
        asyncio.run(transport(httpserver.url_for("")).get("/x"))
    assert str(raised.value) == (body.get("error") or body).get("message", body.get("errors"))


def test_validation_fields_are_kept(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_json(
        {"error": {"message": "bad", "fields": {"email": "invalid"}}}, status=422
    )
    with pytest.raises(InvalidRequest) as raised:
        asyncio.run(transport(httpserver.url_for("")).post("/x", {"email": "nope"}))
    assert raised.value.fields == {"email": "invalid"}


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (409, {"error": {"type": "order_cancelled", "message": "Order 100237 is cancelled."}}, Conflict,
         "order_cancelled"),
        (422, {"error": {"type": "return_refused", "message": "no", "fields": {"items[0]": "not_returnable"}}},
         InvalidRequest, "return_refused"),
        (400, {"status": "error", "message": "Property values were not valid", "correlationId": "c-1",
               "category": "VALIDATION_ERROR"}, InvalidRequest, "VALIDATION_ERROR"),
        (404, {"status": "error", "message": "Object not found.", "category": "OBJECT_NOT_FOUND"}, NotFound,
         "OBJECT_NOT_FOUND"),
        (429, {"status": "error", "message": "You have reached your secondly limit.", "category": "RATE_LIMITS"},
         RateLimited, "RATE_LIMITS"),
        (404, {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}},
         NotFound, "woocommerce_rest_shop_order_invalid_id"),
        (401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources."},
         AuthenticationFailed, "woocommerce_rest_cannot_view"),
        (401, {"errors": "[API] Invalid API key or access token"}, AuthenticationFailed, None),  # Shopify names none
        (500, {"error": {"message": "no type"}}, ServiceUnavailable, None),
        (400, {"code": 42, "message": "a code that is no name"}, InvalidRequest, None),
        (400, ["not", "an", "object"], InvalidRequest, None),
    ],
)
def test_the_platforms_error_code_is_kept(httpserver: HTTPServer, status, body, error, code):
    httpserver.expect_request("/x").respond_with_json(body, status=status)
    with pytest.raises(error) as raised:
        asyncio.run(transport(httpserver.url_for("")).get("/x"))
    assert raised.value.code == code


def test_an_html_error_page_has_no_code(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_data("<h1>Not Found</h1>", status=404, content_type="text/html")
    with pytest.raises(NotFound) as raised:
        asyncio.run(transport(httpserver.url_for("")).get("/x"))
    assert raised.value.code is None


def test_fields_and_code_are_both_kept(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_json(
        {"error": {"type": "validation_failed", "message": "bad", "fields": {"email": "invalid"}}}, status=422
    )
    with pytest.raises(InvalidRequest) as raised:
        asyncio.run(transport(httpserver.url_for("")).post("/x", {"email": "nope"}))
    assert (raised.value.fields, raised.value.code) == ({"email": "invalid"}, "validation_failed")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), ("<html><body>Bad gateway</body></html>", "text/html")],
)
def test_garbage_is_service_unavailable(httpserver: HTTPServer, body, content_type):
    httpserver.expect_request("/x").respond_with_data(body, status=200, content_type=content_type)
    with pytest.raises(ServiceUnavailable):
        asyncio.run(transport(httpserver.url_for("")).get("/x"))


def test_html_error_page_is_service_unavailable(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_data("<h1>502</h1>", status=502, content_type="text/html")
    with pytest.raises(ServiceUnavailable):
        asyncio.run(transport(httpserver.url_for("")).get("/x"))


def test_safe_call_is_retried_once_after_a_server_error(httpserver: HTTPServer):
    httpserver.expect_ordered_request("/x").respond_with_data("oops", status=503)
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    assert asyncio.run(transport(httpserver.url_for("")).get("/x")) == {"ok": True}
    assert len(httpserver.log) == 2


def test_creation_retry_reuses_the_idempotency_key(httpserver: HTTPServer):
    httpserver.expect_ordered_request("/x", method="POST").respond_with_data("oops", status=503)
    httpserver.expect_ordered_request("/x", method="POST").respond_with_json({"id": "t1"}, status=201)
    assert asyncio.run(transport(httpserver.url_for("")).post("/x", {"a": 1})) == {"id": "t1"}
    keys = {request.headers["Idempotency-Key"] for request, _ in httpserver.log}
    assert len(keys) == 1 and keys != {""}


def test_explicit_idempotency_key_is_sent(httpserver: HTTPServer):
    httpserver.expect_request("/x", method="POST", headers={"Idempotency-Key": "turn-1"}).respond_with_json({"id": 1})
    assert asyncio.run(transport(httpserver.url_for("")).post("/x", {}, idempotency_key="turn-1")) == {"id": 1}


def test_unreachable_host_fails_fast():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but never listening: connections are refused
        with pytest.raises(ServiceUnavailable):
            asyncio.run(transport(f"http://127.0.0.1:{port}").get("/x"))


def test_a_server_that_never_answers_is_cut_off_by_the_budget():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(ServiceUnavailable):
            asyncio.run(transport(f"http://127.0.0.1:{listener.getsockname()[1]}", timeouts=Timeouts()).get("/x"))
    finally:
        listener.close()
    # The server would never answer: only the budget ends the call (generous margin for a busy machine).
    assert time.monotonic() - started < Timeouts().budget + 1.0
