"""Answers computed from the shop's tables: shipping zones and payment methods."""

from __future__ import annotations

import pytest

from knowledge import LEXICAL_ONLY, KnowledgeBaseError, answer, default_knowledge_base
from knowledge.computed import business_days, money
from knowledge.countries import COUNTRIES


def shipping_entry(kb):
    return next(e for e in kb.entries if e.id == "shipping-to-country")


# ---------------------------------------------------------------- shipping to a country

def test_price_and_time_for_austria():
    result = answer("how much is shipping to austria")
    assert result.text == ("Standard shipping to Austria costs €7.90 with DHL or UPS and takes 2–5 business days; "
                           "it's free on orders from €100. Express shipping with UPS costs €19.90 (1–3 business days).")
    assert result.source_url == "https://shop.example/policies/shipping#eu"
    assert result.title == "Shipping to Austria"


@pytest.mark.parametrize("template", ["how much is shipping to {}", "how long does delivery to {} take",
                                      "do you ship to {}?"])
def test_every_country_of_every_zone_is_answered_from_its_zone(kb, template):
    for zone in kb.zones:
        standard = zone.default_option
        for code in zone.countries:
            country = COUNTRIES[code]
            result = answer(template.format(country.short_name), knowledge_base=kb)
            assert result.entry_id == "shipping-to-country", (template, code)
            assert result.source_url == zone.source_url
            assert f"to {country.name} costs {money(standard.price, 'EUR')}" in result.text
            assert business_days(standard.business_days) in result.text
            assert result.confidence >= LEXICAL_ONLY.threshold


def test_the_answer_follows_the_table_not_a_text(kb_copy):
    kb_copy.replace("shipping.yml", 'price: "7.90", business_days: [2, 5], free_from: "100.00"',
                    'price: "8.50", business_days: [3, 4]')
    result = answer("shipping to austria?", knowledge_base=kb_copy.load())
    assert result.text.startswith(
        "Standard shipping to Austria costs €8.50 with DHL or UPS and takes 3–4 business days.")
    assert "free" not in result.text


def test_a_zone_note_is_added(kb):
    result = answer("what are your delivery costs to the UK", knowledge_base=kb)
    assert "costs €12.90 with DHL, DPD or GLS" in result.text
    assert result.text.endswith(kb.zone_for("GB").note)


def test_express_to_a_named_country(kb):
    result = answer("is next day delivery available in germany", knowledge_base=kb)
    assert result.entry_id == "shipping-to-country"
    assert "Express shipping with UPS costs €9.90 (1 business day)" in result.text


def test_a_more_specific_entry_beats_the_country_table(kb):
    assert answer("are customs fees included for deliveries to the UK", knowledge_base=kb).entry_id == "customs"


@pytest.mark.parametrize("question, name", [
    ("what are your delivery costs to Switzerland", "Switzerland"),
    ("shipping to Brasil?", "Brazil"),
    ("how much is delivery to australia", "Australia"),
    ("do you deliver to japan", "Japan"),
    ("can you send it to Hong Kong", "Hong Kong"),
    ("how long does express take to the czech republic", "the Czech Republic"),
    # Not the customs rules of the countries we do ship to, as if Norway were one of them:
    ("are customs fees included for deliveries to Norway", "Norway"),
])
def test_a_country_outside_every_zone_gets_we_dont_ship_there(kb, question, name):
    result = answer(question, knowledge_base=kb)
    assert result is not None, question
    assert result.text == (f"No, we don't deliver to {name}. We deliver to: Germany, Austria, "
                           f"Belgium, France, Italy, the Netherlands, Spain, the United Kingdom and the United States.")
    assert result.source_url == shipping_entry(kb).source_url
    assert result.confidence >= LEXICAL_ONLY.threshold


@pytest.mark.parametrize("value", ["UK", "GB", "United Kingdom", "great britain", ["UK"]])
def test_a_country_entity_in_any_form(kb, value):
    result = answer("how much is shipping there?", topic="shipping", entities={"country": value}, knowledge_base=kb)
    assert result.title == "Shipping to United Kingdom"
    assert "to the United Kingdom costs €12.90" in result.text
    assert result.source_url == kb.zone_for("GB").source_url


def test_the_entity_wins_over_a_country_in_the_text(kb):
    result = answer("shipping to france?", entities={"country": "DE"}, knowledge_base=kb)
    assert "to Germany" in result.text


def test_a_misspelt_country(kb):
    assert "to Austria" in answer("shiping to austira", knowledge_base=kb).text


def test_a_bare_country_needs_the_nlu_topic(kb):
    assert answer("and to Austria?", knowledge_base=kb) is None  # "I live in Austria" is not a question
    result = answer("and to Austria?", topic="shipping", knowledge_base=kb)
    assert "to Austria costs €7.90" in result.text


def test_the_country_list_comes_from_the_zones(kb, kb_copy):
    assert answer("which countries do you ship to", knowledge_base=kb).text.startswith(
        "We ship to Germany, Austria, Belgium, France, Italy, the Netherlands, Spain, the United Kingdom and "
        "the United States.")
    all_other_eu = "BG, CY, CZ, DK, EE, FI, GR, HR, HU, IE, LT, LU, LV, MT, PL, PT, RO, SE, SI, SK"
    kb_copy.replace("shipping.yml", "countries: [AT, BE, FR, IT, NL, ES]",
                    f"countries: [AT, BE, FR, IT, NL, ES, {all_other_eu}]")
    text = answer("which countries do you ship to", knowledge_base=kb_copy.load()).text
    assert text.startswith("We ship to all EU countries, the United Kingdom and the United States.")


def test_free_shipping_thresholds_come_from_the_zones(kb):
    assert answer("is there free delivery", knowledge_base=kb).text == (
        "Standard shipping is free on orders from €50 to Germany and €100 to Austria, Belgium, France, Italy, "
        "the Netherlands and Spain. There's no free shipping to the UK and the US.")


def test_shipping_costs_without_a_country_list_every_zone(kb):
    text = answer("how much does shipping cost", knowledge_base=kb).text
    for zone in kb.zones:
        assert f"{money(zone.default_option.price, 'EUR')} to {zone.name}" in text


# ---------------------------------------------------------------- payment methods

def test_an_accepted_payment_method(kb):
    result = answer("can I pay with PayPal", knowledge_base=kb)
    assert result.text == "Yes, you can pay with PayPal. Your PayPal account is charged when you place the order."
    assert result.source_url == "https://shop.example/policies/payment#paypal"


@pytest.mark.parametrize("question, method_id", [
    ("do you take credit cards", "card"), ("is amex accepted", "card"), ("can I pay by invoice", "klarna"),
    ("is there klarna or some pay later option", "klarna"), ("apple pay?", "apple-pay"),
    ("can I pay via bank transfer", "bank-transfer"),
])
def test_payment_methods_by_any_name(kb, question, method_id):
    method = next(m for m in kb.payment_methods if m.id == method_id)
    result = answer(question, knowledge_base=kb)
    assert result.text.startswith(f"Yes, you can pay with {method.name}.")
    assert result.source_url == method.source_url


@pytest.mark.parametrize("question, said", [("can I pay with bitcoin", "cryptocurrencies"),
                                            ("cash on delivery possible?", "cash on delivery")])
def test_a_method_we_dont_accept_is_a_grounded_no(kb, question, said):
    result = answer(question, knowledge_base=kb)
    assert result.text.startswith(f"No, we don't take {said}. You can pay with: PayPal, ")
    assert result.source_url == "https://shop.example/policies/payment#not-accepted"


def test_a_payment_method_entity(kb):
    result = answer("can I use that?", topic="payment", entities={"payment_method": ["Google Pay"]}, knowledge_base=kb)
    assert result.text.startswith("Yes, you can pay with Google Pay.")


@pytest.mark.parametrize("question, said", [
    ("can I pay with a gift card", "gift cards or vouchers"), ("do you take cheques?", "cheques"),
    ("is a Diners Club card accepted", "Diners Club cards"), ("can I pay in monthly instalments", "payment in "
                                                                                                  "instalments"),
])
def test_well_known_methods_we_dont_take_are_listed_in_the_data(kb, question, said):
    assert answer(question, knowledge_base=kb).text.startswith(f"No, we don't take {said}")


def test_a_payment_method_we_know_nothing_about_gets_no_answer(kb):
    assert answer("can I pay with monopoly money", knowledge_base=kb) is None


def test_asking_whether_we_sell_a_thing_is_not_asking_to_pay_with_it(kb):
    assert answer("do you have gift cards", knowledge_base=kb) is None
    assert answer("gift cards?", knowledge_base=kb).text.startswith("No, we don't take gift cards")


# ---------------------------------------------------------------- loading once

def test_the_knowledge_base_is_loaded_once_and_reloaded_after_an_edit(kb_copy):
    first = default_knowledge_base(kb_copy.folder)
    assert default_knowledge_base(kb_copy.folder) is first
    kb_copy.replace("shipping.yml", 'price: "4.90"', 'price: "5.90"')
    reloaded = default_knowledge_base(kb_copy.folder)
    assert reloaded is not first
    assert "€5.90" in answer("shipping to germany", knowledge_base=reloaded).text


def test_a_broken_edit_keeps_the_last_good_version(kb_copy, caplog):
    good = default_knowledge_base(kb_copy.folder)
    kb_copy.replace("shipping.yml", "countries: [DE]", "countries: [XX]")
    assert default_knowledge_base(kb_copy.folder) is good
    assert default_knowledge_base(kb_copy.folder) is good
    assert [r.message for r in caplog.records].count(
        f"Knowledge base {kb_copy.folder} has errors after an edit; still using the previous version") == 1


def test_a_broken_knowledge_base_at_start_raises(kb_copy):
    kb_copy.replace("shipping.yml", "countries: [DE]", "countries: [XX]")
    with pytest.raises(KnowledgeBaseError):
        default_knowledge_base(kb_copy.folder)


def test_the_folder_can_be_set_in_the_environment(kb_copy, monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_BASE_DIR", str(kb_copy.folder))
    kb_copy.replace("shipping.yml", 'price: "4.90"', 'price: "3.90"')
    assert "€3.90" in answer("shipping to germany").text
