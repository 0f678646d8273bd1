"""openapi.yaml against the real thing: the same routes, and answers shaped exactly as documented."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml
from sqlalchemy import create_engine

from sandbox_backend.app import create_app

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "sandbox_backend" / "openapi.yaml").read_text())
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
DATE = r"^\d{4}-\d{2}-\d{2}$"


def served_operations() -> set[tuple[str, str]]:
    app = create_app(create_engine("sqlite://", future=True), "key", name=f"openapi_check_{uuid.uuid4().hex[:8]}")
    served = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:[^>]+)?>", r"{\1}", route.path)
        served |= {(method.lower(), path) for method in route.methods if method not in ("HEAD", "OPTIONS")}
    return served


def documented_operations() -> set[tuple[str, str]]:
    return {(method, path) for path, item in SPEC["paths"].items() for method in item if method in HTTP_METHODS}


def test_every_served_route_is_documented_and_every_documented_route_is_served():
    served, documented = served_operations(), documented_operations()
    assert ("get", "/v1/orders/{number}") in served and len(served) >= 20  # the comparison has something to compare
    assert served - documented == set(), "served but not in openapi.yaml"
    assert documented - served == set(), "in openapi.yaml but not served"


def test_every_reference_resolves():
    def refs(node):
        if isinstance(node, dict):
            yield from ([node["$ref"]] if "$ref" in node else [])
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(SPEC):
        resolve(ref)


def resolve(ref: str) -> dict:
    node = SPEC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def strict(schema: dict) -> dict:
    """The OpenAPI schema as a JSON Schema that also refuses undocumented fields and checks time formats."""
    if "$ref" in schema:
        return strict(resolve(schema["$ref"]))
    out = {key: value for key, value in schema.items()
           if key in ("type", "enum", "required", "pattern", "minimum", "maximum", "minLength", "maxLength")}
    if schema.get("format") == "date-time":
        out["pattern"] = TIMESTAMP
    if schema.get("format") == "date":
        out["pattern"] = DATE
    if "properties" in schema:
        out["properties"] = {name: strict(value) for name, value in schema["properties"].items()}
        out["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = strict(schema["additionalProperties"])
    if "items" in schema:
        out["items"] = strict(schema["items"])
    if "oneOf" in schema:
        out["oneOf"] = [strict(option) for option in schema["oneOf"]]
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def documented_schema(method: str, path: str, status: int) -> dict:
    response = SPEC["paths"][path][method]["responses"][str(status)]
    response = resolve(response["$ref"]) if "$ref" in response else response
    return strict(response["content"]["application/json"]["schema"])


# (method, documented path, real path, request options, expected status): at least one per operation.
EXAMPLES = [
    ("get", "/health", "/health", {}, 200),
    ("get", "/v1/products", "/v1/products", {"params": {"limit": 3}}, 200),
    ("get", "/v1/products/{product_id}", "/v1/products/trail-runner-gtx", {}, 200),
    ("get", "/v1/customers", "/v1/customers", {"params": {"email": "anna.schmidt@example.com"}}, 200),
    ("get", "/v1/customers/{customer_id}", "/v1/customers/cust_ben", {}, 200),
    ("get", "/v1/orders", "/v1/orders", {"params": {"customer_id": "cust_anna"}}, 200),
    ("get", "/v1/orders/{number}", "/v1/orders/100234", {}, 200),
    ("get", "/v1/orders/{number}", "/v1/orders/100237", {}, 200),
    ("get", "/v1/orders/{number}", "/v1/orders/100238", {}, 200),
    ("post", "/v1/login-codes", "/v1/login-codes", {"json": {"email": "ben.miller@example.com"}}, 202),
    ("post", "/v1/login-codes/verify", "/v1/login-codes/verify",
     {"json": {"email": "x@example.com", "code": "1"}}, 200),
    ("get", "/v1/sandbox/mailbox", "/v1/sandbox/mailbox", {"params": {"to": "ben.miller@example.com"}}, 200),
    ("post", "/v1/carts", "/v1/carts", {"json": {"customer_id": "cust_ben"}}, 201),
    ("get", "/v1/carts/{cart_id}", "/v1/carts/cart_ben_abandoned", {}, 200),
    ("post", "/v1/carts/{cart_id}/items", "/v1/carts/cart_anna_open/items",
     {"json": {"sku": "sun-cap-sand", "quantity": 1}}, 200),
    ("get", "/v1/crm/contacts", "/v1/crm/contacts", {}, 200),
    ("post", "/v1/crm/contacts", "/v1/crm/contacts", {"json": {"email": "erik.larsen@example.com"}}, 200),
    ("post", "/v1/crm/contacts", "/v1/crm/contacts",
     {"json": {"email": f"oa-{uuid.uuid4().hex[:6]}@example.com"}}, 201),
    ("get", "/v1/crm/contacts/{contact_id}", "/v1/crm/contacts/ct_erik", {}, 200),
    ("get", "/v1/crm/contacts/{contact_id}/interactions", "/v1/crm/contacts/ct_carla/interactions", {}, 200),
    ("post", "/v1/crm/contacts/{contact_id}/interactions", "/v1/crm/contacts/ct_anna/interactions",
     {"json": {"channel": "web", "kind": "note", "summary": "openapi check"}}, 201),
    ("get", "/v1/crm/tickets", "/v1/crm/tickets", {}, 200),
    ("post", "/v1/crm/tickets", "/v1/crm/tickets",
     {"json": {"subject": "s", "description": "d", "priority": "low", "category": "other"}}, 201),
    ("get", "/v1/crm/tickets/{ticket_id}", "/v1/crm/tickets/tk_carla_delay", {}, 200),
    ("get", "/v1/crm/tickets/{ticket_id}", "/v1/crm/tickets/T-000102", {}, 200),
    ("post", "/v1/crm/tickets", "/v1/crm/tickets",
     {"json": {"subject": "s", "description": "d", "priority": "high", "category": "complaint",
               "email": "ben.miller@example.com", "due_at": "2030-01-02T10:00:00+01:00",
               "attachments": ["https://photos.example.com/p/1.jpg"]}}, 201),
    ("post", "/v1/crm/tickets", "/v1/crm/tickets",
     {"json": {"subject": "s", "description": "d", "priority": "low", "category": "other",
               "attachments": ["javascript:alert(1)"]}}, 422),
    ("post", "/v1/sandbox/crm/tickets/{ticket_ref}/status", "/v1/sandbox/crm/tickets/T-999999/status",
     {"json": {"status": "solved"}}, 404),
    ("post", "/v1/sandbox/crm/tickets/{ticket_ref}/status", "/v1/sandbox/crm/tickets/tk_carla_delay/status",
     {"json": {"status": "closed"}}, 422),
    ("get", "/v1/crm/leads", "/v1/crm/leads", {}, 200),
    ("post", "/v1/crm/leads", "/v1/crm/leads", {"json": {"email": "oa@example.com", "source": "chat"}}, 201),
    ("get", "/v1/crm/deals", "/v1/crm/deals", {}, 200),
    # Data subject rights: a read of seeded data, and changes to an email nobody has, which leave the seed alone.
    ("get", "/v1/crm/personal-data", "/v1/crm/personal-data", {"params": {"email": "anna.schmidt@example.com"}}, 200),
    ("post", "/v1/crm/personal-data/erasure", "/v1/crm/personal-data/erasure",
     {"json": {"email": "nobody-oa@example.com"}}, 200),
    ("post", "/v1/crm/personal-data/erasure", "/v1/crm/personal-data/erasure", {"json": {"email": "no"}}, 422),
    ("post", "/v1/crm/marketing-consent/withdrawal", "/v1/crm/marketing-consent/withdrawal",
     {"json": {"email": "nobody-oa@example.com"}}, 200),
    ("post", "/v1/sandbox/mails", "/v1/sandbox/mails",
     {"json": {"to": "oa@example.com", "subject": "s", "body": "b",
               "attachments": [{"filename": "data.json", "content_type": "application/json", "content": "{}"}]}}, 202),
    ("post", "/v1/sandbox/mails", "/v1/sandbox/mails",
     {"json": {"to": "oa@example.com", "subject": "s", "body": "b",
               "attachments": [{"filename": "../x", "content_type": "application/json", "content": "{}"}]}}, 422),
    # The shop's own changes, as refusals that leave the session's seed data alone; test_webhook_emitter.py
    # checks their successful answers against the schema on a sandbox of its own.
    ("post", "/v1/sandbox/orders/{number}/ship", "/v1/sandbox/orders/100237/ship",
     {"json": {"carrier": "dhl", "tracking_number": "JJD1"}}, 422),
    ("post", "/v1/sandbox/orders/{number}/delay", "/v1/sandbox/orders/100231/delay",
     {"json": {"reason": "late", "estimated_delivery": "2030-01-01"}}, 422),
    ("post", "/v1/sandbox/orders/{number}/pay", "/v1/sandbox/orders/100234/pay", {}, 422),
    ("post", "/v1/sandbox/carts/{cart_id}/abandon", "/v1/sandbox/carts/cart_carla_converted/abandon", {}, 422),
    ("post", "/v1/sandbox/variants/{sku}/stock", "/v1/sandbox/variants/no-such-sku/stock", {"json": {"stock": 1}}, 404),
    # Service requests, as reads and refusals that leave the session's seed data alone; test_service_requests.py
    # checks their successful answers against the schema on sandboxes of its own.
    ("post", "/v1/orders/{number}/delivery-change", "/v1/orders/100234/delivery-change",
     {"json": {"address": {"name": "Ben Miller", "line1": "1 Main Street", "postal_code": "SW1A 1AA",
                           "city": "London", "country": "GB"}}}, 409),
    ("post", "/v1/orders/{number}/delivery-change", "/v1/orders/100234/delivery-change",
     {"json": {"pickup_point_id": "pp_london_westminster"}}, 409),
    ("post", "/v1/orders/{number}/delivery-change", "/v1/orders/100232/delivery-change",
     {"json": {"pickup_point_id": "pp_nowhere"}}, 422),
    ("get", "/v1/pickup-points", "/v1/pickup-points", {"params": {"country": "DE", "postal_code": "10115"}}, 200),
    ("get", "/v1/pickup-points", "/v1/pickup-points", {"params": {"country": "CH"}}, 422),
    ("post", "/v1/orders/{number}/cancellation", "/v1/orders/100237/cancellation", {"json": {"reason": "check"}}, 409),
    ("get", "/v1/orders/{number}/return-eligibility", "/v1/orders/100241/return-eligibility", {}, 200),
    ("post", "/v1/returns", "/v1/returns",
     {"json": {"order_number": "100240", "items": [{"sku": "city-sneaker-42-white", "quantity": 1,
                                                    "reason": "wrong_size", "condition": "unused"}]}}, 422),
    ("get", "/v1/returns", "/v1/returns", {"params": {"order_number": "100241"}}, 200),
    ("get", "/v1/returns/{return_ref}", "/v1/returns/RMA-100241-99", {}, 404),
    ("get", "/v1/returns/{return_ref}/label", "/v1/returns/RMA-100241-99/label", {}, 404),
    ("get", "/labels/{label_file}", "/labels/ret_000000000000.pdf",
     {"key": None, "params": {"expires": "4102444800", "sig": "0" * 64}}, 403),
    ("get", "/labels/{label_file}", "/labels/ret_000000000000.txt", {"key": None}, 404),
    ("post", "/v1/sandbox/returns/{return_ref}/receive", "/v1/sandbox/returns/RMA-100241-99/receive", {}, 404),
    ("post", "/v1/sandbox/returns/{return_ref}/refund", "/v1/sandbox/returns/RMA-100241-99/refund", {}, 404),
    # errors, in the documented Error shape
    ("get", "/v1/products", "/v1/products", {"params": {"limit": 0}}, 400),
    ("get", "/v1/products", "/v1/products", {"key": "wrong"}, 401),
    ("get", "/v1/orders/{number}", "/v1/orders/99999999", {}, 404),
    ("get", "/v1/orders/{number}", "/v1/orders/12ab", {}, 422),
    ("post", "/v1/crm/tickets", "/v1/crm/tickets", {"data": "[]"}, 400),
]


def test_every_operation_has_an_example():
    assert {(method, path) for method, path, *_ in EXAMPLES} == documented_operations()


@pytest.mark.parametrize(("method", "path", "url", "options", "status"), EXAMPLES,
                         ids=[f"{m} {u} {s}" for m, _, u, _, s in EXAMPLES])
def test_answers_match_the_documented_schema(api, method, path, url, options, status):
    response = api.call(method.upper(), url, **options)
    assert response.status_code == status, response.text
    jsonschema.validate(response.json(), documented_schema(method, path, status))


def test_the_schema_check_can_fail():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"status": "ok", "undocumented": 1}, documented_schema("get", "/health", 200))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"data": [], "next_cursor": None, "extra": 1},
                            documented_schema("get", "/v1/crm/deals", 200))
