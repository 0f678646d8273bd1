"""`python -m webhooks [--host H] [--port P]`: receive the platforms' webhooks in a process of their own.

Settings as in webhooks/app.py. Run this way, a changed product empties no cache: the read cache lives in
the action server, which should mount webhook_blueprint() itself to get that too.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from integrations.config import ConfigurationError
from webhooks.app import create_app, receiver_from_env


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5056)
    args = parser.parse_args()
    # Our log lines are JSON objects already.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        receiver = receiver_from_env()
    except ConfigurationError as problem:
        # Without the shop, no news could be confirmed: refuse to start rather than take deliveries blind.
        logging.getLogger("webhooks").error(json.dumps({"event": "webhook_receiver_misconfigured",
                                                        "problem": str(problem)}))
        return 2
    for sender in receiver.unconfigured():
        logging.getLogger("webhooks").warning(json.dumps({"event": "webhook_sender_unconfigured", "sender": sender}))
    create_app(receiver).run(host=args.host, port=args.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
