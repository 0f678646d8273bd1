"""Public links to return labels: signed, expiring, and usable without the API key.

A customer opens the label from the chat, and the API key must never reach a customer. So the link
names the return and an expiry, signed with HMAC-SHA256 under a server secret:

    GET /labels/<return id>.pdf?expires=<unix seconds>&sig=<hex HMAC-SHA256(secret, "<return id>:<expires>")>

Nobody can make a link for another return or stretch one's life without the secret. A link expires
LIFETIME after its return was opened; deriving the expiry from the return (not from the moment of
the request) gives one stable link per return, so a replayed creation and every later read agree.

The secret is SANDBOX_LABEL_SECRET, or else derived one-way from SANDBOX_API_KEY, so `make run`
works without another setting and a link reveals nothing about the API key. The links point to
SANDBOX_PUBLIC_URL when set (the sandbox behind a proxy), else to the host the client called.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping
from urllib.parse import urlencode, urlsplit

from sandbox_backend.errors import Forbidden

LIFETIME = timedelta(days=30)
PATH_PREFIX = "/labels/"
SUFFIX = ".pdf"
# A fixed, public input: what makes the derived secret differ from the API key and from other uses of it.
DERIVATION_INPUT = b"sandbox_backend return label links v1"
SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
EXPIRES = re.compile(r"^[0-9]{1,12}$")


def secret_from_env(environ: Mapping[str, str], api_key: str) -> bytes:
    explicit = environ.get("SANDBOX_LABEL_SECRET", "").strip()
    return explicit.encode() if explicit else derived_secret(api_key)


def derived_secret(api_key: str) -> bytes:
    return hmac.new(api_key.encode(), DERIVATION_INPUT, hashlib.sha256).digest()


def public_url_from_env(environ: Mapping[str, str]) -> str | None:
    """SANDBOX_PUBLIC_URL without its trailing slash; a value that is no http(s) URL stops the server."""
    url = environ.get("SANDBOX_PUBLIC_URL", "").strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("SANDBOX_PUBLIC_URL must be an http(s) URL like https://sandbox.example.com")
    return url


def return_id_in(file_name: str) -> str | None:
    """ret_3f9a0c1d2e4b from ret_3f9a0c1d2e4b.pdf; None for a name that is no label's."""
    return_id = file_name.removesuffix(SUFFIX)
    return return_id if return_id and return_id != file_name else None


@dataclass(frozen=True)
class LabelLinks:
    secret: bytes
    public_url: str | None = None

    def url(self, request_base_url: str, return_id: str, opened_at: datetime) -> str:
        """The public link to a return's label; `opened_at` is the return's created_at (naive UTC)."""
        expires = int((opened_at.replace(tzinfo=timezone.utc) + LIFETIME).timestamp())
        query = urlencode({"expires": expires, "sig": self._signature(return_id, str(expires))})
        return f"{self.public_url or request_base_url}{PATH_PREFIX}{return_id}{SUFFIX}?{query}"

    def check(self, return_id: str, expires: str | None, signature: str | None, now: datetime) -> None:
        """Raise Forbidden unless the link was signed here for this return and has not expired."""
        if not (expires and signature and EXPIRES.match(expires) and SIGNATURE.match(signature)):
            raise Forbidden("This label link is not valid.")
        # Compared in constant time: how long a comparison takes says nothing about the right signature.
        if not hmac.compare_digest(signature, self._signature(return_id, expires)):
            raise Forbidden("This label link is not valid.")
        if now.replace(tzinfo=timezone.utc).timestamp() > int(expires):
            raise Forbidden("This label link has expired.")

    def _signature(self, return_id: str, expires: str) -> str:
        return hmac.new(self.secret, f"{return_id}:{expires}".encode(), hashlib.sha256).hexdigest()
