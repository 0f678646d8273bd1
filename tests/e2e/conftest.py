"""The real sandbox, action server and Rasa server, started once for the e2e tests."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from local_stack import REPO, Ports, Stack, action_endpoint_yaml

MODEL = REPO / "models" / "commerce-assistant.tar.gz"


def new_stack(work: Path, **options) -> Stack:
    """The three servers on free ports, their databases and logs under `work`; `options` as Stack's."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first (make test does)")
    ports = Ports.free()
    endpoints = work / "endpoints.yml"
    # In-memory tracker store: each test run starts with no conversations.
    endpoints.write_text(action_endpoint_yaml(ports.actions))
    return Stack(
        ports=ports,
        log_dir=work / "logs",
        endpoints=endpoints,
        model=MODEL,
        sandbox_database_url=f"sqlite:///{work / 'sandbox.db'}",
        state_database_url=f"sqlite:///{work / 'state.db'}",
        **options,
    )


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = new_stack(tmp_path_factory.mktemp("stack"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


class Chat:
    """One conversation with the bot over the REST channel."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sender = f"e2e-{uuid.uuid4().hex[:10]}"

    def say(self, text: str) -> str:
        replies = self.stack.say(self.sender, text)
        return "\n".join(reply.get("text", "") for reply in replies)


@pytest.fixture
def chat(stack) -> Chat:
    return Chat(stack)


def sandbox_get(stack: Stack, path: str, **params):
    response = requests.get(
        stack.sandbox_url + path, params=params, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=5
    )
    response.raise_for_status()
    return response.json()


def sandbox_post(stack: Stack, path: str, body: dict | None = None):
    response = requests.post(
        stack.sandbox_url + path, json=body, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=5
    )
    response.raise_for_status()
    return response.json()


def bot_messages(stack: Stack, sender: str) -> list[str]:
    """Everything the bot said in the conversation, proactive messages included (they bypass REST replies)."""
    response = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token}, timeout=10
    )
    response.raise_for_status()
    return [event.get("text") or "" for event in response.json()["events"] if event.get("event") == "bot"]
