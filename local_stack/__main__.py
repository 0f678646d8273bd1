"""`python -m local_stack`: run the assistant locally and chat with it in the terminal."""

from __future__ import annotations

import signal
import sys
import time

from local_stack import REPO, Ports, Stack
from local_stack.chat import chat

HOW_TO_TALK = """
The assistant is up.
  REST:      curl -s localhost:{rasa}/webhooks/rest/webhook -d '{{"sender": "me", "message": "where is my order?"}}'
  Socket.IO: a web chat widget (e.g. rasa-webchat) pointed at http://localhost:{rasa}
  Sandbox:   http://localhost:{sandbox} (API in sandbox_backend/openapi.yaml; key in SANDBOX_API_KEY)
  Webhooks:  http://localhost:{webhooks}/webhooks/<shopify|woocommerce|sandbox> (the shops' door; the actions have none)
  Logs:      var/log/
Try order 100234 with ben.miller@example.com.
"""


def main() -> int:
    stack = Stack(ports=Ports(), log_dir=REPO / "var" / "log", endpoints=REPO / "endpoints.yml")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("Starting the sandbox backend, the action server, the webhook receiver and the Rasa server (about 30 s)...")
    try:
        stack.start()
        print(HOW_TO_TALK.format(rasa=stack.ports.rasa, sandbox=stack.ports.sandbox, webhooks=stack.ports.webhooks))
        if sys.stdin.isatty():
            chat(stack)
        else:
            print("No terminal attached: serving until stopped (Ctrl-C).")
            while all(p.poll() is None for p in stack.processes.values()):
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    except RuntimeError as failure:
        print(failure, file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
