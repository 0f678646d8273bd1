"""Starting the sandbox backend, the action server and the Rasa server together.

`make run` and the end-to-end tests both use this, so the way the parts are
wired up is written once.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@dataclass
class Ports:
    sandbox: int = 8800
    actions: int = 5055
    rasa: int = 5005
    # The shops' webhooks come in here, never on the action server's port (only Rasa may call that one).
    webhooks: int = 5056

    @classmethod
    def free(cls) -> "Ports":
        return cls(free_port(), free_port(), free_port(), free_port())


@dataclass
class Stack:
    """The three servers as child processes, with their logs in `log_dir`."""

    ports: Ports
    log_dir: Path
    endpoints: Path
    model: Path = REPO / "models"
    sandbox_database_url: str | None = None
    state_database_url: str | None = None
    # Where the actions reach the sandbox, when something (a fault-injecting proxy) sits in between.
    actions_backend_url: str | None = None
    api_key: str = field(default_factory=lambda: os.environ.get("SANDBOX_API_KEY") or secrets.token_urlsafe(24))
    # The sandbox signs its webhooks with this; the webhook receiver checks them.
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # Guards Rasa's HTTP API, which the webhook receiver uses to tell conversations the shop's news.
    # Hex, because a token starting with "-" would be read as an option on Rasa's command line.
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(24))
    # Rasa sends it with every action call (endpoints.yml); the action server refuses calls without it.
    action_token: str = field(default_factory=lambda: os.environ.get("ACTION_SERVER_TOKEN") or secrets.token_hex(24))
    # Signs what a conversation has proven (actions/proof.py); only the action servers hold it.
    proof_secret: str = field(default_factory=lambda: os.environ.get("ACTION_PROOF_SECRET") or secrets.token_hex(32))
    # Settings for the action server beyond the sandbox's: another e-shop or CRM (ESHOP_PLATFORM=shopify...).
    platform_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.sandbox}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.actions}"

    @property
    def webhooks_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.webhooks}"

    def start(self, timeout: float = 360) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._spawn("sandbox", [sys.executable, "-m", "sandbox_backend", "--host", "127.0.0.1", "--port", str(self.ports.sandbox)])
        self._spawn("actions", [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.ports.actions),
                                "--logging-config-file", str(REPO / "redacted_logging.yml")],
                    private_env={"ACTION_PROOF_SECRET": self.proof_secret})
        self._spawn("webhooks", [sys.executable, "-m", "webhooks", "--host", "127.0.0.1", "--port", str(self.ports.webhooks)])
        self._spawn(
            "rasa",
            [
                str(VENV_BIN / "rasa"), "run",
                "--interface", "127.0.0.1", "--port", str(self.ports.rasa),
                "--model", str(self.model),
                "--credentials", str(REPO / "credentials.yml"),
                "--endpoints", str(self.endpoints),
                "--cors", "*",
                "--enable-api", "--auth-token", self.rasa_token,
                # Warnings and errors without what customers typed (channels/log_redaction.py).
                "--logging-config-file", str(REPO / "redacted_logging.yml"),
                *(["--debug"] if os.environ.get("STACK_DEBUG") else []),
            ],
        )
        deadline = time.monotonic() + timeout
        self._wait_until_up("sandbox", f"{self.sandbox_url}/health", deadline)
        self._wait_until_up("actions", f"{self.actions_url}/health", deadline)
        self._wait_until_up("webhooks", f"{self.webhooks_url}/health", deadline)
        self._wait_until_up("rasa", f"{self.rasa_url}/", deadline)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def say(self, sender: str, text: str) -> list[dict]:
        """One user message over the REST channel; the bot's replies."""
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "SANDBOX_API_KEY": self.api_key,
            "SANDBOX_URL": self.actions_backend_url or self.sandbox_url,
            "SANDBOX_WEBHOOK_URL": f"{self.webhooks_url}/webhooks/sandbox",
            "SANDBOX_WEBHOOK_SECRET": self.webhook_secret,
            "SANDBOX_WEBHOOK_SECRETS": self.webhook_secret,
            "RASA_URL": self.rasa_url,
            "RASA_AUTH_TOKEN": self.rasa_token,
            "ACTION_SERVER_TOKEN": self.action_token,
            # rasa-sdk listens on all interfaces unless told otherwise; the actions are for Rasa alone.
            "SANIC_HOST": os.environ.get("SANIC_HOST", "127.0.0.1"),
            "PYTHONPATH": str(REPO),
        }
        if self.sandbox_database_url:
            env["DATABASE_URL"] = self.sandbox_database_url
        if self.state_database_url:
            env["STATE_DATABASE_URL"] = self.state_database_url
        return {**env, **self.platform_env}

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _spawn(self, name: str, command: list[str], private_env: dict[str, str] | None = None) -> None:
        """`private_env`: settings only this process may see."""
        log = open(self.log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=REPO, env={**self.environment(), **(private_env or {})}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def _wait_until_up(self, name: str, url: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"the {name} server exited:\n{self.log_tail(name)}")
            try:
                if requests.get(url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the {name} server did not come up in time:\n{self.log_tail(name)}")


def action_endpoint_yaml(port: int) -> str:
    """endpoints.yml's action endpoint on another port: Rasa sends the action server's token with each call."""
    return (f'action_endpoint:\n  url: "http://127.0.0.1:{port}/webhook"\n'
            # Unquoted: Rasa replaces ${...} only in plain YAML scalars.
            '  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
