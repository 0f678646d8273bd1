"""`python -m sandbox_backend [--host H] [--port P] [--reset]`: serve the sandbox API.

Reads SANDBOX_API_KEY (required) and DATABASE_URL (default: SQLite in var/).
Seeds an empty database from seed.yml; --reset drops everything and reseeds.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sandbox_backend.app import create_app
from sandbox_backend.seed import seed
from sandbox_backend.tables import Base

DEFAULT_DATABASE = Path(__file__).resolve().parent.parent / "var" / "sandbox.db"


def database_engine(url: str | None) -> Engine:
    if not url:
        DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DEFAULT_DATABASE}"
    # Worker threads serve requests, so SQLite connections must be shareable between threads.
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


def prepare(engine: Engine, reset: bool) -> None:
    if reset:
        Base.metadata.drop_all(engine)
    fresh = not inspect(engine).has_table("products")
    Base.metadata.create_all(engine)
    if fresh or reset:
        with Session(engine, future=True) as session, session.begin():
            seed(session, datetime.now(timezone.utc).date())


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox_backend", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--reset", action="store_true", help="drop all data and seed again")
    args = parser.parse_args()
    api_key = os.environ.get("SANDBOX_API_KEY")
    if not api_key:
        print("error: set SANDBOX_API_KEY, the bearer key clients must send to this API", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    engine = database_engine(os.environ.get("DATABASE_URL"))
    prepare(engine, args.reset)
    create_app(engine, api_key).run(host=args.host, port=args.port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
