"""What every route shares: health, auth, the error shape, paging rules, correlation ids and the JSON log."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import create_engine, text

from tests.backend.client import Api, error_of


def test_health_needs_no_key(api):
    response = api.get("/health", key=None)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
def test_missing_or_wrong_key_is_401(api, key):
    response = api.get("/v1/orders/100234", key=key)
    assert response.status_code == 401 and error_of(response)["type"] == "authentication_failed"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_key_that_only_starts_right_is_401(api, sandbox_server):
    assert api.get("/v1/orders/100234", key=sandbox_server.api_key + "x").status_code == 401
    assert api.get("/v1/orders/100234", key=sandbox_server.api_key[:-1]).status_code == 401


def test_the_right_key_is_let_in(api):
    response = api.get("/v1/orders/100234")
    assert response.status_code == 200 and "WWW-Authenticate" not in response.headers


def test_unknown_route_is_404_json(api):
    for path in ("/v1/no/such/route", "/nothing-here"):
        response = api.get(path)
        assert response.status_code == 404 and error_of(response) == {"type": "not_found", "message": "No such route."}


def test_wrong_method_is_405_json_with_allow(api):
    response = api.call("DELETE", "/v1/orders/100234")
    assert response.status_code == 405 and error_of(response)["type"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"
    assert api.call("PUT", "/v1/crm/tickets", json={}).status_code == 405


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "42", "null", "", "\xff\xfe", "[" * 100_000])
def test_body_that_is_not_a_json_object_is_400(api, body):
    response = api.post("/v1/crm/tickets", data=body.encode("latin-1"), headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_of(response)["type"] == "invalid_request"


def test_body_over_a_megabyte_is_refused_with_json(api):
    response = api.post("/v1/crm/leads", json={"email": "big@example.com", "source": "x", "notes": "n" * 1_100_000})
    assert response.status_code == 413 and error_of(response)["type"] == "invalid_request"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "0"}, "limit"), ({"limit": "abc"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "-1"}, "limit"),
     ({"cursor": "%%%"}, "cursor"), ({"cursor": base64.b64encode(b"nope").decode()}, "cursor"),
     ({"cursor": base64.b64encode(b"o:-5").decode()}, "cursor"),
     ({"cursor": base64.b64encode(b"o:99999999999999999999").decode()}, "cursor")],
)
def test_bad_paging_is_400_naming_the_parameter(api, params, field):
    response = api.get("/v1/products", params=params)
    assert response.status_code == 400 and field in error_of(response)["fields"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [("/v1/orders", {}, "customer_id"),
     ("/v1/orders", {"email": "not-an-email"}, "email"),
     ("/v1/customers", {}, "email"),
     ("/v1/customers", {"email": "nobody"}, "email"),
     ("/v1/sandbox/mailbox", {}, "to"),
     ("/v1/crm/contacts", {"email": "x@"}, "email"),
     ("/v1/products", {"q": "boot\x00s"}, "q")],
)
def test_bad_query_parameters_are_400(api, path, params, field):
    response = api.get(path, params=params)
    assert response.status_code == 400 and field in error_of(response)["fields"]


def test_correlation_id_is_echoed_and_logged(api, sandbox_server):
    response = api.get("/v1/orders/100235", headers={"X-Correlation-ID": "conv-test-123"})
    assert response.headers["X-Correlation-ID"] == "conv-test-123"
    assert any(line.get("correlation_id") == "conv-test-123" and line.get("route") == "/v1/orders/<number:str>"
               for line in log_lines(sandbox_server))


def test_correlation_id_is_made_up_when_missing_or_unusable(api):
    made_up = api.get("/health").headers["X-Correlation-ID"]
    assert len(made_up) == 36 and made_up != api.get("/health").headers["X-Correlation-ID"]
    replaced = api.get("/health", headers={"X-Correlation-ID": "has spaces and\ttabs"}).headers["X-Correlation-ID"]
    assert replaced != "has spaces and\ttabs" and len(replaced) == 36


def test_errors_carry_the_correlation_id_too(api):
    response = api.get("/v1/orders/12ab", headers={"X-Correlation-ID": "err-1"})
    assert response.status_code == 422 and response.headers["X-Correlation-ID"] == "err-1"
    assert api.get("/v1/x", key=None, headers={"X-Correlation-ID": "err-2"}).headers["X-Correlation-ID"] == "err-2"


def test_every_log_line_is_json_with_route_method_status_and_duration(api, sandbox_server):
    api.get("/v1/products", params={"q": "jacket"})
    lines = log_lines(sandbox_server)
    requests_logged = [line for line in lines if line["message"] == "request"]
    assert {"method", "route", "status", "duration_ms", "correlation_id"} <= requests_logged[-1].keys()
    assert any(line["route"] == "/v1/products" and line["status"] == 200 for line in requests_logged)


def test_logs_carry_no_emails_codes_keys_or_query_strings(api, sandbox_server):
    api.get("/v1/orders", params={"email": "ben.miller@example.com"})
    api.get("/v1/customers", params={"email": "carla.rossi@example.com"})
    api.post("/v1/login-codes", json={"email": "david.chen@example.com"})
    code = api.latest_code("david.chen@example.com")
    api.post("/v1/login-codes/verify", json={"email": "david.chen@example.com", "code": code})
    api.post("/v1/crm/contacts", json={"email": "privacy-check@example.com", "phone": "+49 30 5550000"})
    api.get("/v1/orders/100234", key="a-wrong-key-for-the-log-test")
    log = sandbox_server.output()
    for secret in ("@example.com", sandbox_server.api_key, "a-wrong-key-for-the-log-test", "5550000"):
        assert secret not in log, f"{secret!r} was logged"
    assert not re.search(rf"(?<!\d){code}(?!\d)", log), "the login code was logged"
    assert all("?" not in line["route"] for line in log_lines(sandbox_server) if "route" in line)


def log_lines(server) -> list[dict]:
    """Every line the server wrote, each of which must be a JSON object."""
    return [json.loads(line) for line in server.output().splitlines() if line.strip()]


def test_an_unexpected_fault_is_a_500_in_the_error_shape_and_logged_without_details(launch_sandbox, tmp_path):
    server = launch_sandbox(f"sqlite:///{tmp_path / 'broken.db'}")
    engine = create_engine(server.database_url, future=True)
    with engine.begin() as connection:
        connection.execute(text("drop table order_lines"))
    engine.dispose()
    response = Api(server).get("/v1/orders", params={"email": "anna.schmidt@example.com"},
                               headers={"X-Correlation-ID": "broken-1"})
    assert response.status_code == 500
    assert response.json() == {"error": {"type": "internal", "message": "internal error"}}
    (logged,) = [line for line in log_lines(server) if line["message"] == "unexpected error"]
    assert logged["error"] == "OperationalError" and logged["correlation_id"] == "broken-1"
    assert "@example.com" not in server.output() and "order_lines" not in server.output()
