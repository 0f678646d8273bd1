"""The sandbox's HTTP API (see openapi.yaml): routing, input checks, auth, errors, logs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from functools import partial
from typing import Any, Callable

from sanic import Request, Sanic
from sanic.exceptions import MethodNotSupported, SanicException
from sanic.exceptions import NotFound as RouteNotFound
from sanic.response import HTTPResponse, json as json_response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox_backend import store
from sandbox_backend.errors import (
    ApiError,
    AuthenticationFailed,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    ValidationFailed,
)

logger = logging.getLogger("sandbox_backend")

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
ORDER_NUMBER = re.compile(r"^\d{4,10}$")
PRIORITIES = ("low", "normal", "high", "urgent")


def create_app(engine: Engine, api_key: str, name: str = "sandbox_backend") -> Sanic:
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"

    async def in_transaction(operation: Callable[[Session], Any]) -> Any:
        """Runs `operation` in one transaction in a worker thread, so no query blocks the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, partial(_transaction, engine, operation))

    @app.middleware("request")
    async def authenticate(request: Request):
        request.ctx.started = time.monotonic()
        request.ctx.correlation_id = request.headers.get("X-Correlation-ID") or str(uuid.uuid4())
        if request.path.startswith("/v1/"):
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {api_key}".encode()):
                raise AuthenticationFailed("Missing or wrong API key: send 'Authorization: Bearer <key>'.")

    @app.middleware("response")
    async def tag_and_log(request: Request, response: HTTPResponse):
        correlation_id = getattr(request.ctx, "correlation_id", "-")
        response.headers["X-Correlation-ID"] = correlation_id
        if response.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        started = getattr(request.ctx, "started", time.monotonic())
        # The route's template, never the raw URL: query strings carry emails.
        logger.info(json.dumps({
            "event": "request", "method": request.method, "route": f"/{request.route.path}" if request.route else "unmatched",
            "status": response.status, "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "correlation_id": correlation_id,
        }))

    @app.exception(ApiError)
    async def api_error(request: Request, error: ApiError):
        return json_response(error.body(), status=error.status)

    @app.exception(RouteNotFound)
    async def no_route(request: Request, error: Exception):
        return json_response(NotFound("No such route.").body(), status=404)

    @app.exception(MethodNotSupported)
    async def wrong_method(request: Request, error: Exception):
        return json_response(MethodNotAllowed(f"{request.method} is not allowed here.").body(), status=405)

    @app.exception(SanicException)
    async def sanic_error(request: Request, error: SanicException):
        status = error.status_code if 400 <= error.status_code < 500 else 400
        return json_response(InvalidRequest(str(error) or "Bad request.").body(), status=status)

    @app.exception(Exception)
    async def unexpected(request: Request, error: Exception):
        logger.exception("unexpected error (correlation_id %s)", getattr(request.ctx, "correlation_id", "-"))
        return json_response({"error": {"type": "internal", "message": "internal error"}}, status=500)

    async def create(request: Request, route: str, operation: Callable[[Session], tuple[int, Any]]):
        """A creating POST: runs once per Idempotency-Key and replays the first answer after that."""
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 255:
            raise InvalidRequest("Idempotency-Key must be 1 to 255 characters.")
        request_hash = hashlib.sha256(request.body or b"").hexdigest()
        run = lambda s: store.idempotent(s, key, route, request_hash, lambda: operation(s))  # noqa: E731
        try:
            status, body, replayed = await in_transaction(run)
        except IntegrityError:
            # A concurrent request with the same key (or email) won the race: answer as it did.
            status, body, replayed = await in_transaction(run)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return json_response(body, status=status, headers=headers)

    @app.get("/health")
    async def health(request: Request):
        return json_response({"status": "ok"})

    # ---- catalog
    @app.get("/v1/products")
    async def list_products(request: Request):
        limit, offset = _paging(request)
        q, category = _arg(request, "q"), _arg(request, "category")
        items, next_offset = await in_transaction(lambda s: store.list_products(s, q, category, limit, offset))
        return _page(items, next_offset)

    @app.get("/v1/products/<product_id:str>")
    async def get_product(request: Request, product_id: str):
        return json_response(await in_transaction(lambda s: store.get_product(s, product_id)))

    # ---- customers and orders
    @app.get("/v1/customers")
    async def find_customers(request: Request):
        email = _required_email_arg(request)
        return json_response({"data": await in_transaction(lambda s: store.find_customers(s, email)), "next_cursor": None})

    @app.get("/v1/customers/<customer_id:str>")
    async def get_customer(request: Request, customer_id: str):
        return json_response(await in_transaction(lambda s: store.get_customer(s, customer_id)))

    @app.get("/v1/orders/<number:str>")
    async def get_order(request: Request, number: str):
        if not ORDER_NUMBER.match(number):
            raise ValidationFailed("Order numbers are 4 to 10 digits.", {"number": "must be 4 to 10 digits"})
        return json_response(await in_transaction(lambda s: store.get_order(s, number)))

    @app.get("/v1/orders")
    async def list_orders(request: Request):
        limit, offset = _paging(request)
        customer_id, email = _arg(request, "customer_id"), _arg(request, "email")
        if not (customer_id or email):
            raise InvalidRequest("Give customer_id or email.")
        email = email.lower() if email else None
        items, next_offset = await in_transaction(lambda s: store.list_orders(s, customer_id, email, limit, offset))
        return _page(items, next_offset)

    # ---- login codes
    @app.post("/v1/login-codes")
    async def request_login_code(request: Request):
        email = _email(_body(request), "email")
        await in_transaction(lambda s: store.request_login_code(s, email, api_key))
        return json_response({"status": "sent", "expires_in": int(store.LOGIN_CODE_TTL.total_seconds())}, status=202)

    @app.post("/v1/login-codes/verify")
    async def verify_login_code(request: Request):
        body = _body(request)
        email, code = _email(body, "email"), _string(body, "code", max_length=12)
        return json_response(await in_transaction(lambda s: store.verify_login_code(s, email, code, api_key)))

    @app.get("/v1/sandbox/mailbox")
    async def mailbox(request: Request):
        to = _required_email_arg(request, "to")
        return json_response({"data": await in_transaction(lambda s: store.mailbox(s, to)), "next_cursor": None})

    # ---- carts
    @app.post("/v1/carts")
    async def create_cart(request: Request):
        customer_id = _optional_string(_body(request), "customer_id")
        return await create(request, "carts", lambda s: (201, store.create_cart(s, customer_id)))

    @app.get("/v1/carts/<cart_id:str>")
    async def get_cart(request: Request, cart_id: str):
        return json_response(await in_transaction(lambda s: store.get_cart(s, cart_id)))

    @app.post("/v1/carts/<cart_id:str>/items")
    async def add_cart_item(request: Request, cart_id: str):
        body = _body(request)
        sku, quantity = _string(body, "sku"), _integer(body, "quantity", 1, 99)
        return json_response(await in_transaction(lambda s: store.add_cart_item(s, cart_id, sku, quantity)))

    # ---- CRM
    @app.get("/v1/crm/contacts")
    async def find_contacts(request: Request):
        email = _arg(request, "email")
        items = await in_transaction(lambda s: store.find_contacts(s, email.lower() if email else None))
        return json_response({"data": items, "next_cursor": None})

    @app.post("/v1/crm/contacts")
    async def upsert_contact(request: Request):
        body = _body(request)
        fields = {"email": _email(body, "email"),
                  **{name: _optional_string(body, name) for name in ("first_name", "last_name", "phone", "customer_id")}}
        return await create(request, "crm.contacts", lambda s: store.upsert_contact(s, fields))

    @app.get("/v1/crm/contacts/<contact_id:str>")
    async def get_contact(request: Request, contact_id: str):
        return json_response(await in_transaction(lambda s: store.get_contact(s, contact_id)))

    @app.post("/v1/crm/contacts/<contact_id:str>/interactions")
    async def create_interaction(request: Request, contact_id: str):
        body = _body(request)
        fields = {"channel": _string(body, "channel", 40), "kind": _string(body, "kind", 60),
                  "summary": _string(body, "summary", 5000),
                  "conversation_id": _optional_string(body, "conversation_id", 80),
                  "order_number": _optional_string(body, "order_number", 10),
                  "outcome": _optional_string(body, "outcome", 60)}
        return await create(request, f"crm.interactions:{contact_id}",
                            lambda s: (201, store.create_interaction(s, contact_id, fields)))

    @app.get("/v1/crm/contacts/<contact_id:str>/interactions")
    async def list_interactions(request: Request, contact_id: str):
        items = await in_transaction(lambda s: store.list_interactions(s, contact_id))
        return json_response({"data": items, "next_cursor": None})

    @app.post("/v1/crm/tickets")
    async def create_ticket(request: Request):
        body = _body(request)
        priority = _optional_string(body, "priority") or "normal"
        if priority not in PRIORITIES:
            raise ValidationFailed("Unknown priority.", {"priority": f"one of {', '.join(PRIORITIES)}"})
        fields = {"subject": _string(body, "subject", 200), "description": _string(body, "description", 20000),
                  "priority": priority, "category": _optional_string(body, "category", 60) or "general",
                  "contact_id": _optional_string(body, "contact_id"),
                  "email": _email(body, "email") if body.get("email") is not None else None,
                  "conversation_id": _optional_string(body, "conversation_id", 80),
                  "order_number": _optional_string(body, "order_number", 10)}
        return await create(request, "crm.tickets", lambda s: (201, store.create_ticket(s, fields)))

    @app.get("/v1/crm/tickets")
    async def list_tickets(request: Request):
        limit, offset = _paging(request)
        contact_id = _arg(request, "contact_id")
        items, next_offset = await in_transaction(lambda s: store.list_tickets(s, contact_id, limit, offset))
        return _page(items, next_offset)

    @app.get("/v1/crm/tickets/<ticket_id:str>")
    async def get_ticket(request: Request, ticket_id: str):
        return json_response(await in_transaction(lambda s: store.get_ticket(s, ticket_id)))

    @app.get("/v1/crm/leads")
    async def list_leads(request: Request):
        email = _arg(request, "email")
        items = await in_transaction(lambda s: store.list_leads(s, email.lower() if email else None))
        return json_response({"data": items, "next_cursor": None})

    @app.post("/v1/crm/leads")
    async def create_lead(request: Request):
        body = _body(request)
        fields = {"email": _email(body, "email"), "source": _string(body, "source", 60),
                  **{name: _optional_string(body, name, 300) for name in ("name", "company", "interest")},
                  "notes": _optional_string(body, "notes", 5000)}
        return await create(request, "crm.leads", lambda s: (201, store.create_lead(s, fields)))

    @app.get("/v1/crm/deals")
    async def list_deals(request: Request):
        contact_id = _arg(request, "contact_id")
        return json_response({"data": await in_transaction(lambda s: store.list_deals(s, contact_id)), "next_cursor": None})

    return app


def _transaction(engine: Engine, operation: Callable[[Session], Any]) -> Any:
    with Session(engine, future=True) as session, session.begin():
        return operation(session)


# ---- reading input: every problem is a 4xx with the field named

def _body(request: Request) -> dict:
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


def _string(body: dict, name: str, max_length: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"'{name}' is required.", {name: "required, a non-empty string"})
    if len(value) > max_length:
        raise ValidationFailed(f"'{name}' is too long.", {name: f"at most {max_length} characters"})
    return value.strip()


def _optional_string(body: dict, name: str, max_length: int = 200) -> str | None:
    return None if body.get(name) in (None, "") else _string(body, name, max_length)


def _email(body: dict, name: str) -> str:
    value = _string(body, name, 254).lower()
    if not EMAIL.match(value):
        raise ValidationFailed(f"'{name}' is not an email address.", {name: "not an email address"})
    return value


def _integer(body: dict, name: str, low: int, high: int) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(f"'{name}' must be a whole number from {low} to {high}.", {name: f"{low}..{high}"})
    return value


def _arg(request: Request, name: str) -> str | None:
    value = request.args.get(name)
    return value.strip() if value and value.strip() else None


def _required_email_arg(request: Request, name: str = "email") -> str:
    value = (_arg(request, name) or "").lower()
    if not EMAIL.match(value):
        raise InvalidRequest(f"Query parameter '{name}' must be an email address.")
    return value


def _paging(request: Request) -> tuple[int, int]:
    raw_limit = request.args.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise InvalidRequest("'limit' must be a whole number from 1 to 100.")
    cursor = request.args.get("cursor")
    if cursor is None:
        return int(raw_limit), 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("'cursor' is not one this API gave out.") from None
    if offset < 0:
        raise InvalidRequest("'cursor' is not one this API gave out.")
    return int(raw_limit), offset


def _page(items: list, next_offset: int | None) -> HTTPResponse:
    cursor = base64.urlsafe_b64encode(str(next_offset).encode()).decode() if next_offset is not None else None
    return json_response({"data": items, "next_cursor": cursor})
