"""What a conversation has proven, signed by the action server so that no one else can claim it.

A slot is whatever the tracker says it is, and a tracker can be written by anyone who reaches Rasa's
API or forges an action call. So the proof that an email owns some orders (or a customer account) is
a token the action server signs with a key only it holds (ACTION_PROOF_SECRET), bound to the
conversation's sender id and to an expiry. Every action that shows or changes customer data reads
ownership from this token, never from plain slots.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Callable

# A session ends after 60 idle minutes (domain.yml); a proof never outlives the session it was made in.
PROOF_LIFETIME_SECONDS = 60 * 60


@dataclass(frozen=True)
class Proof:
    email: str
    orders: frozenset[str] = field(default_factory=frozenset)
    # Set when the email was proven with a one-time code: the account's orders may all be listed.
    customer_id: str | None = None

    def widened(self, orders: frozenset[str] = frozenset(), customer_id: str | None = None) -> "Proof":
        return Proof(self.email, self.orders | orders, customer_id or self.customer_id)


class ProofSigner:
    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("the proof secret must be at least 16 bytes")
        self._secret = secret
        self._clock = clock

    def sign(self, sender_id: str, proof: Proof) -> str:
        claims = {"sub": _sender_hash(sender_id), "email": proof.email, "orders": sorted(proof.orders),
                  "customer": proof.customer_id, "exp": int(self._clock()) + PROOF_LIFETIME_SECONDS}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def read(self, sender_id: str, token: object) -> Proof | None:
        """The proof, if the token is ours, for this conversation and not expired; None otherwise."""
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error):
            return None
        if claims.get("sub") != _sender_hash(sender_id) or claims.get("exp", 0) < self._clock():
            return None
        return Proof(claims["email"], frozenset(claims.get("orders") or ()), claims.get("customer"))

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())


def _sender_hash(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode()).hexdigest()[:32]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
