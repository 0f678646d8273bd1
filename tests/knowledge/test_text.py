"""Reading what customers type: countries, payment methods, typos, synonyms."""

from __future__ import annotations

import pytest

from babel import Locale

from knowledge.countries import COUNTRIES, find_country, resolve_country
from knowledge.retrieval import search_index, understand
from knowledge.text import Analyzer, said_list, stem, term, words


@pytest.mark.parametrize("text, code", [
    ("shipping to the UK", "GB"), ("ship to great britain", "GB"), ("Deutschland", "DE"), ("Österreich", "AT"),
    ("do you ship to the US", "US"), ("united states of america", "US"), ("holland", "NL"),
    ("austira", "AT"), ("germny", "DE"), ("the czech republic", "CZ"), ("bosnia and herzegovina", "BA"),
    ("Polska", "PL"), ("Sverige", "SE"), ("España", "ES"), ("Suomi", "FI"), ("Aotearoa", "NZ"),
])
def test_countries_by_name_alias_and_typo(text, code):
    assert find_country(words(text))[0].code == code


def test_every_country_is_recognised_by_its_english_name_in_cldr():
    # babel ships the Unicode CLDR's country names: the table must know the names it uses too.
    english = Locale("en").territories
    unrecognised = {code: english[code] for code in COUNTRIES
                    if (find_country(words(english[code])) or (None,))[0] != COUNTRIES[code]}
    assert unrecognised == {}


@pytest.mark.parametrize("text", [
    "can you ship it to us", "the returns portal", "a chat with a woman", "send me an email", "is it in stock",
])
def test_ordinary_words_are_no_countries(text):
    assert find_country(words(text)) is None


@pytest.mark.parametrize("value, code", [("DE", "DE"), ("gb", "GB"), ("UK", "GB"), ("Spain", "ES")])
def test_country_entities(value, code):
    assert resolve_country(value).code == code


@pytest.mark.parametrize("text, method_id", [
    ("can I pay with pay pal", "paypal"), ("do you take credit cards", "card"), ("amex?", "card"),
    ("cash on delivery", "cash-on-delivery"), ("by invoice", "klarna"), ("Apple Pay", "apple-pay"),
])
def test_payment_methods_by_alias(kb, text, method_id):
    assert understand(kb, text, None, {}).slots.payment_method.id == method_id


def test_a_gift_card_is_no_payment_card(kb):
    assert understand(kb, "can I return a gift card", None, {}).slots.payment_method.id == "gift-cards"


def test_stems_and_synonyms_meet():
    assert {term(w) for w in ["shipping", "shipped", "delivery", "deliveries", "postage", "parcels"]} == {"ship"}
    assert {term(w) for w in ["refund", "refunds", "refunded", "reimbursed"]} == {"refund"}
    assert {term(w) for w in ["guarantee", "warranty", "warranties"]} == {"warranty"}
    assert stem("charged") == stem("charge")


def test_typos_are_corrected_to_known_words_only(kb):
    analyzer = search_index(kb).analyzer
    assert analyzer.correct("shiping") == "shipping"
    assert analyzer.correct("retrun") == "return"
    assert analyzer.correct("change") == "change"  # a real word, not "charge"
    assert analyzer.correct("weekends") == "weekends"


def test_typo_correction_is_limited_to_close_words():
    analyzer = Analyzer({"exchange"})
    assert analyzer.correct("exchnage") == "exchange"
    assert analyzer.correct("xchange") == "exchange"
    assert analyzer.correct("exchangeable") == "exchangeable"  # another word, not a typo


def test_lists_read_naturally():
    assert said_list(["a"]) == "a"
    assert said_list(["a", "b"], "or") == "a or b"
    assert said_list(["PayPal", "a card (Visa, Mastercard)", "Klarna"], "or") == (
        "PayPal, a card (Visa, Mastercard) or Klarna")
    assert said_list(["€4.90 to Germany", "€7.90 to Austria, Belgium and Spain", "€12.90 to the UK"]) == (
        "€4.90 to Germany; €7.90 to Austria, Belgium and Spain; and €12.90 to the UK")
