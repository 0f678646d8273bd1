"""Choose the e-shop and CRM adapters from the environment.

ESHOP_PLATFORM and CRM_PLATFORM name the adapter ("sandbox" by default);
each adapter reads its own settings, and secrets come only from the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from integrations.crm import CRM
from integrations.eshop import EShop
from integrations.sandbox import SandboxCRM, SandboxEShop
from integrations.transport import HttpTransport

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8800"
DEFAULT_STATE_FILE = Path(__file__).resolve().parent.parent / "var" / "state.db"


class ConfigurationError(RuntimeError):
    """A setting is missing or names an adapter that does not exist."""


def eshop_from_env(env: Mapping[str, str] = os.environ) -> EShop:
    platform = env.get("ESHOP_PLATFORM", "sandbox")
    if platform == "sandbox":
        return SandboxEShop(_sandbox_transport(env))
    raise ConfigurationError(f"ESHOP_PLATFORM={platform!r} is not a known e-shop adapter (known: sandbox)")


def crm_from_env(env: Mapping[str, str] = os.environ) -> CRM:
    platform = env.get("CRM_PLATFORM", "sandbox")
    if platform == "sandbox":
        return SandboxCRM(_sandbox_transport(env))
    raise ConfigurationError(f"CRM_PLATFORM={platform!r} is not a known CRM adapter (known: sandbox)")


def _sandbox_transport(env: Mapping[str, str]) -> HttpTransport:
    api_key = env.get("SANDBOX_API_KEY")
    if not api_key:
        raise ConfigurationError("SANDBOX_API_KEY is not set (the sandbox backend's bearer key)")
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
