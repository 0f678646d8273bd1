"""What every adapter does with a platform's payloads and settings, written once."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from integrations.errors import ServiceUnavailable

T = TypeVar("T")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def translated(platform: str, translate: Callable[..., T], *payload: Any) -> T:
    """Turn a payload into a typed result; a payload of the wrong shape is the platform's fault."""
    try:
        return translate(*payload)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, IndexError) as exc:
        raise ServiceUnavailable(f"{platform}: unexpected payload ({exc.__class__.__name__})") from exc


def require_https(url: str, platform: str) -> None:
    """Credentials travel with every request: only over TLS, or to this machine (the tests' fakes)."""
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"the {platform} URL must start with https://")


def iso_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp, with the "Z" that Python 3.10 cannot read yet."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
