"""A small HTTP client for the backend tests, and helpers for reading its answers."""

from __future__ import annotations

import re
from datetime import date, timedelta

import requests

DEFAULT_KEY = object()


class Api:
    """requests against the session's sandbox, with its bearer key unless told otherwise."""

    def __init__(self, server) -> None:
        self.server = server

    def call(self, method: str, path: str, *, key=DEFAULT_KEY, headers: dict | None = None, **kwargs):
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["Authorization"] = f"Bearer {self.server.api_key if key is DEFAULT_KEY else key}"
        return requests.request(method, self.server.base_url + path, headers=all_headers, timeout=5, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.call("POST", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs):
        """The JSON body of a call that must answer `status`."""
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def all_pages(self, path: str, limit: int, **params) -> list[dict]:
        items, cursor = [], None
        while True:
            page = self.ok("GET", path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
            items += page["data"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def latest_code(self, email: str) -> str:
        mails = self.ok("GET", "/v1/sandbox/mailbox", params={"to": email})["data"]
        return re.search(r"\b(\d{6})\b", mails[0]["body"]).group(1)


def day(seeded_on: date, offset: int) -> str:
    return (seeded_on + timedelta(days=offset)).isoformat()


def error_of(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    return response.json()["error"]
