"""How an adapter proves who it is: a fixed API key, or OAuth2 client credentials with refresh.

Either way the transport asks for headers before each attempt and tells the
credentials when the platform refused them, so a token that expired early is
fetched again once instead of failing the conversation.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping, Protocol

import requests

from integrations.errors import AuthenticationFailed, ServiceUnavailable

# Ask for a new token this long before the old one expires, so none expires mid-call.
EXPIRY_MARGIN = 60.0
TOKEN_TIMEOUT = (0.25, 0.45)


class Credentials(Protocol):
    def headers(self) -> Mapping[str, str]:
        """The headers that authenticate the next request."""

    def refused(self) -> bool:
        """The platform answered 401: return True if fresh credentials are worth one more try."""


class ApiKey:
    """A static key or token read from the environment by the config layer."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def headers(self) -> Mapping[str, str]:
        return self._headers

    def refused(self) -> bool:
        return False


class OAuth2ClientCredentials:
    """RFC 6749 §4.4: trade a client id and secret for a bearer token, and keep it until shortly before expiry."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        self._token_url = token_url
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        if scope:
            self._form["scope"] = scope
        self._clock = clock
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def headers(self) -> Mapping[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - EXPIRY_MARGIN:
                self._fetch_token()
            return {"Authorization": f"Bearer {self._token}"}

    def refused(self) -> bool:
        with self._lock:
            had_token, self._token = self._token is not None, None
            return had_token

    def _fetch_token(self) -> None:
        try:
            response = self._session.post(self._token_url, data=self._form, timeout=TOKEN_TIMEOUT)
        except requests.RequestException as exc:
            raise ServiceUnavailable("the token endpoint is unreachable") from exc
        if response.status_code in (400, 401):
            # The body may echo the client id; the message stays generic on purpose.
            raise AuthenticationFailed("the token endpoint refused the client credentials")
        try:
            payload = response.json()
            token, lifetime = payload["access_token"], float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailable(f"the token endpoint answered HTTP {response.status_code} without a token") from exc
        self._token, self._expires_at = token, self._clock() + lifetime
