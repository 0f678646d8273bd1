"""Fixtures of the webhook tests: a receiver over a fresh state database, a fake Rasa over real HTTP
that records trigger_intent calls, and a recording stand-in for the e-shop's read cache."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from integrations.state_database import state_engine
from local_stack import free_port
from tests.conftest import REPO
from tests.webhooks.platforms import SECRETS
from webhooks.conversations import ConversationLinks
from webhooks.deliveries import DeliveryLog
from webhooks.reactions import Rasa, Reactions
from webhooks.receiver import WebhookReceiver

RASA_TOKEN = "rasa-token"
TRIGGER_INTENT = re.compile(r"^/conversations/[^/]+/trigger_intent$")
STARTUP_SECONDS = 30


class RecordingCache:
    """Stands in for HttpTransport.invalidate_cache: remembers every prefix it was asked to drop."""

    def __init__(self) -> None:
        self.invalidated: list[str] = []

    def __call__(self, prefix: str) -> int:
        self.invalidated.append(prefix)
        return 1


@pytest.fixture
def state_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def engine(state_url):
    engine = state_engine(state_url)
    yield engine
    engine.dispose()


@pytest.fixture
def links(engine) -> ConversationLinks:
    return ConversationLinks(engine)


@pytest.fixture
def rasa(httpserver):
    """A fake Rasa server answering trigger_intent as the real one does (the tracker, the messages)."""
    httpserver.expect_request(TRIGGER_INTENT, method="POST").respond_with_json({"tracker": {}, "messages": []})
    return httpserver


@pytest.fixture
def cache() -> RecordingCache:
    return RecordingCache()


def build_receiver(engine, rasa_url: str, cache: RecordingCache, secrets: dict | None = None) -> WebhookReceiver:
    deliveries, links = DeliveryLog(engine), ConversationLinks(engine)
    reactions = Reactions(links, deliveries, Rasa(rasa_url, RASA_TOKEN), cache, "/v1/products")
    return WebhookReceiver(SECRETS if secrets is None else secrets, deliveries, links, reactions)


@pytest.fixture
def receiver(engine, rasa, cache) -> WebhookReceiver:
    return build_receiver(engine, rasa.url_for("/"), cache)


def trigger_intent_calls(httpserver) -> list[dict]:
    """What reached the fake Rasa: the conversation, the query and the JSON body of each call."""
    return [{"conversation": request.path.split("/")[2], "args": dict(request.args), "body": json.loads(request.data)}
            for request, _ in httpserver.log if TRIGGER_INTENT.match(request.path)]


@dataclass
class ReceiverProcess:
    """A running `python -m webhooks`; its output goes to `log`."""

    base_url: str
    log: Path
    process: subprocess.Popen

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def launch_receiver(tmp_path):
    """Start `python -m webhooks` with the given environment; every one started is stopped after the test."""
    started = []

    def launch(env: dict[str, str]) -> ReceiverProcess:
        port = free_port()
        log = tmp_path / f"webhooks-{port}.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "webhooks", "--host", "127.0.0.1", "--port", str(port)], cwd=REPO,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
                stdout=log_file, stderr=subprocess.STDOUT,
            )
        server = ReceiverProcess(f"http://127.0.0.1:{port}", log, process)
        started.append(server)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the receiver exited with code {process.returncode}:\n{server.output()}")
            try:
                if requests.get(f"{server.base_url}/health", timeout=1).ok:
                    return server
            except requests.RequestException:
                time.sleep(0.1)
        pytest.fail(f"the receiver did not answer /health within {STARTUP_SECONDS} s:\n{server.output()}")

    yield launch
    for server in started:
        server.stop()


def receiver_environment(state_url: str, rasa_url: str) -> dict[str, str]:
    return {
        "STATE_DATABASE_URL": state_url,
        "RASA_URL": rasa_url,
        "RASA_AUTH_TOKEN": RASA_TOKEN,
        **{f"{sender.upper()}_WEBHOOK_SECRETS": ",".join(secrets) for sender, secrets in SECRETS.items()},
    }
