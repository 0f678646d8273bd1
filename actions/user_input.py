"""Normalising what users type for the things forms ask for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
ORDER_NUMBER = re.compile(r"^#?\s*(\d{4,10})$")
LOGIN_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def normalized_email(text: str | None) -> str | None:
    candidate = (text or "").strip().strip(".,;").lower()
    return candidate if EMAIL.match(candidate) else None


def normalized_order_number(text: str | None) -> str | None:
    match = ORDER_NUMBER.match((text or "").strip())
    return match.group(1) if match else None


def login_code_in(text: str | None) -> str | None:
    match = LOGIN_CODE.search((text or "").replace(" ", ""))
    return match.group(1) if match else None


# ---- Service requests: what customers type for a new address, a delivery day, items and reasons.

COUNTRIES = {
    "de": "DE", "germany": "DE", "deutschland": "DE",
    "at": "AT", "austria": "AT", "österreich": "AT",
    "gb": "GB", "uk": "GB", "united kingdom": "GB", "great britain": "GB", "england": "GB",
    "it": "IT", "italy": "IT", "italia": "IT",
    "fr": "FR", "france": "FR",
    "nl": "NL", "netherlands": "NL", "holland": "NL",
    "us": "US", "usa": "US", "united states": "US",
}
POSTCODES = {
    "DE": r"\d{5}", "AT": r"\d{4}", "IT": r"\d{5}", "FR": r"\d{5}", "US": r"\d{5}(?:-\d{4})?",
    "NL": r"\d{4}\s?[A-Za-z]{2}", "GB": r"[A-Za-z]{1,2}\d[A-Za-z\d]?\s?\d[A-Za-z]{2}",
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")


@dataclass(frozen=True)
class TypedAddress:
    line1: str
    postal_code: str
    city: str
    country: str


def address_in(text: str | None, default_country: str | None) -> TypedAddress | None:
    """ "Hauptstr. 5, 10115 Berlin" or "5 High St, London SW1A 1AA, UK": street, postcode and city, comma-separated.

    The country may close the address; without it the order's own country is meant.
    """
    parts = [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]
    country = COUNTRIES.get(parts[-1].casefold()) if parts else None
    if country:
        parts = parts[:-1]
    country = country or default_country
    if len(parts) < 2 or country not in POSTCODES:
        return None
    place = " ".join(parts[1:])
    postcode = re.search(rf"(?<![\w]){POSTCODES[country]}(?![\w])", place)
    if not postcode or not re.search(r"\d", parts[0]):
        return None
    city = (place[: postcode.start()] + place[postcode.end():]).strip(" ,")
    if not city:
        return None
    return TypedAddress(parts[0], postcode.group(0).upper(), city, country)


def date_in(text: str | None, today: date) -> date | None:
    """A delivery day as people type it: 2026-12-03, 3.12., 3 December, December 3rd, tomorrow, (next) friday."""
    said = (text or "").strip().casefold()
    if "tomorrow" in said:
        return today + timedelta(days=1)
    for index, weekday in enumerate(WEEKDAYS):
        if weekday in said or re.search(rf"\b{weekday[:3]}\b", said):
            ahead = (index - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead + (7 if "after next" in said else 0))
    iso = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", said)
    if iso:
        return _valid_date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    numeric = re.search(r"\b(\d{1,2})[./](\d{1,2})\.?(?:[./](\d{2,4}))?\b", said)
    if numeric:
        return _next_occurrence(today, int(numeric.group(2)), int(numeric.group(1)), numeric.group(3))
    for index, month in enumerate(MONTHS, start=1):
        named = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{month[:3]}[a-z]*|{month[:3]}[a-z]*\s+(\d{{1,2}})", said)
        if named:
            return _next_occurrence(today, index, int(named.group(1) or named.group(2)), None)
    return None


def chosen(value: object, choices: dict[str, tuple[str, ...]]) -> str | None:
    """A button's value as it is, or the choice a typed answer names."""
    said = value[0] if isinstance(value, list) and value else value
    return said if said in choices else choice_in(str(said or ""), choices)


def choice_in(text: str | None, choices: dict[str, tuple[str, ...]]) -> str | None:
    """The key of the first choice one of whose words (or prefixes of them) the text contains."""
    said = (text or "").casefold()
    for key, words in choices.items():
        if any(re.search(rf"\b{re.escape(word)}", said) for word in words):
            return key
    return None


def _next_occurrence(today: date, month: int, day: int, year: str | None) -> date | None:
    if year:
        return _valid_date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    this_year = _valid_date(today.year, month, day)
    if this_year and this_year >= today:
        return this_year
    return _valid_date(today.year + 1, month, day)


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
