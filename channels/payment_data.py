"""Payment data in what customers type: card numbers, card security codes and IBANs, found and masked.

Found means checked, not guessed from the shape alone: a card number is 13 to 19 digits (spaces or dashes
between groups allowed) that pass the Luhn check, an IBAN has its country's length and passes the mod-97
check, and a security code counts only next to a word that names it ("cvv 123", "security code: 1234").
Order numbers (6 digits), phone numbers written with "+", postcodes and dates are left as they are.
The Luhn and mod-97 checks are a few lines each, so they are written here rather than pulling a validation
library (python-stdnum, schwifty) into the locked set for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CARD_PLACEHOLDER = "[card number removed]"
SECURITY_CODE_PLACEHOLDER = "[security code removed]"
IBAN_PLACEHOLDER = "[IBAN removed]"

CARD_DIGITS = range(13, 20)
# Groups of digits joined by spaces or dashes ("4111 1111-1111 1111"); a "+" in front makes it a phone number.
DIGIT_RUN = re.compile(r"(?<![\w+])(\+\s?)?\d+(?:[ \t-]{1,3}\d+)*(?!\w)")
DIGIT_GROUP = re.compile(r"\d+")

_CODE_WORDS = (r"cvv2?|cvc2?|cvn|cav2|cid|csc|security\s+code|card\s+verification\s+(?:code|value|number)"
               r"|sicherheitscode|prüfnummer|prüfziffer|kartenprüfnummer")
# The code within a few characters of its name, on either side, never inside a longer number.
SECURITY_CODE_AFTER_NAME = re.compile(rf"(?i)\b(?:{_CODE_WORDS})\b[^\d\n]{{0,12}}?(?<!\d)(\d{{3,4}})(?![\d])")
SECURITY_CODE_BEFORE_NAME = re.compile(rf"(?i)(?<![\d+])(\d{{3,4}})(?![\d])[^\d\n]{{0,12}}?\b(?:{_CODE_WORDS})\b")

IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")
# The IBAN registry's length per country (SWIFT, ISO 13616).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
IBAN_SEPARATORS = " -"


@dataclass(frozen=True)
class Masked:
    text: str
    # What was removed: any of "iban", "card", "security_code".
    kinds: frozenset[str]


def mask_payment_data(text: str) -> Masked:
    """`text` with every IBAN, card number and named security code replaced by a placeholder."""
    kinds = set()
    # IBANs first: their digits could otherwise pass for a card number.
    for kind, mask in (("iban", _mask_ibans), ("card", _mask_cards), ("security_code", _mask_security_codes)):
        masked = mask(text)
        if masked != text:
            kinds.add(kind)
        text = masked
    return Masked(text, frozenset(kinds))


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """`iban` (compact, upper case) has its country's length and a correct mod-97 check."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


# ---- cards

def _mask_cards(text: str) -> str:
    return DIGIT_RUN.sub(_mask_cards_in_run, text)


def _mask_cards_in_run(run: re.Match) -> str:
    """Card numbers among the run's groups: "100234 4111 1111 1111 1111" holds an order number and a card."""
    groups = list(DIGIT_GROUP.finditer(run.group(0)))
    # A phone number's leading groups ("+49 170 …") are never the start of a card number.
    first = 1 if run.group(1) else 0
    pieces, cursor, index = [], 0, first
    while index < len(groups):
        end = _longest_card_from(groups, index)
        if end is None:
            index += 1
            continue
        pieces += [run.group(0)[cursor:groups[index].start()], CARD_PLACEHOLDER]
        cursor, index = groups[end].end(), end + 1
    return "".join(pieces) + run.group(0)[cursor:]


def _longest_card_from(groups: list[re.Match], start: int) -> int | None:
    """The last group of the longest Luhn-valid card number that starts at group `start`."""
    found, digits = None, ""
    for end in range(start, len(groups)):
        digits += groups[end].group(0)
        if len(digits) > CARD_DIGITS.stop - 1:
            break
        if len(digits) in CARD_DIGITS and luhn_valid(digits):
            found = end
    return found


# ---- security codes

def _mask_security_codes(text: str) -> str:
    for pattern in (SECURITY_CODE_AFTER_NAME, SECURITY_CODE_BEFORE_NAME):
        text = pattern.sub(_mask_code, text)
    return text


def _mask_code(match: re.Match) -> str:
    start, end = match.span(1)
    whole = match.group(0)
    offset = match.start()
    return whole[:start - offset] + SECURITY_CODE_PLACEHOLDER + whole[end - offset:]


# ---- IBANs

def _mask_ibans(text: str) -> str:
    pieces, cursor = [], 0
    for start in IBAN_START.finditer(text):
        if start.start() < cursor:
            continue
        end = _iban_end(text, start.start())
        if end is not None:
            pieces += [text[cursor:start.start()], IBAN_PLACEHOLDER]
            cursor = end
    return "".join(pieces) + text[cursor:]


def _iban_end(text: str, start: int) -> int | None:
    """Where the IBAN starting at `start` ends ("DE89 3704 0044 0532 0130 00", spaced or not), or None."""
    length = IBAN_LENGTHS.get(text[start:start + 2].upper())
    if length is None:
        return None
    chars, position = [], start
    while position < len(text) and len(chars) < length:
        char = text[position]
        if _alphanumeric(char):
            chars.append(char.upper())
        elif not (char in IBAN_SEPARATORS and _alphanumeric(text[position + 1:position + 2])):
            break
        position += 1
    # Glued to more letters or digits, it is something longer than an IBAN.
    if _alphanumeric(text[position:position + 1]):
        return None
    return position if iban_valid("".join(chars)) else None


def _alphanumeric(char: str) -> bool:
    return len(char) == 1 and char.isascii() and char.isalnum()
