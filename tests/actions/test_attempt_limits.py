"""Attempt limits over time, per email, conversation and client, in a real (SQLite) state database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from actions.attempt_limits import Attempt, AttemptLimits, Limits
from integrations.state_database import state_engine
from sqlalchemy import select


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 12, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def engine(tmp_path):
    return state_engine(f"sqlite:///{tmp_path / 'state.db'}")


@pytest.fixture
def limits(engine, clock):
    return AttemptLimits(engine, Limits.from_env({}), clock)


def keys(email="anna.schmidt@example.com", conversation="conv-1", client="client-1"):
    return {"email": email, "conversation": conversation, "client": client}


def test_one_miss_suspends_number_proofs_for_that_email_in_every_conversation(limits):
    assert not limits.proof_refused(keys())
    limits.record_miss(keys())
    assert limits.proof_refused(keys(conversation="conv-2", client="client-2"))
    assert limits.proof_refused(keys(email="ANNA.Schmidt@example.com", conversation="c3", client=None))
    assert not limits.proof_refused(keys(email="ben.miller@example.com", conversation="c4", client="client-9"))


def test_the_suspension_ends_with_the_window(limits, clock):
    limits.record_miss(keys())
    clock.now += timedelta(minutes=59)
    assert limits.proof_refused(keys())
    clock.now += timedelta(minutes=2)
    assert not limits.proof_refused(keys())


def test_a_conversation_that_tries_many_emails_is_stopped(limits):
    for n in range(3):
        limits.record_miss(keys(email=f"someone{n}@example.org"))
    assert limits.proof_refused(keys(email="fresh@example.net"))


def test_a_client_address_that_rotates_conversations_is_stopped(limits):
    for n in range(10):
        limits.record_miss(keys(email=f"someone{n}@example.org", conversation=f"conv-{n}"))
    assert limits.proof_refused(keys(email="fresh@example.net", conversation="conv-new"))
    assert not limits.proof_refused(keys(email="fresh@example.net", conversation="conv-new", client="another"))


def test_codes_are_limited_per_email_and_per_conversation(limits):
    assert [limits.take_code(keys(conversation=f"c{n}")) for n in range(4)] == [True, True, True, False]
    assert [limits.take_code(keys(email=f"x{n}@example.org", conversation="same")) for n in range(4)] == [
        True, True, True, False]


def test_limits_come_from_the_environment(engine, clock):
    strict = AttemptLimits(engine, Limits.from_env({"LOGIN_CODES_PER_EMAIL": "1", "VERIFY_MISSES_PER_EMAIL": "2"}), clock)
    assert strict.take_code(keys()) and not strict.take_code(keys(conversation="other"))
    strict.record_miss(keys())
    assert not strict.proof_refused(keys(conversation="other", client=None))


def test_no_email_is_stored_and_old_attempts_are_dropped(limits, engine, clock):
    limits.record_miss(keys())
    clock.now += timedelta(hours=2)
    limits.record_miss(keys(email="ben.miller@example.com"))
    with engine.connect() as connection:
        rows = connection.execute(select(Attempt)).all()
    assert len(rows) == 3  # the new miss, in its three scopes; the old one is gone
    assert not any("example.com" in str(tuple(row)) for row in rows)
