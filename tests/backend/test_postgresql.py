"""The sandbox on PostgreSQL, the production database, seeded and serving."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.conftest import start_sandbox

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_sandbox(tmp_path):
    engine = create_engine(POSTGRES, future=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES}: {exc.__class__.__name__}")
    finally:
        engine.dispose()
    server = start_sandbox(tmp_path, POSTGRES)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def test_seeds_and_serves_on_postgresql(postgres_sandbox):
    headers = {"Authorization": f"Bearer {postgres_sandbox.api_key}"}
    order = requests.get(f"{postgres_sandbox.base_url}/v1/orders/100236", headers=headers, timeout=5).json()
    assert order["status"] == "delayed" and order["shipments"][0]["delay_reason"] == "Severe weather at the regional hub"
    found = requests.get(f"{postgres_sandbox.base_url}/v1/products", params={"q": "waterproof"}, headers=headers, timeout=5)
    assert {"trail-runner-gtx", "summit-rain-jacket"} <= {p["id"] for p in found.json()["data"]}
