"""Who sent a message, as a pseudonym the server vouches for: UserMessage.metadata["client"].

Rate limits (tracker.latest_message["metadata"]["client"]) count per client, so the value must come from
the connection, never from the request body: whatever a client puts under "client" is replaced. It is a
salted hash of the address, so the tracker store holds no IP address. CLIENT_PSEUDONYM_SALT keeps the
pseudonyms stable across restarts and servers; without it each process draws its own salt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Any

CLIENT_KEY = "client"
SALT_VARIABLE = "CLIENT_PSEUDONYM_SALT"
_SALT = (os.environ.get(SALT_VARIABLE) or secrets.token_hex(32)).encode()


def pseudonym(address: str | None) -> str | None:
    if not address:
        return None
    return hmac.new(_SALT, address.encode(), hashlib.sha256).hexdigest()[:24]


def with_client(metadata: Any, address: str | None) -> dict:
    """The metadata a client sent (a JSON object, else nothing), with our pseudonym under "client"."""
    trusted = dict(metadata) if isinstance(metadata, dict) else {}
    trusted[CLIENT_KEY] = pseudonym(address)
    return trusted
