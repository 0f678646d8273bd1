"""Reading request input. Every problem becomes a 400 or 422 naming the field, never a 500.

Length limits match the columns in tables.py, so nothing valid here can
overflow a PostgreSQL column.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable
from urllib.parse import urlsplit

from sanic import Request

from sandbox_backend.errors import InvalidRequest, ValidationFailed

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
# Far beyond any real list, small enough for every database's OFFSET.
MAX_OFFSET = 1_000_000


def json_object(request: Request) -> dict:
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest("The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


def required_string(body: dict, name: str, max_length: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"'{name}' is required.", {name: "required, a non-empty string"})
    value = value.strip()
    if len(value) > max_length:
        raise ValidationFailed(f"'{name}' is too long.", {name: f"at most {max_length} characters"})
    if not _storable(value):
        raise ValidationFailed(f"'{name}' contains characters that cannot be stored.", {name: "invalid characters"})
    return value


def optional_string(body: dict, name: str, max_length: int) -> str | None:
    return None if body.get(name) in (None, "") else required_string(body, name, max_length)


def one_of(body: dict, name: str, choices: tuple[str, ...]) -> str:
    value = body.get(name)
    if value not in choices:
        raise ValidationFailed(f"'{name}' must be one of {', '.join(choices)}.", {name: f"one of {', '.join(choices)}"})
    return value


def email(body: dict, name: str) -> str:
    value = required_string(body, name, 254).lower()
    if not EMAIL.match(value):
        raise ValidationFailed(f"'{name}' is not an email address.", {name: "not an email address"})
    return value


def optional_email(body: dict, name: str) -> str | None:
    return None if body.get(name) in (None, "") else email(body, name)


def whole_number(body: dict, name: str, low: int, high: int) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(f"'{name}' must be a whole number from {low} to {high}.", {name: f"{low}..{high}"})
    return value


# Postcodes of the countries the shop knows best; any other shipping country gets a loose check.
POSTCODES = {
    "DE": re.compile(r"^\d{5}$"), "AT": re.compile(r"^\d{4}$"), "BE": re.compile(r"^\d{4}$"),
    "NL": re.compile(r"^\d{4} ?[A-Z]{2}$"), "FR": re.compile(r"^\d{5}$"), "IT": re.compile(r"^\d{5}$"),
    "ES": re.compile(r"^\d{5}$"), "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
}
ANY_POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,9}$")
MAX_RETURN_ITEMS = 50


def address(body: dict, name: str, countries: tuple[str, ...]) -> dict:
    """A shipping address, with every problem named at once ("address.postal_code"), so it is fixed in one go."""
    value = body.get(name)
    if not isinstance(value, dict):
        raise ValidationFailed(f"'{name}' must be an object.",
                               {name: "an object with name, line1, line2, postal_code, city and country"})
    problems: dict[str, str] = {}
    read = partial(collect, problems, f"{name}.")
    country = read(lambda: _country(value, countries))
    clean = {"name": read(lambda: required_string(value, "name", 100)),
             "line1": read(lambda: required_string(value, "line1", 200)),
             "line2": read(lambda: optional_string(value, "line2", 200)) or "",
             "postal_code": read(lambda: _postal_code(value, country)),
             "city": read(lambda: required_string(value, "city", 100)),
             "country": country}
    if problems:
        raise ValidationFailed(f"'{name}' is not a complete address the shop delivers to.", problems)
    return clean


def return_items(body: dict, name: str, reasons: tuple[str, ...], conditions: tuple[str, ...]) -> list[dict]:
    """[{sku, quantity, reason, condition}], each SKU once; every problem named ("items[1].quantity")."""
    value = body.get(name)
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RETURN_ITEMS:
        raise ValidationFailed(f"'{name}' must list 1 to {MAX_RETURN_ITEMS} items.",
                               {name: f"a list of 1 to {MAX_RETURN_ITEMS} items"})
    problems: dict[str, str] = {}
    items, seen = [], set()
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            problems[where] = "an object with sku, quantity, reason and condition"
            continue
        read = partial(collect, problems, f"{where}.")
        parsed = {"sku": read(lambda: required_string(item, "sku", 80)),
                  "quantity": read(lambda: whole_number(item, "quantity", 1, 99)),
                  "reason": read(lambda: one_of(item, "reason", reasons)),
                  "condition": read(lambda: one_of(item, "condition", conditions))}
        if parsed["sku"] is not None and parsed["sku"] in seen:
            problems[f"{where}.sku"] = "listed twice"
        seen.add(parsed["sku"])
        items.append(parsed)
    if problems:
        raise ValidationFailed(f"'{name}' has items that are not valid.", problems)
    return items


def date_time(body: dict, name: str) -> datetime | None:
    """An ISO 8601 date-time with its offset, as naive UTC (how the tables keep times); None when absent.

    Without an offset the moment would depend on whose clock was meant, so it is refused.
    """
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
        if moment is not None and moment.utcoffset() is not None:
            return moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        pass
    raise ValidationFailed(f"'{name}' must be a date-time with its offset, like 2026-11-20T14:05:00Z.",
                           {name: "a date-time with its offset, like 2026-11-20T14:05:00Z"})


def links(body: dict, name: str, max_items: int, max_length: int) -> list[str]:
    """A list of http(s) links, each problem named ("attachments[1]"); none when the field is absent."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise ValidationFailed(f"'{name}' must be a list of at most {max_items} links.",
                               {name: f"a list of at most {max_items} links"})
    problems = {f"{name}[{index}]": problem for index, link in enumerate(value)
                if (problem := _link_problem(link, max_length))}
    if problems:
        raise ValidationFailed(f"'{name}' has links that are not valid.", problems)
    return value


def _link_problem(link: Any, max_length: int) -> str | None:
    if not isinstance(link, str):
        return "an http or https link"
    if len(link) > max_length:
        return f"at most {max_length} characters"
    # Whitespace and control characters would let a link break out of the text it is shown in.
    if not _storable(link) or any(character.isspace() or not character.isprintable() for character in link):
        return "no spaces or control characters"
    try:
        parts = urlsplit(link)
        linked_host = parts.hostname
    except ValueError:  # e.g. a broken [IPv6] host
        return "an http or https link"
    # Only web links: javascript:, data: or file: links must never reach a person's screen as clickable.
    return None if parts.scheme in ("http", "https") and linked_host else "an http or https link"


def collect(problems: dict[str, str], prefix: str, read: Callable[[], Any]) -> Any:
    """What `read` returns, or None with its field problems noted under `prefix`: to name all problems at once."""
    try:
        return read()
    except ValidationFailed as error:
        problems.update({prefix + field: problem for field, problem in error.fields.items()})
        return None


def _country(value: dict, countries: tuple[str, ...]) -> str:
    country = value.get("country")
    country = country.strip().upper() if isinstance(country, str) else None
    if country not in countries:
        raise ValidationFailed("The shop does not deliver there.", {"country": f"one of {', '.join(countries)}"})
    return country


def _postal_code(value: dict, country: str | None) -> str:
    code = " ".join(required_string(value, "postal_code", 10).upper().split())
    if country and not POSTCODES.get(country, ANY_POSTCODE).match(code):
        raise ValidationFailed("Not a postcode of that country.", {"postal_code": f"not a postcode of {country}"})
    return code


def query_string(request: Request, name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if len(value) > 254 or not _storable(value):
        raise InvalidRequest(f"Query parameter '{name}' is not valid.", {name: "at most 254 valid characters"})
    return value


def query_email(request: Request, name: str, required: bool = False) -> str | None:
    value = query_string(request, name)
    if value is None and not required:
        return None
    if value is None or not EMAIL.match(value):
        raise InvalidRequest(f"Query parameter '{name}' must be an email address.", {name: "an email address"})
    return value.lower()


def paging(request: Request) -> tuple[int, int]:
    """(limit, offset) from ?limit= and the opaque ?cursor= that page_cursor() gave out."""
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_LIMIT}.", {"limit": f"1..{MAX_LIMIT}"})
    cursor = request.args.get("cursor")
    return int(raw_limit), 0 if cursor is None else _offset(cursor)


def page_cursor(next_offset: int | None) -> str | None:
    return None if next_offset is None else base64.urlsafe_b64encode(f"o:{next_offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "o" and number.isascii() and number.isdigit() and int(number) <= MAX_OFFSET:
            return int(number)
    except (ValueError, UnicodeError):  # binascii.Error is a ValueError
        pass
    raise InvalidRequest("'cursor' is not one this API gave out.", {"cursor": "use next_cursor of a previous page"})


def _storable(value: str) -> bool:
    """False for what a database would reject: NUL characters and lone surrogates."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
