"""Choosing adapters from the environment: only the settings change, never the code."""

from __future__ import annotations

import asyncio

import pytest

from integrations.config import ConfigurationError, crm_from_env, eshop_from_env
from integrations.hubspot import HubSpotCRM
from integrations.sandbox import SandboxCRM, SandboxEShop
from integrations.shopify import ShopifyEShop
from integrations.woocommerce import WooCommerceEShop
from tests.fakes.shopify import running_shopify_fake

SHOPIFY = {"ESHOP_PLATFORM": "shopify", "SHOPIFY_SHOP_URL": "https://demo.myshopify.com",
           "SHOPIFY_ACCESS_TOKEN": "shpat_x"}
WOOCOMMERCE = {"ESHOP_PLATFORM": "woocommerce", "WOOCOMMERCE_URL": "https://shop.example.com",
               "WOOCOMMERCE_CONSUMER_KEY": "ck_x", "WOOCOMMERCE_CONSUMER_SECRET": "cs_x"}
HUBSPOT = {"CRM_PLATFORM": "hubspot", "HUBSPOT_ACCESS_TOKEN": "pat-x"}


def test_the_sandbox_is_the_default():
    env = {"SANDBOX_API_KEY": "k"}
    assert isinstance(eshop_from_env(env), SandboxEShop) and isinstance(crm_from_env(env), SandboxCRM)


@pytest.mark.parametrize(("env", "adapter"), [(SHOPIFY, ShopifyEShop), (WOOCOMMERCE, WooCommerceEShop)])
def test_each_eshop_platform_is_chosen_by_name(env, adapter):
    shop = eshop_from_env(env)
    assert isinstance(shop, adapter) and not shop.login_codes_supported


def test_hubspot_is_chosen_by_name():
    assert isinstance(crm_from_env(HUBSPOT), HubSpotCRM)


@pytest.mark.parametrize(("env", "missing"), [
    (SHOPIFY, "SHOPIFY_ACCESS_TOKEN"),
    (WOOCOMMERCE, "WOOCOMMERCE_CONSUMER_SECRET"),
    (HUBSPOT, "HUBSPOT_ACCESS_TOKEN"),
])
def test_a_missing_setting_is_named(env, missing):
    incomplete = {name: value for name, value in env.items() if name != missing}
    with pytest.raises(ConfigurationError, match=missing):
        (crm_from_env if "CRM_PLATFORM" in env else eshop_from_env)(incomplete)


def test_a_store_url_without_tls_is_refused_at_start():
    with pytest.raises(ConfigurationError, match="https"):
        eshop_from_env({**SHOPIFY, "SHOPIFY_SHOP_URL": "http://demo.myshopify.com"})


def test_an_unknown_platform_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="shopify, woocommerce"):
        eshop_from_env({"ESHOP_PLATFORM": "magento"})


def test_the_chosen_adapter_reaches_its_platform():
    with running_shopify_fake() as fake:
        shop = eshop_from_env({**SHOPIFY, "SHOPIFY_SHOP_URL": fake.base_url, "SHOPIFY_ACCESS_TOKEN": fake.token})
        assert asyncio.run(shop.get_order("1003")).number == "1003"


@pytest.mark.parametrize(("env", "handled"), [
    ({"SANDBOX_API_KEY": "k"}, {"cancel_order", "change_delivery", "create_return"}),
    (WOOCOMMERCE, {"cancel_order", "change_delivery"}),
    (SHOPIFY, {"change_delivery"}),
], ids=["sandbox", "woocommerce", "shopify"])
def test_each_adapter_says_which_requests_it_carries_out(env, handled):
    shop = eshop_from_env(env)
    requests = {"cancel_order", "change_delivery", "create_return"}
    assert {request for request in requests if shop.handles(request)} == handled
    assert bool(shop.delivery_changes) == shop.handles("change_delivery"), "the flow offers what it can carry out"
