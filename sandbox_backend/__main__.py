"""`python -m sandbox_backend [--host H] [--port P] [--reset]`: serve the sandbox API.

Reads SANDBOX_API_KEY (required) and DATABASE_URL (default: SQLite in var/); with
SANDBOX_WEBHOOK_URL and SANDBOX_WEBHOOK_SECRET it also sends signed webhooks (webhooks.py).
Return labels are public signed links (label_links.py): SANDBOX_LABEL_SECRET signs them (default:
derived from the API key) and SANDBOX_PUBLIC_URL is where they point (default: the host called).
Seeds an empty database from seed.yml; --reset drops everything and reseeds.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from sandbox_backend.app import create_app
from sandbox_backend.database import engine_for, prepare
from sandbox_backend.label_links import LabelLinks, public_url_from_env, secret_from_env
from sandbox_backend.logs import log_as_json_lines
from sandbox_backend.webhooks import WebhookEmitter


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox_backend", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--reset", action="store_true", help="drop all sandbox data and seed again")
    args = parser.parse_args()
    api_key = os.environ.get("SANDBOX_API_KEY", "")
    if not api_key.strip():
        print("error: set SANDBOX_API_KEY to the bearer key that clients of this API must send", file=sys.stderr)
        return 2
    try:
        links = LabelLinks(secret_from_env(os.environ, api_key), public_url_from_env(os.environ))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    log_as_json_lines()
    try:
        engine = engine_for(os.environ.get("DATABASE_URL"))
        prepare(engine, reset=args.reset)
    except SQLAlchemyError as error:
        # The driver's own message (without the SQL) and never the URL, which may hold a password.
        detail = getattr(error, "orig", None) or error
        print(f"error: cannot use the database in DATABASE_URL: {detail}".strip(), file=sys.stderr)
        return 1
    logging.getLogger("sandbox_backend").info("serving", extra={"fields": {"url": f"http://{args.host}:{args.port}"}})
    app = create_app(engine, api_key, webhooks=WebhookEmitter.from_env(os.environ), label_links=links)
    app.run(host=args.host, port=args.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
