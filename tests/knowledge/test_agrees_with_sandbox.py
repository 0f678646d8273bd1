"""The knowledge base describes the sandbox shop: where it ships, with whom, in which currency, its return rules.

The sandbox (sandbox_backend/seed.yml) is what the other parts of the assistant act on, so an
answer that disagrees with it would be invented. These tests read seed.yml as it is today.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

SEED = yaml.safe_load((Path(__file__).resolve().parents[2] / "sandbox_backend" / "seed.yml").read_text())


def facts_of(kb_file: str) -> dict:
    path = Path(__file__).resolve().parents[2] / "knowledge_base" / kb_file
    return yaml.safe_load(path.read_text())["facts"]


def entry(kb, entry_id):
    return next(e for e in kb.entries if e.id == entry_id)


def test_the_zones_hold_exactly_the_countries_the_sandbox_ships_to(kb):
    if "shipping_countries" not in SEED:
        pytest.skip("seed.yml lists no shipping countries")
    assert sorted(kb.shipped_countries) == sorted(SEED["shipping_countries"])


def test_every_country_the_sandbox_ships_to_is_in_a_zone(kb):
    for address in SEED["addresses"].values():
        assert kb.zone_for(address["country"]) is not None, address["country"]


def test_every_carrier_of_a_sandbox_shipment_ships_to_that_country(kb):
    for order in SEED["orders"]:
        zone = kb.zone_for(SEED["addresses"][order["address"]]["country"])
        zone_carriers = {c for option in zone.options for c in option.carriers}
        for shipment in order.get("shipments", []):
            assert SEED["carriers"][shipment["carrier"]]["name"] in zone_carriers, (order["number"], zone.id)


def test_every_carrier_named_in_the_knowledge_base_exists_in_the_sandbox(kb):
    sandbox_carriers = {carrier["name"] for carrier in SEED["carriers"].values()}
    for zone in kb.zones:
        for option in zone.options:
            assert set(option.carriers) <= sandbox_carriers, zone.id


def test_prices_are_in_the_sandbox_currency(kb):
    # seed.yml: "Prices are in EUR."; the sandbox stores every price and order in EUR.
    assert kb.shipping_currency == "EUR"
    assert facts_of("payments.yml")["currency_code"] == "EUR"


def test_the_return_window_is_the_sandbox_default(kb):
    if "default_return_policy" not in SEED:
        pytest.skip("seed.yml has no return policy")
    assert facts_of("returns.yml")["return_window_days"] == SEED["default_return_policy"]["window_days"]


def test_every_product_with_its_own_return_rule_is_named_in_the_exceptions(kb):
    exceptions = entry(kb, "return-exceptions").answer
    for product in SEED["products"]:
        rule = product.get("returns")
        if not rule:
            continue
        assert product["name"] in exceptions, product["id"]
        if rule.get("returnable", True) and "window_days" in rule:
            assert f"{product['name']} " in exceptions and f"within {rule['window_days']} days" in exceptions
        if rule.get("condition") == "unopened":
            assert "unopened" in exceptions
        if rule.get("returnable") is False:
            assert f"the {product['name']} can't be returned" in exceptions


def test_the_policy_pages_are_on_the_shop_the_sandbox_links_to(kb):
    # The sandbox's product pages are https://shop.example/products/<id>.
    assert all(url.startswith("https://shop.example/policies/") for url in kb.source_urls)
