"""Normalising what users type for the things forms ask for.

Emails, order numbers, one-time codes and delivery days follow the rules the NLU extracts them with
(nlu_components/formats.py): a value the assistant understood in a sentence is one its form accepts, and a
value typed on its own when the form asked for it is always taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The forms read typed emails, order numbers, one-time codes and delivery days with these (imported from here).
from nlu_components.formats import date_in, login_code_in, normalized_email, normalized_order_number


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
