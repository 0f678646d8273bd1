"""The sandbox's database: connecting, creating and seeding it, and one transaction per request."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sandbox_backend.seed import seed
from sandbox_backend.tables import Base, Product

DEFAULT_SQLITE_FILE = Path(__file__).resolve().parent.parent / "var" / "sandbox.db"
# At most this many requests use the database at once: SQLAlchemy's default pool holds 5 + 10 connections.
MAX_CONNECTIONS = 10

logger = logging.getLogger("sandbox_backend.database")


def engine_for(url: str | None) -> Engine:
    """An engine for DATABASE_URL, or for var/sandbox.db in the repository when there is none."""
    if not url:
        DEFAULT_SQLITE_FILE.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE_FILE}"
    # Requests run in worker threads, so a SQLite connection must be usable from any of them.
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


def prepare(engine: Engine, reset: bool = False) -> None:
    """Create the tables and seed them when empty; with `reset`, or when the layout is outdated, start over."""
    if reset or not _layout_is_current(engine):
        reason = "reset" if reset else "outdated layout"
        logger.info("dropping the sandbox tables", extra={"fields": {"reason": reason}})
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine, future=True) as session, session.begin():
        if session.scalar(select(func.count()).select_from(Product)) == 0:
            seed(session, datetime.now(timezone.utc).date())
            logger.info("seeded the sandbox from seed.yml")


def transaction(engine: Engine, operation: Callable[[Session], Any]) -> Any:
    """Run `operation` in one transaction: committed when it returns, rolled back when it raises."""
    with Session(engine, future=True) as session, session.begin():
        return operation(session)


def _layout_is_current(engine: Engine) -> bool:
    """True for an empty database or one whose sandbox tables and columns are exactly those of tables.py.

    A database left by an older version of the sandbox is rebuilt rather than served with missing columns;
    its data is seed data.
    """
    inspector = inspect(engine)
    present = [table for table in Base.metadata.sorted_tables if inspector.has_table(table.name)]
    if not present:
        return True
    return len(present) == len(Base.metadata.sorted_tables) and all(
        {column["name"] for column in inspector.get_columns(table.name)} == set(table.columns.keys())
        for table in present
    )
