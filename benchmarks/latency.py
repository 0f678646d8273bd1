"""How long the user waits: a turn that calls the backend against one that does not.

    .venv/bin/python benchmarks/latency.py [--rounds 30]

Starts the real stack (needs a trained model), then alternates, round by round,
a baseline turn that runs no custom action ("hello") with the turn that answers
"where is my order?" (form validation + order lookup + status, i.e. two
backend calls and the CRM log after the reply). Both go over the REST channel.
Alternating keeps both under the same machine load, so the ratio is what to
compare across machines; the absolute numbers are this machine's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from local_stack import REPO, Ports, Stack


def timed(stack: Stack, sender: str, text: str) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    replies = stack.say(sender, text)
    return (time.perf_counter() - started) * 1000, replies


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="latency-"))
    ports = Ports.free()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{ports.actions}/webhook"\n')
    stack = Stack(ports=ports, log_dir=work, endpoints=endpoints, model=REPO / "models" / "commerce-assistant.tar.gz",
                  sandbox_database_url=f"sqlite:///{work / 'sandbox.db'}",
                  state_database_url=f"sqlite:///{work / 'state.db'}")
    stack.start()
    baseline, lookup = [], []
    try:
        for _ in range(3):  # warm-up, not counted
            timed(stack, f"warm-{uuid.uuid4().hex}", "hello")
        for _ in range(args.rounds):
            sender = f"bench-{uuid.uuid4().hex}"
            baseline.append(timed(stack, sender, "hello")[0])
            stack.say(sender, "where is my order 100234")
            elapsed, replies = timed(stack, sender, "ben.miller@example.com")
            assert any("tracking" in r.get("text", "").lower() for r in replies), replies
            lookup.append(elapsed)
    finally:
        stack.stop()
    print(f"rounds: {args.rounds}")
    for name, values in (("baseline turn (no action)", baseline), ("order lookup turn", lookup)):
        print(f"{name:28s} median {statistics.median(values):6.0f} ms   p95 {percentile(values, 0.95):6.0f} ms")
    print(f"ratio lookup/baseline: median {statistics.median(lookup) / statistics.median(baseline):.2f}")


if __name__ == "__main__":
    main()
