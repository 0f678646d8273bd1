"""The security suite runs against the same real servers as the end-to-end suite (one stack per session)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, delete

from actions.attempt_limits import Attempt
from tests.e2e.conftest import chat, stack  # noqa: F401  (the fixtures, shared)


@pytest.fixture
def forget_attempts(stack):  # noqa: F811
    """A test that fails proofs on purpose leaves the stack's attempt limits as it found them."""
    yield
    engine = create_engine(stack.state_database_url, future=True)
    with engine.begin() as connection:
        connection.execute(delete(Attempt))
    engine.dispose()
