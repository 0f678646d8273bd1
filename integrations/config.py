"""Choose the e-shop and CRM adapters from the environment.

ESHOP_PLATFORM (sandbox, shopify, woocommerce) and CRM_PLATFORM (sandbox, hubspot)
name the adapters, "sandbox" by default; each adapter reads its own settings, and
secrets come only from the environment. The README lists every setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

from integrations.crm import CRM
from integrations.eshop import EShop
from integrations.hubspot import HubSpotCRM
from integrations.sandbox import SandboxCRM, SandboxEShop
from integrations.shopify import ShopifyEShop
from integrations.transport import HttpTransport
from integrations.woocommerce import WooCommerceEShop

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8800"
DEFAULT_HUBSPOT_URL = "https://api.hubapi.com"
DEFAULT_STATE_FILE = Path(__file__).resolve().parent.parent / "var" / "state.db"


class ConfigurationError(RuntimeError):
    """A setting is missing or names an adapter that does not exist."""


ESHOPS: dict[str, Callable[[Mapping[str, str]], EShop]] = {
    "sandbox": lambda env: SandboxEShop(_sandbox_transport(env)),
    "shopify": lambda env: ShopifyEShop(_required(env, "SHOPIFY_SHOP_URL"), _required(env, "SHOPIFY_ACCESS_TOKEN")),
    "woocommerce": lambda env: WooCommerceEShop(
        _required(env, "WOOCOMMERCE_URL"),
        _required(env, "WOOCOMMERCE_CONSUMER_KEY"),
        _required(env, "WOOCOMMERCE_CONSUMER_SECRET"),
    ),
}

CRMS: dict[str, Callable[[Mapping[str, str]], CRM]] = {
    "sandbox": lambda env: SandboxCRM(_sandbox_transport(env)),
    "hubspot": lambda env: HubSpotCRM(
        _required(env, "HUBSPOT_ACCESS_TOKEN"), env.get("HUBSPOT_BASE_URL", DEFAULT_HUBSPOT_URL)
    ),
}


def eshop_from_env(env: Mapping[str, str] = os.environ) -> EShop:
    return _adapter(env, "ESHOP_PLATFORM", ESHOPS)


def crm_from_env(env: Mapping[str, str] = os.environ) -> CRM:
    return _adapter(env, "CRM_PLATFORM", CRMS)


def _adapter(env: Mapping[str, str], setting: str, adapters: dict[str, Callable[[Mapping[str, str]], Any]]) -> Any:
    platform = env.get(setting, "sandbox")
    if platform not in adapters:
        known = ", ".join(sorted(adapters))
        raise ConfigurationError(f"{setting}={platform!r} is not a known adapter (known: {known})")
    try:
        return adapters[platform](env)
    except ValueError as exc:  # an adapter refusing its settings, e.g. a plain-http store URL
        raise ConfigurationError(f"{setting}={platform}: {exc}") from exc


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise ConfigurationError(f"{name} is not set (see the README's section on real platforms)")
    return value


def _sandbox_transport(env: Mapping[str, str]) -> HttpTransport:
    api_key = _required(env, "SANDBOX_API_KEY")
    return HttpTransport(
        env.get("SANDBOX_URL", DEFAULT_SANDBOX_URL),
        {"Authorization": f"Bearer {api_key}"},
        platform="sandbox",
    )


def state_database_url(env: Mapping[str, str] = os.environ) -> str:
    """Where the bot keeps its own state (the outbox of CRM writes, webhook deliveries seen).

    STATE_DATABASE_URL (PostgreSQL in production), else a SQLite file under var/.
    """
    url = env.get("STATE_DATABASE_URL")
    if url:
        return url
    DEFAULT_STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_STATE_FILE}"
