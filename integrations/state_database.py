"""The bot's own state database (integrations.config.state_database_url): the outbox of CRM writes,
webhook deliveries seen, conversations to reach with news, CSAT ratings.

Every table of it derives from StateTable, so one engine creates them all. Times are naive UTC:
SQLite keeps no time zones, and both databases must compare the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import declarative_base

StateTable = declarative_base()


def state_engine(url: str) -> Engine:
    """An engine on the state database with every table imported so far created if missing."""
    # Writes happen in worker threads, so a SQLite connection must be usable from any of them.
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
    StateTable.metadata.create_all(engine)
    return engine


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
