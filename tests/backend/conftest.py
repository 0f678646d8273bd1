"""Fixtures of the backend tests: a client for the session's sandbox and the day it was seeded."""

from __future__ import annotations

from datetime import date

import pytest

from tests.backend.client import Api


@pytest.fixture
def api(sandbox_server) -> Api:
    return Api(sandbox_server)


@pytest.fixture(scope="session")
def seeded_on(sandbox_server) -> date:
    """The day the session's sandbox was seeded: order 100231 was placed "today 09:12"."""
    placed_at = Api(sandbox_server).ok("GET", "/v1/orders/100231")["placed_at"]
    assert placed_at.endswith("T09:12:00Z")
    return date.fromisoformat(placed_at[:10])


@pytest.fixture
def fresh_api(launch_sandbox) -> Api:
    """A freshly seeded sandbox of the test's own: for tests that change orders other tests read."""
    return Api(launch_sandbox())
