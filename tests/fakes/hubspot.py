"""HubSpot's CRM v3 objects API (contacts, notes, tickets) on a loopback port, for the adapter's tests.

What it knows, in HubSpot's request and response shapes:
  POST  /crm/v3/objects/{type}          create, with `properties` and `associations`   -> 201 object
  GET   /crm/v3/objects/{type}/{id}     read, `?properties=a,b&associations=contacts`   -> 200 object
  PATCH /crm/v3/objects/{type}/{id}     update `properties`                             -> 200 object
  POST  /crm/v3/objects/{type}/search   filterGroups / properties / limit / after       -> 200 page
  POST  /crm/v3/objects/{type}/batch/read     properties / inputs [{"id"}]  -> 200 {"status", "results"...}
                                              (207 with `errors` naming the ids it does not have)
  POST  /crm/v3/objects/{type}/batch/archive  inputs [{"id"}]               -> 204, no body
  POST  /crm/v3/objects/contacts/gdpr-delete  objectId (idProperty "email")   -> 204, no body; the contact and
        its associations go, the notes and tickets themselves stay; an email no contact has is blocklisted
for {type} in contacts, notes, tickets; and the communication preferences v4:
  POST  /communication-preferences/v4/statuses/{email}/unsubscribe-all?channel=EMAIL[&verbose=true]
        -> 200 {"status": "COMPLETE", "results": [one NOT_SUBSCRIBED status per subscription type]...}
        (without verbose=true the results are empty, as HubSpot says) An object is {"id", "properties", "createdAt", "updatedAt",
"archived"}; errors are {"status": "error", "message", "correlationId", "category"}. A read that asks
for `associations` gets, per asked type with at least one, HubSpot's CollectionResponseAssociatedId:
"associations": {"contacts": {"results": [{"id": "10001", "type": "ticket_to_contact"}]}} - the key is
left out when the object has none of that type, as HubSpot leaves it out.

It is strict where HubSpot is strict: a private app's Bearer token (401), a property the portal
does not have or an option an enumeration does not list (400 VALIDATION_ERROR), a second contact
with the same email (409 naming the existing id), association types that do not fit the objects.
Emails are stored lower-cased, and a search filter matches the stored value exactly.

Two things HubSpot does that tests need to reach on purpose:
  - `custom_property=False`: the portal has no `chatbot_idempotency_key` on notes and tickets.
    Creating with it is refused as HubSpot refuses any unknown property. HubSpot does not document
    what a *search* on an unknown property answers; `strict_search` (default) refuses it with a
    generic 400, `strict_search=False` treats it as a property no object has.
  - `search_lag`: HubSpot's search index lags behind writes by seconds; an object created or
    changed less than `search_lag` seconds ago is not found by search (GET still finds it).

Run it alone with `python -m tests.fakes.hubspot --port N [--token T]`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ContextManager
from urllib.parse import unquote

from tests.fakes import FakePlatform, Reply, Request, json_reply, running, serve_until_terminated

OBJECTS_PATH = "/crm/v3/objects/"
PREFERENCES_PATH = "/communication-preferences/v4/statuses/"
# The email subscription types of a new portal (ids as HubSpot numbers them, names as it shows them).
SUBSCRIPTION_TYPES = {1: "Marketing Information", 2: "One to One"}
IDEMPOTENCY_PROPERTY = "chatbot_idempotency_key"
# A misbehave() mode of this fake only: a 200 whose JSON is not what the endpoint returns.
WRONG_SHAPE = "wrong_shape"
RETRY_AFTER_SECONDS = "1"

# Per object type: the property that says when it was created and last changed (contacts are older
# than the others and name them differently), the properties returned when none are asked for,
# the writable properties a new portal has, and the required ones.
CREATED = {"contacts": "createdate", "notes": "hs_createdate", "tickets": "createdate"}
MODIFIED = {"contacts": "lastmodifieddate", "notes": "hs_lastmodifieddate", "tickets": "hs_lastmodifieddate"}
DEFAULT_PROPERTIES = {
    "contacts": ("email", "firstname", "lastname"),
    "notes": (),
    "tickets": ("subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
                "hs_ticket_priority"),
}
WRITABLE = {
    "contacts": {"email", "firstname", "lastname", "phone", "company", "hubspot_owner_id"},
    "notes": {"hs_timestamp", "hs_note_body", "hubspot_owner_id", "hs_attachment_ids"},
    "tickets": {"subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority",
                "hs_ticket_category", "hubspot_owner_id"},
}
REQUIRED = {"contacts": set(), "notes": {"hs_timestamp"}, "tickets": {"subject", "hs_pipeline_stage"}}
# Enumerations, with the options of a new portal: the default Help Desk pipeline "0" and its stages
# 1 New, 2 Waiting on contact, 3 Waiting on us, 4 Closed.
OPTIONS = {
    ("tickets", "hs_pipeline"): {"0"},
    ("tickets", "hs_pipeline_stage"): {"1", "2", "3", "4"},
    ("tickets", "hs_ticket_priority"): {"LOW", "MEDIUM", "HIGH"},
    ("tickets", "hs_ticket_category"): {"PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"},
}
MULTIPLE_CHOICE = {("tickets", "hs_ticket_category")}  # several options, separated by ";"
# HUBSPOT_DEFINED association type ids: (from type, id) -> to type.
ASSOCIATION_TYPES = {("notes", 202): "contacts", ("contacts", 201): "notes",
                     ("tickets", 16): "contacts", ("contacts", 15): "tickets"}
SINGULAR = {"contacts": "contact", "notes": "note", "tickets": "ticket"}
# The inverse HubSpot records along with each association.
INVERSE_TYPES = {202: 201, 201: 202, 16: 15, 15: 16}
OPERATORS = {"EQ", "NEQ", "IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"}
MAX_FILTER_GROUPS, MAX_FILTERS_PER_GROUP = 5, 6
DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT = 10, 200
SEARCH_KEYS = {"filterGroups", "sorts", "query", "properties", "limit", "after"}
AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")


@dataclass
class StoredObject:
    object_type: str
    id: str
    properties: dict[str, str]
    created_at: str
    updated_at: str
    searchable_from: float  # time.monotonic() from when search finds it in its present state


@dataclass(frozen=True)
class Association:
    from_type: str
    from_id: str
    to_type: str
    to_id: str
    type_id: int
    category: str


class _Refusal(Exception):
    """Raised inside a request's handling: HubSpot's error answer, sent as it is."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


def _refuse(status: int, message: str, category: str, **extra: Any) -> _Refusal:
    return _Refusal(json_reply(status, error_body(message, category, **extra)))


def _invalid_properties(errors: list[dict]) -> _Refusal:
    """HubSpot's answer to property values it will not store: the details, as JSON, inside the message."""
    return _refuse(400, f"Property values were not valid: {json.dumps(errors)}", "VALIDATION_ERROR")


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeHubSpot(FakePlatform):
    def __init__(self, *, token: str | None = None, custom_property: bool = True, strict_search: bool = True,
                 search_lag: float = 0.0, portal_id: int = 4_711_000, port: int = 0) -> None:
        super().__init__(port)
        self.token = token or "pat-eu1-" + str(uuid.UUID(bytes=secrets.token_bytes(16)))
        self.custom_property = custom_property
        self.strict_search = strict_search
        self.search_lag = search_lag
        self.portal_id = portal_id
        self.associations: list[Association] = []
        # Emails unsubscribed from all email (communication preferences), and emails GDPR delete blocklisted.
        self.unsubscribed_from_all: set[str] = set()
        self.blocklisted: set[str] = set()
        self._objects: dict[str, dict[str, StoredObject]] = {kind: {} for kind in WRITABLE}
        self._ids = itertools.count(10_001)  # HubSpot's ids are numbers, sent as strings
        self._lock = threading.Lock()

    # --- For the tests: seeding and inspection ---

    def add_contact(self, email: str, firstname: str | None = None, lastname: str | None = None) -> str:
        """A contact as if created in HubSpot's UI earlier (already searchable); returns its id."""
        properties = {"email": email.lower(), "firstname": firstname, "lastname": lastname}
        with self._lock:
            stored = self._store("contacts", {k: v for k, v in properties.items() if v is not None})
            stored.searchable_from = 0.0
        return stored.id

    def objects(self, object_type: str) -> list[dict[str, Any]]:
        """Every stored object of the type in HubSpot's shape, with all its properties (as HubSpot's UI shows them)."""
        with self._lock:
            return [self._shaped(o, list(o.properties)) for o in self._objects[object_type].values()]

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[tuple[str, int]]:
        """(to id, association type id) for every association from the object to objects of `to_type`."""
        with self._lock:
            return [(a.to_id, a.type_id) for a in self.associations
                    if (a.from_type, a.from_id, a.to_type) == (from_type, from_id, to_type)]

    def notes_of_contact_with_email(self, email: str) -> list[dict[str, Any]]:
        """The notes on that contact's timeline, each flat: {"id", **properties}."""
        return self._of_contact_with_email("notes", email)

    def tickets_of_contact_with_email(self, email: str) -> list[dict[str, Any]]:
        """The tickets associated with that contact, each flat: {"id", **properties}."""
        return self._of_contact_with_email("tickets", email)

    def _of_contact_with_email(self, object_type: str, email: str) -> list[dict[str, Any]]:
        with self._lock:
            contact = self._contact_with_email(email.strip().lower())
            if contact is None:
                return []
            ids = [a.to_id for a in self.associations
                   if (a.from_type, a.from_id, a.to_type) == ("contacts", contact.id, object_type)]
            return [{"id": i, **self._objects[object_type][i].properties} for i in ids]

    # --- FakePlatform ---

    def answer(self, request: Request) -> Reply:
        if request.header("Authorization") != f"Bearer {self.token}":
            return json_reply(401, error_body(AUTH_MESSAGE, "INVALID_AUTHENTICATION"))
        if self._mode == WRONG_SHAPE:
            return json_reply(200, {"status": "COMPLETE", "results": "not a list"})
        try:
            with self._lock:
                return self._route(request)
        except _Refusal as refusal:
            return refusal.reply

    def throttled(self, request: Request) -> Reply:
        body = {"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()), "policyName": "SECONDLY", "category": "RATE_LIMITS"}
        return json_reply(429, body, {"Retry-After": RETRY_AFTER_SECONDS})

    def internal_error(self) -> Reply:
        return json_reply(500, error_body("internal error", "INTERNAL_ERROR"))

    # --- The API ---

    def _route(self, request: Request) -> Reply:
        if request.path.startswith(PREFERENCES_PATH) and request.method == "POST":
            return self._unsubscribe_all(request)
        if not request.path.startswith(OBJECTS_PATH):
            raise _refuse(404, "resource not found", "OBJECT_NOT_FOUND")
        object_type, _, rest = request.path[len(OBJECTS_PATH):].partition("/")
        if object_type not in WRITABLE or rest.count("/") > (1 if rest.startswith("batch/") else 0):
            raise _refuse(404, f"Unable to infer object type from: {object_type}", "OBJECT_NOT_FOUND")
        if request.method == "POST" and rest == "":
            return json_reply(201, self._create(object_type, _json_body(request)))
        if request.method == "POST" and rest == "search":
            return json_reply(200, self._search(object_type, _json_body(request)))
        if request.method == "POST" and rest == "batch/read":
            return self._batch_read(object_type, _json_body(request))
        if request.method == "POST" and rest == "batch/archive":
            self._archive(object_type, _batch_ids(_json_body(request)))
            return Reply(204, b"")
        if request.method == "POST" and object_type == "contacts" and rest == "gdpr-delete":
            self._gdpr_delete(_json_body(request))
            return Reply(204, b"")
        if request.method == "GET" and rest:
            return json_reply(200, self._read(object_type, rest, request.query.get("properties"),
                                              request.query.get("associations")))
        if request.method == "PATCH" and rest:
            return json_reply(200, self._update(object_type, rest, _json_body(request)))
        raise _refuse(405, f"HTTP {request.method} is not supported by this endpoint", "VALIDATION_ERROR")

    def _create(self, object_type: str, body: dict) -> dict:
        properties = self._valid_properties(object_type, body.get("properties"), creating=True)
        associations = self._valid_associations(object_type, body.get("associations") or [])
        if object_type == "contacts" and "email" in properties:
            properties["email"] = properties["email"].lower()
            existing = self._contact_with_email(properties["email"])
            if existing:
                raise _refuse(409, f"Contact already exists. Existing ID: {existing.id}", "CONFLICT")
        stored = self._store(object_type, properties)
        for to_id, type_id, category in associations:
            self._associate(object_type, stored.id, to_id, type_id, category)
        return self._shaped(stored, None)

    def _read(self, object_type: str, object_id: str, properties: str | None, associations: str | None) -> dict:
        shaped = self._shaped(self._existing(object_type, object_id), properties.split(",") if properties else None)
        found = self._associations_of(object_type, object_id, associations.split(",") if associations else [])
        return {**shaped, "associations": found} if found else shaped

    def _associations_of(self, from_type: str, from_id: str, to_types: list[str]) -> dict[str, dict]:
        """HubSpot's `associations` of a read: per asked type that has any, {"results": [{"id", "type"}]}."""
        found = {}
        for to_type in to_types:
            results = [{"id": a.to_id, "type": f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"}
                       for a in self.associations
                       if (a.from_type, a.from_id, a.to_type) == (from_type, from_id, to_type)]
            if results:
                found[to_type] = {"results": results}
        return found

    def _update(self, object_type: str, object_id: str, body: dict) -> dict:
        stored = self._existing(object_type, object_id)
        changes = self._valid_properties(object_type, body.get("properties"), creating=False)
        if object_type == "contacts" and "email" in changes:
            changes["email"] = changes["email"].lower()
            other = self._contact_with_email(changes["email"])
            if other and other.id != stored.id:
                raise _refuse(409, f"Contact already exists. Existing ID: {other.id}", "CONFLICT")
        stored.properties.update(changes)
        stored.updated_at = stored.properties[MODIFIED[object_type]] = _now_iso()
        stored.searchable_from = time.monotonic() + self.search_lag
        return self._shaped(stored, None)

    def _search(self, object_type: str, body: dict) -> dict:
        unknown = set(body) - SEARCH_KEYS
        if unknown:
            raise _refuse(400, f"Invalid input JSON: unrecognized field(s) {sorted(unknown)}", "VALIDATION_ERROR")
        groups = self._valid_filter_groups(object_type, body.get("filterGroups") or [])
        limit = body.get("limit", DEFAULT_SEARCH_LIMIT)
        if not isinstance(limit, int) or not 0 < limit <= MAX_SEARCH_LIMIT:
            raise _refuse(400, f"limit must be between 1 and {MAX_SEARCH_LIMIT}", "VALIDATION_ERROR")
        after = str(body.get("after") or "0")
        if not after.isdigit():
            raise _refuse(400, f"after must be a paging cursor from a previous page, not {after!r}", "VALIDATION_ERROR")
        start = int(after)
        now = time.monotonic()
        found = [o for o in self._objects[object_type].values()
                 if o.searchable_from <= now and (not groups or any(_matches(o, g) for g in groups))]
        page = found[start:start + limit]
        asked = body.get("properties") or None
        answer: dict[str, Any] = {"total": len(found), "results": [self._shaped(o, asked) for o in page]}
        if start + limit < len(found):
            answer["paging"] = {"next": {"after": str(start + limit)}}
        return answer

    def _batch_read(self, object_type: str, body: dict) -> Reply:
        asked = body.get("properties") or None
        ids = _batch_ids(body)
        found = [self._objects[object_type][i] for i in ids if i in self._objects[object_type]]
        missing = [i for i in ids if i not in self._objects[object_type]]
        now = _now_iso()
        answer: dict[str, Any] = {"status": "COMPLETE", "results": [self._shaped(o, asked) for o in found],
                                  "startedAt": now, "completedAt": now}
        if not missing:
            return json_reply(200, answer)
        # HubSpot answers a partly failed batch with 207 Multi-Status and names the ids it lacks.
        answer.update(numErrors=1, errors=[{"status": "error", "category": "OBJECT_NOT_FOUND",
                                            "message": "Could not get some objects, they may be deleted or not exist.",
                                            "context": {"ids": missing}}])
        return json_reply(207, answer)

    def _archive(self, object_type: str, ids: list[str]) -> None:
        """To the recycle bin: gone from reads and search, and from every association."""
        for object_id in ids:
            self._objects[object_type].pop(object_id, None)
        self.associations = [a for a in self.associations
                             if (a.from_type, a.from_id) not in {(object_type, i) for i in ids}
                             and (a.to_type, a.to_id) not in {(object_type, i) for i in ids}]

    def _gdpr_delete(self, body: dict) -> None:
        object_id = body.get("objectId")
        if not isinstance(object_id, str) or not object_id:
            raise _refuse(400, "Invalid input JSON: objectId is required", "VALIDATION_ERROR")
        if body.get("idProperty") == "email":
            contact = self._contact_with_email(object_id.lower())
            if contact is None:
                self.blocklisted.add(object_id.lower())
                return
            object_id = contact.id
        self._existing("contacts", object_id)
        self._archive("contacts", [object_id])

    def _unsubscribe_all(self, request: Request) -> Reply:
        subscriber, _, action = request.path[len(PREFERENCES_PATH):].partition("/")
        if action != "unsubscribe-all":
            raise _refuse(404, "resource not found", "OBJECT_NOT_FOUND")
        if request.query.get("channel") != "EMAIL":
            raise _refuse(400, "channel is required; the only supported channel is EMAIL", "VALIDATION_ERROR")
        email = unquote(subscriber).lower()
        self.unsubscribed_from_all.add(email)
        now = _now_iso()
        results = [{"channel": "EMAIL", "status": "NOT_SUBSCRIBED", "subscriberIdString": email,
                    "subscriptionId": subscription_id, "subscriptionName": name, "source": "Public API",
                    "timestamp": now, "legalBasis": None, "legalBasisExplanation": None}
                   for subscription_id, name in SUBSCRIPTION_TYPES.items()]
        verbose = request.query.get("verbose") == "true"
        return json_reply(200, {"status": "COMPLETE", "results": results if verbose else [],
                                "startedAt": now, "completedAt": now})

    # --- Checks ---

    def _known(self, object_type: str) -> set[str]:
        custom = {IDEMPOTENCY_PROPERTY} if self.custom_property and object_type != "contacts" else set()
        return WRITABLE[object_type] | custom

    def _valid_properties(self, object_type: str, properties: Any, *, creating: bool) -> dict[str, str]:
        if not isinstance(properties, dict):
            raise _refuse(400, "Invalid input JSON: properties must be an object", "VALIDATION_ERROR")
        errors, valid = [], {}
        for name, raw in properties.items():
            problem = self._property_problem(object_type, name, raw)
            if problem:
                errors.append(self._validation_entry(name, *problem))
            else:
                valid[name] = _property_value(raw)
        if creating:
            errors += [self._validation_entry(name, "REQUIRED", f'Property "{name}" is required')
                       for name in sorted(REQUIRED[object_type] - {k for k, v in valid.items() if v})]
        if errors:
            raise _invalid_properties(errors)
        return valid

    def _property_problem(self, object_type: str, name: str, raw: Any) -> tuple[str, str] | None:
        if name not in self._known(object_type):
            return "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
        if isinstance(raw, (dict, list)):
            return "INVALID_VALUE", f'Property "{name}" takes a single value'
        options = OPTIONS.get((object_type, name))
        chosen = str(raw).split(";") if (object_type, name) in MULTIPLE_CHOICE else [str(raw)]
        if options and raw not in (None, "") and not set(chosen) <= options:
            return "INVALID_OPTION", f"{raw} was not one of the allowed options: {sorted(options)}"
        if name == "hs_timestamp" and not _is_timestamp(str(raw)):
            return "INVALID_DATE", f"{raw} is not a valid timestamp: a UTC ISO 8601 date-time or epoch milliseconds"
        return None

    def _validation_entry(self, name: str, error: str, message: str) -> dict[str, Any]:
        return {"isValid": False, "message": message, "error": error, "name": name,
                "localizedErrorMessage": message, "portalId": self.portal_id}

    def _valid_associations(self, object_type: str, associations: Any) -> list[tuple[str, int, str]]:
        if not isinstance(associations, list):
            raise _refuse(400, "Invalid input JSON: associations must be a list", "VALIDATION_ERROR")
        valid = []
        for association in associations:
            try:
                to_id = str(association["to"]["id"])
                types = [(int(t["associationTypeId"]), t["associationCategory"]) for t in association["types"]]
            except (KeyError, TypeError, ValueError):
                raise _refuse(400, "Invalid input JSON: an association needs to.id and types", "VALIDATION_ERROR")
            for type_id, category in types:
                to_type = ASSOCIATION_TYPES.get((object_type, type_id))
                if category != "HUBSPOT_DEFINED" or to_type is None:
                    raise _refuse(400, f"{category} {type_id} is not a valid association type from {object_type}",
                                  "VALIDATION_ERROR")
                if to_id not in self._objects[to_type]:
                    raise _refuse(400, f"No {to_type} with id {to_id} exists to associate with", "VALIDATION_ERROR")
                valid.append((to_id, type_id, category))
        return valid

    def _valid_filter_groups(self, object_type: str, groups: Any) -> list[list[dict]]:
        if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
            raise _refuse(400, f"filterGroups must be a list of at most {MAX_FILTER_GROUPS}", "VALIDATION_ERROR")
        checked = []
        for group in groups:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
                raise _refuse(400, f"a filter group holds at most {MAX_FILTERS_PER_GROUP} filters", "VALIDATION_ERROR")
            for f in filters:
                self._check_filter(object_type, f)
            checked.append(filters)
        return checked

    def _check_filter(self, object_type: str, f: Any) -> None:
        if not isinstance(f, dict) or "propertyName" not in f or f.get("operator") not in OPERATORS:
            raise _refuse(400, "Invalid input JSON: Cannot build Filter, some of required attributes are not set "
                               "[propertyName, operator]", "VALIDATION_ERROR")
        readable = self._known(object_type) | {"hs_object_id", CREATED[object_type], MODIFIED[object_type]}
        if f["propertyName"] not in readable and self.strict_search:
            # HubSpot documents no answer for this; the generic one is the least a caller can count on.
            raise _refuse(400, "There was a problem with the request.", "VALIDATION_ERROR")

    # --- Storage ---

    def _store(self, object_type: str, properties: dict[str, str]) -> StoredObject:
        object_id, now = str(next(self._ids)), _now_iso()
        full = {**properties, "hs_object_id": object_id, CREATED[object_type]: now, MODIFIED[object_type]: now}
        stored = StoredObject(object_type, object_id, full, now, now, time.monotonic() + self.search_lag)
        self._objects[object_type][object_id] = stored
        return stored

    def _associate(self, from_type: str, from_id: str, to_id: str, type_id: int, category: str) -> None:
        to_type = ASSOCIATION_TYPES[(from_type, type_id)]
        self.associations.append(Association(from_type, from_id, to_type, to_id, type_id, category))
        self.associations.append(Association(to_type, to_id, from_type, from_id, INVERSE_TYPES[type_id], category))

    def _existing(self, object_type: str, object_id: str) -> StoredObject:
        stored = self._objects[object_type].get(object_id)
        if stored is None:
            raise _refuse(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND",
                          context={"id": [object_id]})
        return stored

    def _contact_with_email(self, email: str) -> StoredObject | None:
        # Unlike search, HubSpot's uniqueness check sees every contact at once: hence the 409 race.
        return next((c for c in self._objects["contacts"].values() if c.properties.get("email") == email), None)

    def _shaped(self, stored: StoredObject, asked: list[str] | None) -> dict[str, Any]:
        """HubSpot's object: the properties asked for (null when unset) or the type's defaults, plus ids and dates."""
        always = ("hs_object_id", CREATED[stored.object_type], MODIFIED[stored.object_type])
        if not asked:
            names = [*DEFAULT_PROPERTIES[stored.object_type], *always]
        else:
            # A property the portal does not have is left out, not refused.
            names = [n for n in asked if n in self._known(stored.object_type)] + list(always)
        return {
            "id": stored.id,
            "properties": {name: stored.properties.get(name) for name in names},
            "createdAt": stored.created_at,
            "updatedAt": stored.updated_at,
            "archived": False,
        }


def _batch_ids(body: dict) -> list[str]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("id") for i in inputs):
        raise _refuse(400, "Invalid input JSON: inputs must be a list of {\"id\"}", "VALIDATION_ERROR")
    if len(inputs) > 100:
        raise _refuse(400, "Too many inputs: at most 100 per batch", "VALIDATION_ERROR")
    return [str(i["id"]) for i in inputs]


def _json_body(request: Request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise _refuse(400, f"Invalid input JSON on line 1: {exc}", "VALIDATION_ERROR")
    if not isinstance(body, dict):
        raise _refuse(400, "Invalid input JSON: expected an object", "VALIDATION_ERROR")
    return body


def _property_value(raw: Any) -> str:
    """HubSpot keeps every property value as a string; true and false are spelled in lower case."""
    if raw is None:
        return ""
    return str(raw).lower() if isinstance(raw, bool) else str(raw)


def _is_timestamp(value: str) -> bool:
    if value.isdigit():
        return True
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).utcoffset() is not None
    except ValueError:
        return False


def _matches(stored: StoredObject, filters: list[dict]) -> bool:
    """All filters of a group must hold (the groups are ORed by the caller)."""
    return all(_holds(stored.properties.get(f["propertyName"]), f) for f in filters)


def _holds(value: str | None, f: dict) -> bool:
    operator = f["operator"]
    if operator == "HAS_PROPERTY":
        return value not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return value in (None, "")
    if operator == "IN":
        return value in {str(v) for v in f.get("values") or []}
    equal = value == str(f.get("value"))
    return equal if operator == "EQ" else not equal


def running_hubspot_fake(**options: Any) -> ContextManager[FakeHubSpot]:
    """A started fake (keywords as FakeHubSpot's): `.base_url`, `.token`, `.requests`, `.misbehave(mode)`.

    Stopped on exit."""
    return running(FakeHubSpot(**options))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", help="the private app token to accept (default: a random one, printed)")
    parser.add_argument("--without-custom-property", action="store_true",
                        help=f"a portal where nobody created {IDEMPOTENCY_PROPERTY} on notes and tickets")
    options = parser.parse_args()
    fake = FakeHubSpot(token=options.token, port=options.port, custom_property=not options.without_custom_property)
    serve_until_terminated(fake, {"token": fake.token})


if __name__ == "__main__":
    main()
