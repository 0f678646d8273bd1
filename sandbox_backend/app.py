"""The sandbox's HTTP API (see openapi.yaml): routes, auth, errors, correlation ids and the access log.

Handlers check their input, then run one function of store.py in one
transaction on a worker thread, so a slow query never holds up the event loop.
The /v1/sandbox routes that play the shop (ship, delay, pay...) then announce the
committed change as a signed webhook (webhooks.py), when one is configured.
Only /health and /labels/... need no API key: a label link's signature is its permission
(label_links.py), because customers open it from the chat.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Callable

from sanic import Request, Sanic
from sanic.exceptions import MethodNotSupported, SanicException
from sanic.exceptions import NotFound as RouteNotFound
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sanic.response import raw
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox_backend import inputs, logs, store
from sandbox_backend import tables as t
from sandbox_backend.database import MAX_CONNECTIONS, transaction
from sandbox_backend.errors import (
    ApiError,
    AuthenticationFailed,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    ValidationFailed,
)
from sandbox_backend.label_links import LabelLinks, derived_secret, return_id_in
from sandbox_backend.webhooks import WebhookEmitter

access_log = logging.getLogger("sandbox_backend.access")
error_log = logging.getLogger("sandbox_backend.error")

ORDER_NUMBER = re.compile(r"^\d{4,10}$")
# Printable ASCII without spaces: safe to echo in a header and to write in a log line.
CORRELATION_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_STATUSES = ("open", "pending", "solved")
MAX_ATTACHMENTS, MAX_LINK_LENGTH = 10, 500
LONG_TEXT = 20_000  # for Text columns, which have no length of their own
MAX_DELIVERY_DAYS_AHEAD = 30
DEFAULT_PICKUP_POINTS, MAX_PICKUP_POINTS = 3, 20
MAX_BODY_BYTES = 1_000_000
MAX_MAIL_ATTACHMENTS = 5
MAIL_CONTENT_TYPES = ("application/json", "text/plain")
MAIL_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
TRANSACTION_ATTEMPTS = 5


def create_app(engine: Engine, api_key: str, name: str = "sandbox_backend",
               webhooks: WebhookEmitter | None = None, label_links: LabelLinks | None = None) -> Sanic:
    app = Sanic(name, configure_logging=False, dumps=partial(json.dumps, ensure_ascii=False))
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    # Parsed now, not on the first request that needs them: parsing seed.yml took ~0.5 s on a busy machine,
    # beyond the clients' time budget for one call.
    store.shipping_countries()
    executor = ThreadPoolExecutor(max_workers=MAX_CONNECTIONS, thread_name_prefix="sandbox-db")

    async def db(operation: Callable[[Session], Any]) -> Any:
        """Run `operation` in one transaction on a worker thread."""
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                return await asyncio.get_running_loop().run_in_executor(executor, transaction, engine, operation)
            except IntegrityError:
                # A concurrent request wrote the same unique value first (idempotency key, email, ticket
                # number, login code). This attempt was rolled back; the next one sees the winner's row.
                if attempt == TRANSACTION_ATTEMPTS:
                    raise

    def announce(event: str, data: dict) -> None:
        if webhooks is not None:
            webhooks.emit(event, data)

    @app.after_server_stop
    async def stop_workers(app: Sanic, loop) -> None:
        executor.shutdown(wait=True)
        if webhooks is not None:
            webhooks.close()

    create = _idempotent_creation(db, api_key)
    links = label_links or LabelLinks(derived_secret(api_key))
    _add_request_hooks(app, api_key)
    _add_error_handlers(app)
    _add_shop_routes(app, db, create, api_key)
    _add_service_routes(app, db, create, links)
    _add_public_routes(app, db, links)
    _add_shop_event_routes(app, db, announce, links)
    _add_crm_routes(app, db, create)
    return app


# ---- every request: correlation id, auth, access log

def _add_request_hooks(app: Sanic, api_key: str) -> None:
    expected = f"Bearer {api_key}".encode()

    @app.middleware("request")
    async def identify_and_authenticate(request: Request):
        request.ctx.started = time.monotonic()
        given_id = request.headers.get("X-Correlation-ID", "")
        request.ctx.correlation_id = given_id if CORRELATION_ID.match(given_id) else str(uuid.uuid4())
        logs.correlation_id.set(request.ctx.correlation_id)
        if request.path.startswith("/v1/"):
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return _error_response(
                    AuthenticationFailed("Missing or wrong API key: send 'Authorization: Bearer <key>'."))

    @app.middleware("response")
    async def tag_and_log(request: Request, response: HTTPResponse):
        correlation_id = getattr(request.ctx, "correlation_id", None) or str(uuid.uuid4())
        response.headers["X-Correlation-ID"] = correlation_id
        if response.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        started = getattr(request.ctx, "started", time.monotonic())
        # The route's template, never the URL: query strings carry emails.
        access_log.info("request", extra={"fields": {
            "method": request.method,
            "route": f"/{request.route.path}" if request.route else "unmatched",
            "status": response.status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "correlation_id": correlation_id,
        }})


# ---- errors: always the contract's JSON shape

def _add_error_handlers(app: Sanic) -> None:
    @app.exception(ApiError)
    async def api_error(request: Request, error: ApiError):
        return _error_response(error)

    @app.exception(RouteNotFound)
    async def no_such_route(request: Request, error: RouteNotFound):
        return _error_response(NotFound("No such route."))

    @app.exception(MethodNotSupported)
    async def wrong_method(request: Request, error: MethodNotSupported):
        response = _error_response(MethodNotAllowed(f"{request.method} is not allowed on this route."))
        response.headers.update(error.headers)
        return response

    @app.exception(SanicException)
    async def http_error(request: Request, error: SanicException):
        if 400 <= error.status_code < 500:  # e.g. a body over MAX_BODY_BYTES
            return _error_response(InvalidRequest(str(error) or "Bad request."), status=error.status_code)
        return await unexpected(request, error)

    @app.exception(Exception)
    async def unexpected(request: Request, error: Exception):
        # The exception's message stays out of the log: database errors quote the values they choked on.
        error_log.error("unexpected error",
                        extra={"fields": {"error": type(error).__name__, "where": _our_frames(error)}})
        return json_response({"error": {"type": "internal", "message": "internal error"}}, status=500)


def _our_frames(error: Exception) -> list[str]:
    """Where in this package the error came from, innermost last: "store.py:71 get_order"."""
    package = str(Path(__file__).parent)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(package)]
    return [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[-3:]]


def _error_response(error: ApiError, status: int | None = None) -> HTTPResponse:
    return json_response(error.body(), status=status or error.status)


# ---- creations: Idempotency-Key

def _idempotent_creation(db, api_key: str):
    client = hashlib.sha256(api_key.encode()).hexdigest()

    async def create(request: Request, operation: Callable[[Session], tuple[int, Any]]) -> HTTPResponse:
        """Run a creation once per Idempotency-Key; a repeat with the same body gets the first answer again."""
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 255:
            raise InvalidRequest("Idempotency-Key must be 1 to 255 characters.",
                                 {"Idempotency-Key": "1 to 255 characters"})
        body_hash = hashlib.sha256(request.body or b"").hexdigest()

        def run(s: Session):
            return store.idempotent(s, client, key, request.path, body_hash, lambda: operation(s))

        status, body, replayed = await db(run)
        return json_response(body, status=status, headers={"Idempotent-Replayed": "true"} if replayed else {})

    return create


# ---- e-shop: catalog, customers, orders, login codes, carts

def _add_shop_routes(app: Sanic, db, create, api_key: str) -> None:
    @app.get("/health")
    async def health(request: Request):
        return json_response({"status": "ok"})

    @app.get("/v1/products")
    async def list_products(request: Request):
        q, category = inputs.query_string(request, "q"), inputs.query_string(request, "category")
        return await _listing(request, db, lambda s, limit, offset: store.list_products(s, q, category, limit, offset))

    @app.get("/v1/products/<product_id:str>")
    async def get_product(request: Request, product_id: str):
        return json_response(await db(lambda s: store.get_product(s, product_id)))

    @app.get("/v1/customers")
    async def find_customers(request: Request):
        email = inputs.query_email(request, "email", required=True)
        return await _listing(request, db, lambda s, limit, offset: store.find_customers(s, email, limit, offset))

    @app.get("/v1/customers/<customer_id:str>")
    async def get_customer(request: Request, customer_id: str):
        return json_response(await db(lambda s: store.get_customer(s, customer_id)))

    @app.get("/v1/orders/<number:str>")
    async def get_order(request: Request, number: str):
        _check_order_number(number)
        return json_response(await db(lambda s: store.get_order(s, number)))

    @app.get("/v1/orders")
    async def list_orders(request: Request):
        customer_id, email = inputs.query_string(request, "customer_id"), inputs.query_email(request, "email")
        if not (customer_id or email):
            raise InvalidRequest("Give customer_id or email.", {"customer_id": "customer_id or email is required"})
        return await _listing(request, db,
                              lambda s, limit, offset: store.list_orders(s, customer_id, email, limit, offset))

    @app.post("/v1/login-codes")
    async def request_login_code(request: Request):
        email = inputs.email(inputs.json_object(request), "email")
        await db(lambda s: store.request_login_code(s, email, api_key))
        return json_response({"status": "sent", "expires_in": int(store.LOGIN_CODE_TTL.total_seconds())}, status=202)

    @app.post("/v1/login-codes/verify")
    async def verify_login_code(request: Request):
        body = inputs.json_object(request)
        email, code = inputs.email(body, "email"), inputs.required_string(body, "code", 12)
        return json_response(await db(lambda s: store.verify_login_code(s, email, code, api_key)))

    @app.get("/v1/sandbox/mailbox")
    async def mailbox(request: Request):
        to = inputs.query_email(request, "to", required=True)
        return json_response({"data": await db(lambda s: store.mailbox(s, to))})

    # The mock mail carrier, for the bot's own mails (a customer's data export): they land in the mailbox above.
    @app.post("/v1/sandbox/mails")
    async def send_mail(request: Request):
        body = inputs.json_object(request)
        to, subject, text = inputs.email(body, "to"), _text(body, t.Mail.subject), _text(body, t.Mail.body)
        attachments = _mail_attachments(body)
        # Through Idempotency-Key: a retried send delivers one mail.
        return await create(request, lambda s: (202, store.send_mail(s, to, subject, text, attachments)))

    @app.post("/v1/carts")
    async def create_cart(request: Request):
        customer_id = _text(inputs.json_object(request), t.Cart.customer_id, required=False)
        return await create(request, lambda s: (201, store.create_cart(s, customer_id)))

    @app.get("/v1/carts/<cart_id:str>")
    async def get_cart(request: Request, cart_id: str):
        return json_response(await db(lambda s: store.get_cart(s, cart_id)))

    @app.post("/v1/carts/<cart_id:str>/items")
    async def add_cart_item(request: Request, cart_id: str):
        body = inputs.json_object(request)
        sku, quantity = _text(body, t.CartItem.sku), inputs.whole_number(body, "quantity", 1, 99)
        return json_response(await db(lambda s: store.add_cart_item(s, cart_id, sku, quantity)))


# ---- service requests: delivery changes, cancellations and returns (RMA)

def _add_service_routes(app: Sanic, db, create, links: LabelLinks) -> None:
    @app.post("/v1/orders/<number:str>/delivery-change")
    async def change_delivery(request: Request, number: str):
        _check_order_number(number)
        address, delivery_date, pickup_point_id = _delivery_change(inputs.json_object(request))
        return await create(request, lambda s: (200, store.change_delivery(
            s, number, address, delivery_date, pickup_point_id)))

    @app.get("/v1/pickup-points")
    async def list_pickup_points(request: Request):
        country = (request.args.get("country") or "").strip().upper()
        if country not in store.shipping_countries():
            raise ValidationFailed("Give the country (ISO 3166-1 alpha-2) of a place the shop delivers to.",
                                   {"country": f"one of {', '.join(store.shipping_countries())}"})
        postal_code = inputs.query_string(request, "postal_code")
        limit = _pickup_point_limit(request)
        return json_response({"data": await db(lambda s: store.list_pickup_points(s, country, postal_code, limit))})

    @app.post("/v1/orders/<number:str>/cancellation")
    async def cancel_order(request: Request, number: str):
        _check_order_number(number)
        reason = inputs.required_string(inputs.json_object(request), "reason", t.Order.cancel_reason.type.length)
        return await create(request, lambda s: (200, store.cancel_order(s, number, reason)))

    @app.get("/v1/orders/<number:str>/return-eligibility")
    async def return_eligibility(request: Request, number: str):
        _check_order_number(number)
        return json_response(await db(lambda s: store.return_eligibility(s, number)))

    @app.post("/v1/returns")
    async def create_return(request: Request):
        body = inputs.json_object(request)
        order_number = _order_number(body)
        if order_number is None:
            raise ValidationFailed("'order_number' is required.", {"order_number": "required, 4 to 10 digits"})
        items = inputs.return_items(body, "items", store.RETURN_REASONS, store.ITEM_CONDITIONS)
        label_link = _label_link(request, links)
        return await create(request, lambda s: (201, store.create_return(s, order_number, items, label_link)))

    @app.get("/v1/returns")
    async def list_returns(request: Request):
        order_number = inputs.query_string(request, "order_number")
        if order_number is None:
            raise InvalidRequest("Give order_number.", {"order_number": "required"})
        label_link = _label_link(request, links)
        return await _listing(request, db, lambda s, limit, offset: store.list_returns(
            s, order_number, label_link, limit, offset))

    @app.get("/v1/returns/<return_ref:str>")
    async def get_return(request: Request, return_ref: str):
        label_link = _label_link(request, links)
        return json_response(await db(lambda s: store.get_return(s, return_ref, label_link)))

    @app.get("/v1/returns/<return_ref:str>/label")
    async def return_label(request: Request, return_ref: str):
        return _pdf(await db(lambda s: store.return_label(s, return_ref)))


# ---- without the API key: what a customer opens from the chat

def _add_public_routes(app: Sanic, db, links: LabelLinks) -> None:
    @app.get("/labels/<label_file:str>")
    async def public_return_label(request: Request, label_file: str):
        return_id = return_id_in(label_file)
        if return_id is None:
            raise NotFound("No such label.")
        # Checked before any lookup: without a valid signature nobody learns whether a return exists.
        links.check(return_id, request.args.get("expires"), request.args.get("sig"), store.now())
        return _pdf(await db(lambda s: store.return_label(s, return_id)))


# ---- the sandbox playing the shop: changes a platform would make, each announced as a webhook

def _add_shop_event_routes(app: Sanic, db, announce: Callable[[str, dict], None], links: LabelLinks) -> None:
    async def change_and_announce(event: str, operation: Callable[[Session], tuple[dict, dict]]) -> HTTPResponse:
        # Announced only after the transaction committed: a webhook never reports a change that was rolled back.
        answer, data = await db(operation)
        announce(event, data)
        return json_response(answer)

    @app.post("/v1/sandbox/orders/<number:str>/ship")
    async def ship_order(request: Request, number: str):
        _check_order_number(number)
        body = inputs.json_object(request)
        carrier = inputs.one_of(body, "carrier", tuple(store.carriers()))
        tracking_number = _text(body, t.Shipment.tracking_number)
        eta = _date(body, "estimated_delivery", required=False)
        return await change_and_announce(
            "order.shipped", lambda s: store.ship_order(s, number, carrier, tracking_number, eta))

    @app.post("/v1/sandbox/orders/<number:str>/delay")
    async def delay_order(request: Request, number: str):
        _check_order_number(number)
        body = inputs.json_object(request)
        reason, eta = inputs.required_string(body, "reason", 300), _date(body, "estimated_delivery")
        return await change_and_announce("order.delayed", lambda s: store.delay_order(s, number, reason, eta))

    @app.post("/v1/sandbox/orders/<number:str>/pay")
    async def pay_order(request: Request, number: str):
        _check_order_number(number)
        return await change_and_announce("payment.succeeded", lambda s: store.pay_order(s, number))

    @app.post("/v1/sandbox/carts/<cart_id:str>/abandon")
    async def abandon_cart(request: Request, cart_id: str):
        return await change_and_announce("cart.abandoned", lambda s: store.abandon_cart(s, cart_id))

    @app.post("/v1/sandbox/variants/<sku:str>/stock")
    async def set_stock(request: Request, sku: str):
        stock = inputs.whole_number(inputs.json_object(request), "stock", 0, 100_000)
        return await change_and_announce("product.updated", lambda s: store.set_stock(s, sku, stock))

    @app.post("/v1/sandbox/returns/<return_ref:str>/receive")
    async def receive_return(request: Request, return_ref: str):
        label_link = _label_link(request, links)
        return await change_and_announce("return.received",
                                         lambda s: store.receive_return(s, return_ref, label_link))

    @app.post("/v1/sandbox/returns/<return_ref:str>/refund")
    async def refund_return(request: Request, return_ref: str):
        label_link = _label_link(request, links)
        return await change_and_announce("return.refunded",
                                         lambda s: store.refund_return(s, return_ref, label_link))


# ---- CRM: contacts, interactions, tickets, leads, deals

def _add_crm_routes(app: Sanic, db, create) -> None:
    @app.get("/v1/crm/contacts")
    async def find_contacts(request: Request):
        email = inputs.query_email(request, "email")
        return await _listing(request, db, lambda s, limit, offset: store.find_contacts(s, email, limit, offset))

    @app.post("/v1/crm/contacts")
    async def upsert_contact(request: Request):
        body = inputs.json_object(request)
        fields = {"email": inputs.email(body, "email"),
                  **{column.key: _text(body, column, required=False)
                     for column in (t.Contact.first_name, t.Contact.last_name, t.Contact.phone, t.Contact.customer_id)}}
        return await create(request, lambda s: store.upsert_contact(s, fields))

    @app.get("/v1/crm/contacts/<contact_id:str>")
    async def get_contact(request: Request, contact_id: str):
        return json_response(await db(lambda s: store.get_contact(s, contact_id)))

    @app.post("/v1/crm/contacts/<contact_id:str>/interactions")
    async def create_interaction(request: Request, contact_id: str):
        body = inputs.json_object(request)
        fields = {**{column.key: _text(body, column) for column in (t.Interaction.channel, t.Interaction.kind,
                                                                     t.Interaction.summary)},
                  **{column.key: _text(body, column, required=False)
                     for column in (t.Interaction.conversation_id, t.Interaction.outcome)},
                  "order_number": _order_number(body)}
        return await create(request, lambda s: (201, store.create_interaction(s, contact_id, fields)))

    @app.get("/v1/crm/contacts/<contact_id:str>/interactions")
    async def list_interactions(request: Request, contact_id: str):
        return await _listing(request, db,
                              lambda s, limit, offset: store.list_interactions(s, contact_id, limit, offset))

    @app.post("/v1/crm/tickets")
    async def create_ticket(request: Request):
        body = inputs.json_object(request)
        fields = {**{column.key: _text(body, column) for column in (t.Ticket.subject, t.Ticket.description,
                                                                     t.Ticket.category)},
                  "priority": inputs.one_of(body, "priority", PRIORITIES),
                  **{column.key: _text(body, column, required=False)
                     for column in (t.Ticket.contact_id, t.Ticket.conversation_id)},
                  "email": inputs.optional_email(body, "email"),
                  "order_number": _order_number(body),
                  "due_at": inputs.date_time(body, "due_at"),
                  "attachments": inputs.links(body, "attachments", MAX_ATTACHMENTS, MAX_LINK_LENGTH)}
        return await create(request, lambda s: (201, store.create_ticket(s, fields)))

    @app.get("/v1/crm/tickets")
    async def list_tickets(request: Request):
        contact_id = inputs.query_string(request, "contact_id")
        return await _listing(request, db, lambda s, limit, offset: store.list_tickets(s, contact_id, limit, offset))

    @app.get("/v1/crm/tickets/<ticket_id:str>")
    async def get_ticket(request: Request, ticket_id: str):
        return json_response(await db(lambda s: store.get_ticket(s, ticket_id)))

    # The sandbox playing the support team. No webhook: the bot learns a case's status by asking for it.
    @app.post("/v1/sandbox/crm/tickets/<ticket_ref:str>/status")
    async def set_ticket_status(request: Request, ticket_ref: str):
        status = inputs.one_of(inputs.json_object(request), "status", TICKET_STATUSES)
        return json_response(await db(lambda s: store.set_ticket_status(s, ticket_ref, status)))

    @app.get("/v1/crm/leads")
    async def list_leads(request: Request):
        email = inputs.query_email(request, "email")
        return await _listing(request, db, lambda s, limit, offset: store.list_leads(s, email, limit, offset))

    @app.post("/v1/crm/leads")
    async def create_lead(request: Request):
        body = inputs.json_object(request)
        fields = {"email": inputs.email(body, "email"), "source": _text(body, t.Lead.source),
                  **{column.key: _text(body, column, required=False)
                     for column in (t.Lead.name, t.Lead.company, t.Lead.interest, t.Lead.notes)}}
        return await create(request, lambda s: (201, store.create_lead(s, fields)))

    @app.get("/v1/crm/deals")
    async def list_deals(request: Request):
        contact_id = inputs.query_string(request, "contact_id")
        return await _listing(request, db, lambda s, limit, offset: store.list_deals(s, contact_id, limit, offset))

    # Data subject rights: the caller (the bot, an operator) has checked that the person owns the email.
    @app.get("/v1/crm/personal-data")
    async def personal_data(request: Request):
        email = inputs.query_email(request, "email", required=True)
        return json_response(await db(lambda s: store.personal_data(s, email)))

    @app.post("/v1/crm/personal-data/erasure")
    async def erase_personal_data(request: Request):
        email = inputs.email(inputs.json_object(request), "email")
        return json_response(await db(lambda s: store.erase_personal_data(s, email)))

    @app.post("/v1/crm/marketing-consent/withdrawal")
    async def withdraw_marketing_consent(request: Request):
        email = inputs.email(inputs.json_object(request), "email")
        return json_response(await db(lambda s: store.withdraw_marketing_consent(s, email)))


# ---- helpers shared by the routes

async def _listing(request: Request, db, query: Callable[[Session, int, int], tuple[list, int | None]]) -> HTTPResponse:
    """A page of a list: ?limit= and ?cursor= in, {"data": [...], "next_cursor": ...} out."""
    limit, offset = inputs.paging(request)
    items, next_offset = await db(lambda s: query(s, limit, offset))
    return json_response({"data": items, "next_cursor": inputs.page_cursor(next_offset)})


def _text(body: dict, column, required: bool = True) -> str | None:
    """The string field named like `column`, no longer than the column holds."""
    read = inputs.required_string if required else inputs.optional_string
    return read(body, column.key, column.type.length or LONG_TEXT)


def _check_order_number(number: str) -> None:
    if not ORDER_NUMBER.match(number):
        raise ValidationFailed("Order numbers are 4 to 10 digits.", {"number": "4 to 10 digits"})


def _date(body: dict, name: str, required: bool = True) -> date | None:
    value = body.get(name)
    if value in (None, "") and not required:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"'{name}' must be a date like 2026-11-20.", {name: "a date, YYYY-MM-DD"}) from None


def _delivery_change(body: dict) -> tuple[dict | None, date | None, str | None]:
    """The new address or pickup point and/or delivery day; the problems of all named at once."""
    if body.get("address") is None and body.get("pickup_point_id") is None \
            and body.get("delivery_date") in (None, ""):
        raise ValidationFailed("Give a new address or pickup point, a delivery date, or both.",
                               {"address": "address, pickup_point_id or delivery_date is required"})
    if body.get("address") is not None and body.get("pickup_point_id") is not None:
        raise ValidationFailed("Give either a new address or a pickup point, not both.",
                               {"address": "not together with pickup_point_id",
                                "pickup_point_id": "not together with address"})
    problems: dict[str, str] = {}
    address = None if body.get("address") is None else inputs.collect(
        problems, "", lambda: inputs.address(body, "address", store.shipping_countries()))
    pickup_point_id = inputs.collect(problems, "", lambda: inputs.required_string(
        body, "pickup_point_id", t.PickupPoint.id.type.length) if body.get("pickup_point_id") is not None else None)
    delivery_date = inputs.collect(problems, "", lambda: _delivery_date(body))
    if problems:
        raise ValidationFailed("The delivery change is not valid.", problems)
    return address, delivery_date, pickup_point_id


def _pickup_point_limit(request: Request) -> int:
    raw_limit = request.args.get("limit", str(DEFAULT_PICKUP_POINTS))
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_PICKUP_POINTS:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_PICKUP_POINTS}.",
                             {"limit": f"1..{MAX_PICKUP_POINTS}"})
    return int(raw_limit)


def _delivery_date(body: dict) -> date | None:
    """The requested delivery day: after today, within MAX_DELIVERY_DAYS_AHEAD, and a day carriers deliver."""
    wanted = _date(body, "delivery_date", required=False)
    if wanted is None:
        return None
    today = store.now().date()
    problem = ("a day after today" if wanted <= today
               else f"at most {MAX_DELIVERY_DAYS_AHEAD} days ahead"
               if wanted > today + timedelta(days=MAX_DELIVERY_DAYS_AHEAD)
               else "not a Sunday: carriers do not deliver on Sundays" if wanted.weekday() == 6
               else None)
    if problem:
        raise ValidationFailed(f"No delivery can be arranged on {wanted.isoformat()}.", {"delivery_date": problem})
    return wanted


def _base_url(request: Request) -> str:
    """This server as the client reached it, for links in answers when SANDBOX_PUBLIC_URL is not set."""
    return f"{request.scheme}://{request.host}"


def _label_link(request: Request, links: LabelLinks) -> store.LabelLink:
    base_url = _base_url(request)
    return lambda rma: links.url(base_url, rma.id, rma.created_at)


def _pdf(pdf: bytes) -> HTTPResponse:
    # private: a shared cache must not keep a label that only its signed link may open.
    return raw(pdf, content_type="application/pdf",
               headers={"Content-Disposition": 'inline; filename="return-label.pdf"', "Cache-Control": "private"})


def _mail_attachments(body: dict) -> list[dict]:
    """At most MAX_MAIL_ATTACHMENTS files, each a plain name, a media type and its text."""
    value = body.get("attachments")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_MAIL_ATTACHMENTS:
        raise ValidationFailed(f"'attachments' must be a list of at most {MAX_MAIL_ATTACHMENTS} files.",
                               {"attachments": f"a list of at most {MAX_MAIL_ATTACHMENTS} files"})
    problems: dict[str, str] = {}
    files = []
    for index, item in enumerate(value):
        if isinstance(item, dict):
            files.append(inputs.collect(problems, f"attachments[{index}].", lambda item=item: _mail_attachment(item)))
        else:
            problems[f"attachments[{index}]"] = "an object with filename, content_type and content"
    if problems:
        raise ValidationFailed("'attachments' has files that are not valid.", problems)
    return files


def _mail_attachment(item: dict) -> dict:
    filename = inputs.required_string(item, "filename", 200)
    if not MAIL_FILENAME.match(filename):
        raise ValidationFailed("A file name, not a path.", {"filename": "letters, digits, '.', '-', '_' only"})
    return {"filename": filename, "content_type": inputs.one_of(item, "content_type", MAIL_CONTENT_TYPES),
            "content": inputs.required_string(item, "content", MAX_BODY_BYTES)}


def _order_number(body: dict) -> str | None:
    number = inputs.optional_string(body, "order_number", 10)
    if number is not None and not ORDER_NUMBER.match(number):
        raise ValidationFailed("Order numbers are 4 to 10 digits.", {"order_number": "4 to 10 digits"})
    return number
