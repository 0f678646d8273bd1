"""Card numbers, security codes and IBANs are masked; numbers customers need to type are not.

The card numbers are the card networks' published test numbers; the IBANs are the registry's examples.
"""

from __future__ import annotations

import pytest

from channels.payment_data import (
    CARD_PLACEHOLDER,
    IBAN_PLACEHOLDER,
    SECURITY_CODE_PLACEHOLDER,
    iban_valid,
    luhn_valid,
    mask_payment_data,
)

CARDS = [
    "4111 1111 1111 1111",      # Visa, groups of four
    "4012-8888-8888-1881",      # Visa, dashes
    "4222222222222",            # Visa, 13 digits
    "5555555555554444",         # Mastercard, no separators
    "2223 0031 2200 3222",      # Mastercard, 2-series
    "3782 822463 10005",        # Amex, 4-6-5
    "3714-496353-98431",        # Amex, dashes
    "6011 1111 1111 1117",      # Discover
    "3056 9309 0259 04",        # Diners, 14 digits
    "6200 0000 0000 0005",      # UnionPay
]
IBANS = [
    "DE89 3704 0044 0532 0130 00",
    "de89370400440532013000",
    "GB82 WEST 1234 5698 7654 32",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
    "AT61 1904 3002 3457 3201",
    "ES91 2100 0418 4502 0005 1332",
    "IT60 X054 2811 1010 0000 0123 456",
    "CH93 0076 2011 6238 5295 7",
    "BE68 5390 0754 7034",
    "PL61 1090 1014 0000 0712 1981 2874",
]
LEFT_AS_TYPED = [
    "where is my order 100234?",
    "my orders are 100231 and 100232",
    "call me on +49 170 1234567",
    "+44 20 7946 0958 is my number",
    "my phone: +1 (415) 555-2671",
    "+49 1512 3456789, or 0170 1234567",
    "send it to Gartenweg 3, 80331 München",
    "SW1A 1AA, London",
    "it should arrive on 2026-11-29 at 10:00",
    "I paid 129.90 EUR on 12/11",
    "the code is 483920",
    "case T-1042 please",
    "order 100234 was 3 items, 2 returned",
]


@pytest.mark.parametrize("card", CARDS)
def test_a_card_number_is_masked_in_a_sentence(card):
    masked = mask_payment_data(f"my card number is {card}, can you charge it?")
    assert masked.text == f"my card number is {CARD_PLACEHOLDER}, can you charge it?"
    assert masked.kinds == {"card"}


@pytest.mark.parametrize("iban", IBANS)
def test_an_iban_is_masked_with_or_without_spaces(iban):
    masked = mask_payment_data(f"refund it to {iban} please")
    assert masked.text == f"refund it to {IBAN_PLACEHOLDER} please"
    assert masked.kinds == {"iban"}


@pytest.mark.parametrize("text, code", [
    ("cvv 123", "123"), ("CVC: 987", "987"), ("my cvv2 is 456", "456"), ("security code: 1234", "1234"),
    ("Sicherheitscode 321", "321"), ("765 is the cvv", "765"),
])
def test_a_security_code_is_masked_next_to_its_name(text, code):
    masked = mask_payment_data(text)
    assert masked.text == text.replace(code, SECURITY_CODE_PLACEHOLDER)
    assert masked.kinds == {"security_code"}


@pytest.mark.parametrize("text", LEFT_AS_TYPED)
def test_order_numbers_phones_postcodes_and_dates_stay(text):
    assert mask_payment_data(text).text == text


def test_a_number_that_fails_the_luhn_check_is_no_card():
    assert mask_payment_data("4111 1111 1111 1112").text == "4111 1111 1111 1112"


def test_an_iban_with_a_wrong_check_is_not_masked_as_an_iban():
    assert "iban" not in mask_payment_data("GB82 WEST 1234 5698 7654 33").kinds


def test_an_order_number_next_to_a_card_number_stays():
    assert mask_payment_data("100234 4111 1111 1111 1111").text == f"100234 {CARD_PLACEHOLDER}"


def test_a_card_after_a_phone_number_is_still_masked():
    masked = mask_payment_data("+49 170 1234567 and 5555 5555 5555 4444")
    assert masked.text == f"+49 170 1234567 and {CARD_PLACEHOLDER}"


def test_everything_at_once():
    masked = mask_payment_data("card 4111111111111111 cvv 123, or DE89370400440532013000, order 100234")
    assert masked.text == (f"card {CARD_PLACEHOLDER} cvv {SECURITY_CODE_PLACEHOLDER}, or {IBAN_PLACEHOLDER}, "
                           "order 100234")
    assert masked.kinds == {"card", "security_code", "iban"}


def test_the_checks():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert iban_valid("DE89370400440532013000") and not iban_valid("DE89370400440532013001")
    assert not iban_valid("DE8937040044053201300")  # one character short for Germany
