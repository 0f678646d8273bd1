"""Starting the sandbox: its required key, seeding once, --reset, outdated databases and relative seed dates."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime

import pytest
import requests
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.orm import Session

from sandbox_backend.database import DEFAULT_SQLITE_FILE, engine_for, prepare
from sandbox_backend.seed import relative_datetime
from sandbox_backend.tables import Base, Order, Product
from tests.conftest import REPO, sandbox_environment


def test_refuses_to_start_without_an_api_key(tmp_path):
    env = sandbox_environment("", f"sqlite:///{tmp_path / 'never.db'}")
    result = subprocess.run([sys.executable, "-m", "sandbox_backend"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "SANDBOX_API_KEY" in result.stderr
    assert not (tmp_path / "never.db").exists()


def test_data_survives_a_restart_and_reset_reseeds(launch_sandbox, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'kept.db'}"
    first = launch_sandbox(database_url, api_key="key-1")
    headers = {"Authorization": "Bearer key-1"}
    lead = requests.post(f"{first.base_url}/v1/crm/leads", json={"email": "kept@example.com", "source": "chat"},
                         headers=headers, timeout=5).json()
    first.stop()

    def leads(server):
        return requests.get(f"{server.base_url}/v1/crm/leads", params={"email": "kept@example.com"},
                            headers=headers, timeout=5).json()["data"]

    second = launch_sandbox(database_url, reset=False, api_key="key-1")
    assert [item["id"] for item in leads(second)] == [lead["id"]]
    second.stop()
    third = launch_sandbox(database_url, reset=True, api_key="key-1")
    assert leads(third) == []
    assert requests.get(f"{third.base_url}/v1/orders/100234", headers=headers, timeout=5).status_code == 200


def test_an_outdated_database_is_rebuilt_and_seeded(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}", future=True)
    with engine.begin() as connection:
        connection.execute(text("create table products (id varchar primary key, name varchar)"))
        connection.execute(text("insert into products values ('old-thing', 'Old thing')"))
    prepare(engine)
    assert {c["name"] for c in inspect(engine).get_columns("products")} == set(Product.__table__.columns.keys())
    with Session(engine, future=True) as session:
        assert session.get(Product, "old-thing") is None and session.get(Order, "100236").status == "delayed"
    engine.dispose()


def test_a_current_database_is_seeded_only_once(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'once.db'}")
    prepare(engine)
    prepare(engine)
    with Session(engine, future=True) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 15
    assert {table for table in inspect(engine).get_table_names()} == set(Base.metadata.tables)
    engine.dispose()


def test_the_default_database_is_a_sqlite_file_in_var():
    engine = engine_for(None)
    assert engine.url.get_backend_name() == "sqlite" and engine.url.database == str(DEFAULT_SQLITE_FILE)
    assert DEFAULT_SQLITE_FILE.parent == REPO / "var" and DEFAULT_SQLITE_FILE.parent.is_dir()
    engine.dispose()


@pytest.mark.parametrize(("written", "meant"), [
    ("today", datetime(2026, 3, 10, 12, 0)),
    ("today 09:12", datetime(2026, 3, 10, 9, 12)),
    ("today-3d", datetime(2026, 3, 7, 12, 0)),
    ("today+2d", datetime(2026, 3, 12, 12, 0)),
    ("today-3d 14:05", datetime(2026, 3, 7, 14, 5)),
    ("today-400d", datetime(2025, 2, 3, 12, 0)),
])
def test_seed_dates_count_from_the_seeding_day(written, meant):
    assert relative_datetime(written, date(2026, 3, 10)) == meant


@pytest.mark.parametrize("written", ["yesterday", "today-3", "2026-03-10", "today 25:00", "today+1w"])
def test_unreadable_seed_dates_are_refused(written):
    with pytest.raises(ValueError):
        relative_datetime(written, date(2026, 3, 10))
