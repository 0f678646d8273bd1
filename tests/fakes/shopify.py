"""A Shopify Admin GraphQL API (2024-10) on a loopback port, for the adapter's tests.

It parses the query and checks it against the slice of the schema it knows, so a query
asking for a field Shopify does not have, without `first` on a connection, or without the
`orders` root field fails here as it would there, in GraphQL's error shape (HTTP 200).
It answers only the fields asked for, and keeps Shopify's cost budget: a query above 1000
points is refused, and one costing more than the points left is THROTTLED.
Search terms understood: `name:` and `customer_id:`; Shopify ignores unknown ones with a warning.
One mutation: `orderUpdate` with a new shipping address (scope write_orders), its input checked against
OrderInput and MailingAddressInput as Shopify checks variables (INVALID_VARIABLE), an unknown order in
`userErrors`; a mutation costs 10 points more than its selection.

Run it alone with `python -m tests.fakes.shopify --port N [--token T]`.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, ContextManager, NoReturn

from tests.fakes import FakePlatform, Reply, Request, json_reply, running, serve_until_terminated

API_VERSION = "2024-10"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
BAD_BODY = {"errors": {"query": "Required parameter missing or invalid"}}
MAX_QUERY_COST = 1000
BUCKET_SIZE, RESTORE_RATE = 2000.0, 100.0
MAX_PAGE_SIZE = 250
# A misbehave() mode of this fake only: Shopify's own failure, reported in GraphQL's way (HTTP 200).
GRAPHQL_INTERNAL_ERROR = "graphql_internal_error"
DOCS = "https://shopify.dev/api/usage/rate-limits"

# Enum values as of 2024-10 (DELAYED fulfillment statuses arrive only in 2025-01).
FINANCIAL_STATUSES = {"AUTHORIZED", "EXPIRED", "PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "PENDING",
                      "REFUNDED", "VOIDED"}
FULFILLMENT_STATUSES = {"FULFILLED", "IN_PROGRESS", "ON_HOLD", "OPEN", "PARTIALLY_FULFILLED",
                        "PENDING_FULFILLMENT", "RESTOCKED", "SCHEDULED", "UNFULFILLED", "REQUEST_DECLINED"}
FULFILLMENT_DISPLAY_STATUSES = {"ATTEMPTED_DELIVERY", "CANCELED", "CONFIRMED", "DELIVERED", "FAILURE", "FULFILLED",
                                "IN_TRANSIT", "LABEL_PRINTED", "LABEL_PURCHASED", "LABEL_VOIDED",
                                "MARKED_AS_FULFILLED", "NOT_DELIVERED", "OUT_FOR_DELIVERY", "PICKED_UP",
                                "READY_FOR_PICKUP", "SUBMITTED"}
FULFILLMENT_EVENT_STATUSES = {"ATTEMPTED_DELIVERY", "CONFIRMED", "DELIVERED", "FAILURE", "IN_TRANSIT",
                              "LABEL_PRINTED", "LABEL_PURCHASED", "OUT_FOR_DELIVERY", "READY_FOR_PICKUP"}
CANCEL_REASONS = {"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"}

# --- The slice of the schema the fake knows: type -> field -> (type of the field, kind). ---
SCALAR, OBJECT, LIST, CONNECTION = "scalar", "object", "list", "connection"


def _scalars(*names: str) -> dict[str, tuple[str, str]]:
    return {name: ("", SCALAR) for name in names}


def _connection(node_type: str) -> dict[str, tuple[str, str]]:
    return {"nodes": (node_type, LIST), "edges": (node_type + "Edge", LIST), "pageInfo": ("PageInfo", OBJECT)}


def _edge(node_type: str) -> dict[str, tuple[str, str]]:
    return {"cursor": ("", SCALAR), "node": (node_type, OBJECT)}


SCHEMA: dict[str, dict[str, tuple[str, str]]] = {
    "QueryRoot": {"orders": ("OrderConnection", CONNECTION)},
    "MutationRoot": {"orderUpdate": ("OrderUpdatePayload", OBJECT)},
    "OrderUpdatePayload": {"order": ("Order", OBJECT), "userErrors": ("UserError", LIST)},
    "UserError": _scalars("field", "message"),
    "MailingAddress": _scalars("firstName", "lastName", "name", "company", "address1", "address2", "city",
                               "province", "provinceCode", "zip", "country", "countryCodeV2", "phone"),
    "OrderConnection": _connection("Order"),
    "OrderEdge": _edge("Order"),
    "PageInfo": _scalars("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"),
    "Order": {
        **_scalars("id", "name", "email", "createdAt", "updatedAt", "displayFinancialStatus",
                   "displayFulfillmentStatus", "cancelledAt", "cancelReason", "note"),
        "customer": ("Customer", OBJECT),
        "shippingAddress": ("MailingAddress", OBJECT),
        "totalPriceSet": ("MoneyBag", OBJECT),
        "lineItems": ("LineItemConnection", CONNECTION),
        "fulfillments": ("Fulfillment", LIST),
    },
    "Customer": _scalars("id", "email"),
    "MoneyBag": {"shopMoney": ("MoneyV2", OBJECT), "presentmentMoney": ("MoneyV2", OBJECT)},
    "MoneyV2": _scalars("amount", "currencyCode"),
    "LineItemConnection": _connection("LineItem"),
    "LineItemEdge": _edge("LineItem"),
    "LineItem": {**_scalars("id", "sku", "name", "title", "variantTitle", "quantity"),
                 "originalUnitPriceSet": ("MoneyBag", OBJECT)},
    "Fulfillment": {
        **_scalars("id", "status", "displayStatus", "createdAt", "estimatedDeliveryAt", "deliveredAt", "inTransitAt"),
        "trackingInfo": ("FulfillmentTrackingInfo", LIST),
        "events": ("FulfillmentEventConnection", CONNECTION),
    },
    "FulfillmentTrackingInfo": _scalars("company", "number", "url"),
    "FulfillmentEventConnection": _connection("FulfillmentEvent"),
    "FulfillmentEventEdge": _edge("FulfillmentEvent"),
    "FulfillmentEvent": _scalars("id", "happenedAt", "status", "message", "city", "country"),
}
PAGING = {"first", "last", "after", "before", "reverse"}
ARGUMENTS = {
    ("QueryRoot", "orders"): PAGING | {"query", "sortKey"},
    ("Order", "lineItems"): PAGING,
    ("Order", "fulfillments"): {"first"},
    ("Fulfillment", "trackingInfo"): {"first"},
    ("Fulfillment", "events"): PAGING | {"sortKey", "query"},
    ("MutationRoot", "orderUpdate"): {"input"},
}
# The input objects' fields as of 2024-10 (deprecated ones included: Shopify still accepts them).
ORDER_INPUT = {"id", "shippingAddress", "email", "note", "tags", "customAttributes", "metafields", "poNumber",
               "localizationExtensions"}
MAILING_ADDRESS_INPUT = {"address1", "address2", "city", "company", "countryCode", "firstName", "lastName", "phone",
                         "provinceCode", "zip", "country", "province"}
MUTATION_COST = 10
# Sort key -> the node field it sorts on.
SORT_KEYS = {
    ("QueryRoot", "orders"): {"CREATED_AT": "createdAt", "ID": "id", "UPDATED_AT": "updatedAt"},
    ("Order", "lineItems"): {},
    ("Fulfillment", "events"): {"HAPPENED_AT": "happenedAt", "ID": "id"},
}
# Fields that need an access scope beyond read_orders.
SCOPED_FIELDS = {("Order", "customer"): "read_customers", ("MutationRoot", "orderUpdate"): "write_orders"}
ALL_SCOPES = frozenset({"read_orders", "read_customers", "write_orders"})


# --- Test data in Shopify's shape (connections stored as plain lists). ---

_ids = itertools.count(1)  # in creation order, as Shopify's own ids grow

def money_bag(amount: str, currency: str = "EUR") -> dict:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def line_item(sku: str = "TEE-BLUE-M", title: str = "Organic Tee", variant_title: str | None = "Blue / M",
              quantity: int = 1, unit_price: str = "29.95", currency: str = "EUR") -> dict:
    return {
        "id": f"gid://shopify/LineItem/{next(_ids)}",
        "sku": sku,
        "name": f"{title} - {variant_title}" if variant_title else title,
        "title": title,
        "variantTitle": variant_title,
        "quantity": quantity,
        "originalUnitPriceSet": money_bag(unit_price, currency),
    }


def event(status: str, happened_at: str, message: str | None = None, city: str | None = None) -> dict:
    assert status in FULFILLMENT_EVENT_STATUSES, f"{status} is no FulfillmentEventStatus in {API_VERSION}"
    return {"happenedAt": happened_at, "status": status, "message": message, "city": city, "country": "Germany"}


def fulfillment(display_status: str = "IN_TRANSIT", *, status: str = "SUCCESS",
                created_at: str = "2024-05-03T08:00:00Z", company: str | None = "DHL Express",
                number: str | None = "JD014600003", url: str | None = "https://www.dhl.com/track?id=JD014600003",
                estimated_delivery_at: str | None = None, delivered_at: str | None = None,
                events: tuple[dict, ...] = ()) -> dict:
    assert display_status in FULFILLMENT_DISPLAY_STATUSES, f"{display_status} is no FulfillmentDisplayStatus"
    return {
        "id": f"gid://shopify/Fulfillment/{next(_ids)}",
        "status": status,
        "displayStatus": display_status,
        "createdAt": created_at,
        "estimatedDeliveryAt": estimated_delivery_at,
        "deliveredAt": delivered_at,
        "inTransitAt": created_at,
        "trackingInfo": [{"company": company, "number": number, "url": url}] if number else [],
        "events": [{**e, "id": f"gid://shopify/FulfillmentEvent/{i + 1}"} for i, e in enumerate(events)],
    }


def order(number: int, *, email: str = "anna.schmidt@example.com", created_at: str = "2024-05-02T09:30:00Z",
          financial: str = "PAID", fulfillment_status: str = "UNFULFILLED", customer: int | None = 7001,
          total: str = "59.90", currency: str = "EUR", lines: tuple[dict, ...] | None = None,
          fulfillments: tuple[dict, ...] = (), cancelled_at: str | None = None,
          cancel_reason: str | None = None, shipping_address: dict | None = None) -> dict:
    assert financial in FINANCIAL_STATUSES and fulfillment_status in FULFILLMENT_STATUSES
    assert cancel_reason is None or cancel_reason in CANCEL_REASONS
    return {
        "id": f"gid://shopify/Order/{5_000_000 + number}",
        "name": f"#{number}",
        "email": email,
        "createdAt": created_at,
        "updatedAt": created_at,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": fulfillment_status,
        "cancelledAt": cancelled_at,
        "cancelReason": cancel_reason,
        "note": None,
        "customer": {"id": f"gid://shopify/Customer/{customer}", "email": email} if customer else None,
        "shippingAddress": shipping_address or mailing_address(),
        "totalPriceSet": money_bag(total, currency),
        "lineItems": list(lines if lines is not None else (line_item(currency=currency),)),
        "fulfillments": list(fulfillments),
    }


def mailing_address(first_name: str = "Anna", last_name: str = "Schmidt", address1: str = "Lindenstr. 1",
                    zip_code: str = "10969", city: str = "Berlin", country_code: str = "DE",
                    address2: str | None = None) -> dict:
    return {"firstName": first_name, "lastName": last_name, "name": f"{first_name} {last_name}".strip(),
            "company": None, "address1": address1, "address2": address2, "city": city, "province": None,
            "provinceCode": None, "zip": zip_code, "country": country_code, "countryCodeV2": country_code,
            "phone": None}


DEMO_ORDERS = (
    order(1001, financial="PENDING"),
    order(1002),
    order(1003, fulfillment_status="FULFILLED", fulfillments=(fulfillment(
        "IN_TRANSIT", estimated_delivery_at="2024-05-06T18:00:00Z",
        events=(event("CONFIRMED", "2024-05-03T08:00:00Z", "Label created", "Leipzig"),
                event("IN_TRANSIT", "2024-05-04T06:10:00Z", "Arrived at the hub", "Berlin"))),)),
    order(1004, email="ben.miller@example.com", customer=7002, fulfillment_status="FULFILLED",
          fulfillments=(fulfillment("DELIVERED", delivered_at="2024-05-05T11:32:00Z"),)),
    order(1005, cancelled_at="2024-05-02T12:00:00Z", cancel_reason="CUSTOMER", financial="REFUNDED"),
)


# --- A GraphQL parser for the subset the fake answers: one query, fields, arguments, variables. ---

class GraphQLError(Exception):
    def __init__(self, message: str, code: str | None = None, path: list | None = None,
                 location: tuple[int, int] | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.entry: dict[str, Any] = {"message": message}
        if location:
            self.entry["locations"] = [{"line": location[0], "column": location[1]}]
        if path is not None:
            self.entry["path"] = path
        if code:
            self.entry["extensions"] = {"code": code, **extensions}


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Field:
    name: str
    arguments: dict[str, Any]
    selections: list["Field"] | None
    location: tuple[int, int]


TOKENS = re.compile(r"""
    (?P<skip>[\s,]+|\#[^\n]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[{}():!$=\[\]@])
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
""", re.VERBOSE)


class Parser:
    def __init__(self, text: str) -> None:
        self._tokens: list[tuple[str, str, tuple[int, int]]] = []
        position = 0
        while position < len(text):
            match = TOKENS.match(text, position)
            where = (text.count("\n", 0, position) + 1, position - text.rfind("\n", 0, position))
            if not match:
                raise GraphQLError(f'Parse error on "{text[position]}" at [{where[0]}, {where[1]}]', location=where)
            if match.lastgroup != "skip":
                self._tokens.append((match.lastgroup, match.group(), where))
            position = match.end()
        self._tokens.append(("end", "end of query", where if text else (1, 1)))
        self._at = 0

    def document(self) -> tuple[str, dict[str, tuple[str, Any]], list[Field]]:
        """The operation's root type, variable definitions (name -> (type, default)) and root selections."""
        definitions: dict[str, tuple[str, Any]] = {}
        root = "QueryRoot"
        if self._peek() == "subscription":
            self._fail("the fake answers queries and mutations only")
        if self._peek() in ("query", "mutation"):
            root = "MutationRoot" if self._next()[1] == "mutation" else "QueryRoot"
            if self._kind() == "name":
                self._next()
            if self._peek() == "(":
                definitions = self._variable_definitions()
        selections = self._selection_set()
        if self._kind() != "end":
            self._fail("the fake answers one operation per request")
        return root, definitions, selections

    def _variable_definitions(self) -> dict[str, tuple[str, Any]]:
        self._expect("(")
        definitions = {}
        while self._peek() != ")":
            self._expect("$")
            name = self._expect_name()
            self._expect(":")
            type_ = self._type()
            default = None
            if self._peek() == "=":
                self._next()
                default = self._value()
            definitions[name] = (type_, default)
        self._expect(")")
        return definitions

    def _type(self) -> str:
        if self._peek() == "[":
            self._next()
            type_ = f"[{self._type()}]"
            self._expect("]")
        else:
            type_ = self._expect_name()
        if self._peek() == "!":
            self._next()
            type_ += "!"
        return type_

    def _selection_set(self) -> list[Field]:
        self._expect("{")
        fields = []
        while self._peek() != "}":
            fields.append(self._field())
        self._expect("}")
        if not fields:
            self._fail("a selection set needs at least one field")
        return fields

    def _field(self) -> Field:
        if self._kind() == "spread":
            self._fail("the fake does not support fragments")
        location = self._tokens[self._at][2]
        name = self._expect_name()
        if self._peek() in (":", "@"):
            self._fail("the fake does not support aliases or directives")
        arguments = self._arguments() if self._peek() == "(" else {}
        selections = self._selection_set() if self._peek() == "{" else None
        return Field(name, arguments, selections, location)

    def _arguments(self) -> dict[str, Any]:
        self._expect("(")
        arguments = {}
        while self._peek() != ")":
            name = self._expect_name()
            self._expect(":")
            arguments[name] = self._value()
        self._expect(")")
        return arguments

    def _value(self) -> Any:
        kind, text = self._kind(), self._peek()
        if kind not in ("string", "number", "name") and text not in ("$", "["):
            self._fail(f'Parse error on "{text}"')
        self._next()
        if text == "$":
            return Variable(self._expect_name())
        if kind == "string":
            return json.loads(text)
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, EnumValue(text))
        values = []
        while self._peek() != "]":
            values.append(self._value())
        self._expect("]")
        return values

    def _peek(self) -> str:
        return self._tokens[self._at][1]

    def _kind(self) -> str:
        return self._tokens[self._at][0]

    def _next(self) -> tuple[str, str, tuple[int, int]]:
        token = self._tokens[self._at]
        if token[0] != "end":
            self._at += 1
        return token

    def _expect(self, text: str) -> None:
        if self._peek() != text:
            self._fail(f'Parse error on "{self._peek()}", expected "{text}"')
        self._next()

    def _expect_name(self) -> str:
        if self._kind() != "name":
            self._fail(f'Parse error on "{self._peek()}", expected a name')
        return self._next()[1]

    def _fail(self, message: str) -> NoReturn:
        line, column = self._tokens[self._at][2]
        raise GraphQLError(f"{message} at [{line}, {column}]", location=(line, column))


# --- The cost budget: a leaky bucket of points, as Shopify keeps one per app and shop. ---

class CostBucket:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._available = BUCKET_SIZE
        self._at = time.monotonic()

    def available(self) -> float:
        with self._lock:
            self._restore()
            return self._available

    def take(self, points: float) -> None:
        with self._lock:
            self._restore()
            self._available -= points

    def drain(self) -> None:
        with self._lock:
            self._available, self._at = 0.0, time.monotonic()

    def status(self) -> dict[str, float]:
        return {"maximumAvailable": BUCKET_SIZE, "currentlyAvailable": int(self.available()),
                "restoreRate": RESTORE_RATE}

    def _restore(self) -> None:
        now = time.monotonic()
        self._available = min(BUCKET_SIZE, self._available + (now - self._at) * RESTORE_RATE)
        self._at = now


class ShopifyFake(FakePlatform):
    def __init__(self, orders: tuple[dict, ...] | list[dict] = DEMO_ORDERS, *, token: str | None = None,
                 scopes: frozenset[str] = ALL_SCOPES, port: int = 0) -> None:
        super().__init__(port)
        self.token = token or "shpat_" + secrets.token_hex(16)
        self.orders = list(orders)
        self.scopes = scopes
        self.bucket = CostBucket()

    def answer(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != GRAPHQL_PATH:
            return json_reply(404, {"errors": "Not Found"})
        if request.header("X-Shopify-Access-Token") != self.token:
            return json_reply(401, INVALID_TOKEN)
        try:
            body = json.loads(request.body)
            query, variables = body["query"], body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return json_reply(400, BAD_BODY)
        if not isinstance(query, str) or not isinstance(variables, dict):
            return json_reply(400, BAD_BODY)
        return json_reply(200, self._execute(query, variables))

    def throttled(self, request: Request) -> Reply:
        self.bucket.drain()
        return self.answer(request)

    def internal_error(self) -> Reply:
        return json_reply(500, {"errors": "Internal Server Error"})

    def _execute(self, query: str, variables: dict[str, Any]) -> dict:
        if self._mode == GRAPHQL_INTERNAL_ERROR:
            return {"errors": [GraphQLError("Internal error. Looks like something went wrong on our end.",
                                            "INTERNAL_SERVER_ERROR", requestId=secrets.token_hex(8)).entry]}
        try:
            root, definitions, selections = Parser(query).document()
            errors = _Validator(definitions, variables).check(selections, root, [])
        except GraphQLError as error:
            return {"errors": [error.entry]}
        if errors:
            return {"errors": [e.entry for e in errors]}
        requested = _requested_cost(selections, root) + (MUTATION_COST if root == "MutationRoot" else 0)
        if requested > MAX_QUERY_COST:
            return {"errors": [GraphQLError(
                f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                "MAX_COST_EXCEEDED", cost=requested, maxCost=MAX_QUERY_COST, documentation=DOCS).entry]}
        if requested > self.bucket.available():
            return {"errors": [GraphQLError("Throttled", "THROTTLED", documentation=DOCS).entry],
                    "extensions": {"cost": self._cost(requested, None)}}
        resolver = _Resolver(self.orders, self.scopes)
        try:
            data = resolver.select(selections, {}, root, [])
        except GraphQLError as error:  # an input object Shopify would not take: nothing ran
            return {"errors": [error.entry]}
        actual = _objects_in(data)
        self.bucket.take(actual)
        extensions: dict[str, Any] = {"cost": self._cost(requested, actual)}
        if resolver.search_warnings:
            extensions["search"] = resolver.search_warnings
        reply: dict[str, Any] = {"data": data, "extensions": extensions}
        if resolver.errors:
            reply["errors"] = [e.entry for e in resolver.errors]
        return reply

    def _cost(self, requested: int, actual: int | None) -> dict:
        return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self.bucket.status()}


class _Validator:
    """Static checks, before anything runs: fields, arguments, selections and variables."""

    def __init__(self, definitions: dict[str, tuple[str, Any]], variables: dict[str, Any]) -> None:
        self._definitions = definitions
        self._variables = variables

    def check(self, fields: list[Field], type_name: str, path: list) -> list[GraphQLError]:
        errors = []
        for f in fields:
            spec = SCHEMA[type_name].get(f.name)
            where = [*path, f.name]
            if spec is None:
                errors.append(GraphQLError(f"Field '{f.name}' doesn't exist on type '{type_name}'", "undefinedField",
                                           where, f.location, typeName=type_name, fieldName=f.name))
                continue
            field_type, kind = spec
            errors += self._arguments(f, type_name, kind, where)
            if kind == SCALAR and f.selections:
                errors.append(GraphQLError(f"Selections can't be made on scalars (field '{f.name}')",
                                           "selectionMismatch", where, f.location))
            elif kind != SCALAR and not f.selections:
                errors.append(GraphQLError(f"Field must have selections (field '{f.name}' returns {field_type} "
                                           "but has no selections)", "selectionMismatch", where, f.location))
            elif f.selections:
                errors += self.check(f.selections, field_type, where)
        return errors

    def _arguments(self, f: Field, type_name: str, kind: str, where: list) -> list[GraphQLError]:
        """Checks the arguments, and replaces variables and enum literals in them by their values."""
        errors, args = [], {}
        for name, value in f.arguments.items():
            if name not in ARGUMENTS.get((type_name, f.name), set()):
                errors.append(GraphQLError(f"Field '{f.name}' doesn't accept argument '{name}'",
                                           "argumentNotAccepted", where, f.location))
            try:
                args[name] = self._resolved(value)
            except GraphQLError as error:
                errors.append(error)
        f.arguments = args
        if kind == CONNECTION and args.get("first") is None and args.get("last") is None:
            errors.append(GraphQLError("you must provide one of first or last", "BAD_REQUEST", where, f.location))
        for size in ("first", "last"):
            if isinstance(args.get(size), int) and not 0 <= args[size] <= MAX_PAGE_SIZE:
                errors.append(GraphQLError(f"'{size}' must be between 0 and {MAX_PAGE_SIZE}", "BAD_REQUEST",
                                           where, f.location))
        sort_key = args.get("sortKey")
        if sort_key is not None and sort_key not in SORT_KEYS.get((type_name, f.name), {}):
            errors.append(GraphQLError(f"Argument 'sortKey' on Field '{f.name}' has an invalid value ({sort_key})",
                                       "argumentLiteralsIncompatible", where, f.location))
        return errors

    def _resolved(self, value: Any) -> Any:
        if isinstance(value, EnumValue):
            return value.name
        if not isinstance(value, Variable):
            return value
        if value.name not in self._definitions:
            raise GraphQLError(f"Variable ${value.name} is used but not declared", "variableNotDefined")
        type_, default = self._definitions[value.name]
        resolved = self._variables.get(value.name, default)
        if resolved is None and type_.endswith("!"):
            raise GraphQLError(f"Variable ${value.name} of type {type_} was provided invalid value",
                               "INVALID_VARIABLE")
        return resolved


class _Resolver:
    """Builds the answer from the stored orders, with exactly the fields asked for."""

    def __init__(self, orders: list[dict], scopes: frozenset[str]) -> None:
        self._orders = orders
        self._scopes = scopes
        self.errors: list[GraphQLError] = []
        self.search_warnings: list[dict] = []

    def select(self, fields: list[Field], source: dict, type_name: str, path: list) -> dict:
        answer = {}
        for f in fields:
            field_type, kind = SCHEMA[type_name][f.name]
            where = [*path, f.name]
            scope = SCOPED_FIELDS.get((type_name, f.name))
            if scope and scope not in self._scopes:
                answer[f.name] = None
                self.errors.append(GraphQLError(
                    f"Access denied for {f.name} field. Required access: `{scope}` access scope.",
                    "ACCESS_DENIED", where, f.location, requiredAccess=f"`{scope}` access scope."))
                continue
            if f.name == "orders":
                value = self._search_orders(f.arguments.get("query"))
            elif f.name == "orderUpdate":
                value = self._update_order(f.arguments.get("input"))
            else:
                value = source[f.name]
            answer[f.name] = self._shaped(f, value, field_type, kind, type_name, where)
        return answer

    def _update_order(self, changes: Any) -> dict:
        """orderUpdate: the new shipping address replaces the old one; an unknown id is a user error."""
        _check_input(changes, ORDER_INPUT, "OrderInput")
        address = changes.get("shippingAddress")
        if address is not None:
            _check_input(address, MAILING_ADDRESS_INPUT, "MailingAddressInput", "shippingAddress.")
        found = next((o for o in self._orders if o["id"] == changes["id"]), None)
        if found is None:
            return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
        if address is not None:
            found["shippingAddress"] = mailing_address(
                address.get("firstName") or "", address.get("lastName") or "", address.get("address1") or "",
                address.get("zip") or "", address.get("city") or "", address.get("countryCode") or "",
                address.get("address2"))
        return {"order": found, "userErrors": []}

    def _shaped(self, f: Field, value: Any, field_type: str, kind: str, parent: str, where: list) -> Any:
        if kind == SCALAR or value is None:
            return value
        if kind == OBJECT:
            return self.select(f.selections, value, field_type, where)
        if kind == LIST:
            items = value[: f.arguments["first"]] if "first" in f.arguments else value
            return [self.select(f.selections, item, field_type, [*where, i]) for i, item in enumerate(items)]
        return self.select(f.selections, _page(value, f.arguments, SORT_KEYS[(parent, f.name)]), field_type, where)

    def _search_orders(self, search: str | None) -> list[dict]:
        """Shopify's search syntax, for the terms the fake knows; it ignores any other term, with a warning."""
        orders = self._orders
        for term in (search or "").split():
            key, _, value = term.partition(":")
            if key == "name":
                orders = [o for o in orders if o["name"].lstrip("#") == value.lstrip("#")]
            elif key == "customer_id":
                orders = [o for o in orders if o["customer"] and o["customer"]["id"].rsplit("/", 1)[-1] == value]
            else:
                self.search_warnings.append({"path": ["orders"], "query": search, "warnings": [
                    {"field": key, "message": "Invalid search field for this query."}]})
        return orders


def _check_input(value: Any, fields: set[str], type_name: str, prefix: str = "") -> None:
    """What Shopify says of an input object it cannot take, before running anything."""
    def invalid(problem: str) -> GraphQLError:
        return GraphQLError(f"Variable $input of type OrderInput! was provided invalid value{problem}",
                            "INVALID_VARIABLE")

    if not isinstance(value, dict):
        raise invalid("")
    for name in value:
        if name not in fields:
            raise invalid(f" for {prefix}{name} (Field is not defined on {type_name})")
    if type_name == "OrderInput" and not isinstance(value.get("id"), str):
        raise invalid(" for id (Expected value to not be null)")
    country = value.get("countryCode")
    if type_name == "MailingAddressInput" and country is not None and not re.fullmatch(r"[A-Z]{2}", str(country)):
        raise invalid(f" for {prefix}countryCode (Expected \"{country}\" to be one of: AC, AD, AE, ...)")


def _page(items: list[dict], args: dict[str, Any], sort_keys: dict[str, str]) -> dict:
    """A connection page the Relay way: nodes, edges with opaque cursors, pageInfo."""
    ordered = sorted(items, key=lambda item: _sort_value(item, sort_keys.get(args.get("sortKey"), "id")))
    if args.get("reverse"):
        ordered.reverse()
    start = _position(args["after"]) + 1 if args.get("after") else 0
    end = start + args["first"] if args.get("first") is not None else len(ordered)
    nodes = ordered[start:end]
    cursors = [_cursor(i) for i in range(start, start + len(nodes))]
    return {
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes)],
        "pageInfo": {"hasNextPage": end < len(ordered), "hasPreviousPage": start > 0,
                     "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None},
    }


def _sort_value(item: dict, field_name: str) -> Any:
    """IDs sort by their number (gid://shopify/FulfillmentEvent/10 after .../9), everything else as it is."""
    value = item[field_name]
    return int(value.rsplit("/", 1)[-1]) if field_name == "id" else value


def _cursor(position: int) -> str:
    return base64.b64encode(json.dumps({"last_id": position}).encode()).decode()


def _position(cursor: str) -> int:
    return json.loads(base64.b64decode(cursor))["last_id"]


def _requested_cost(fields: list[Field], type_name: str) -> int:
    """Shopify's calculated query cost, near enough: an object costs 1, a connection 2 plus `first` nodes."""
    cost = 0
    for f in fields:
        field_type, kind = SCHEMA[type_name][f.name]
        if kind == SCALAR:
            continue
        children = _requested_cost(f.selections, field_type)
        if kind == OBJECT:
            cost += 1 + children
        elif kind == LIST:
            cost += f.arguments.get("first", 1) * (1 + children)
        else:
            cost += 2 + (f.arguments.get("first") or f.arguments.get("last") or 0) * children
    return cost


def _objects_in(data: Any) -> int:
    """The actual cost: one point per object returned."""
    if isinstance(data, dict):
        return 1 + sum(_objects_in(value) for value in data.values())
    if isinstance(data, list):
        return sum(_objects_in(item) for item in data)
    return 0


def running_shopify_fake(orders: tuple[dict, ...] | list[dict] = DEMO_ORDERS, *, token: str | None = None,
                         scopes: frozenset[str] = ALL_SCOPES) -> ContextManager[ShopifyFake]:
    """A started fake: `.base_url`, `.token`, `.requests`, `.misbehave(mode)`; stopped on exit."""
    return running(ShopifyFake(orders, token=token, scopes=scopes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", help="the access token to accept (default: a random one, printed)")
    options = parser.parse_args()
    fake = ShopifyFake(token=options.token, port=options.port)
    serve_until_terminated(fake, {"token": fake.token})


if __name__ == "__main__":
    main()
