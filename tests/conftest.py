"""Fixtures shared by every suite: the sandbox backend as a real server process over real HTTP."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local_stack import free_port

REPO = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 30


@dataclass
class SandboxServer:
    """A running `python -m sandbox_backend`. Its stdout and stderr go to `log`."""

    base_url: str
    api_key: str
    database_url: str
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


def sandbox_environment(api_key: str, database_url: str) -> dict[str, str]:
    """Only what the server needs: nothing from the developer's shell (a stray DATABASE_URL, SANIC_*) leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "SANDBOX_API_KEY": api_key,
        "DATABASE_URL": database_url,
    }


def start_sandbox(work: Path, database_url: str, *, reset: bool = True, api_key: str | None = None,
                  extra_env: dict[str, str] | None = None) -> SandboxServer:
    """Start the sandbox on a free port and wait for /health; fail with the server's output if it does not come up.

    `extra_env`: settings beyond the key and the database, e.g. where to send webhooks.
    """
    port, api_key = free_port(), api_key or secrets.token_urlsafe(16)
    log = work / f"sandbox-{port}.log"
    command = [sys.executable, "-m", "sandbox_backend", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command + (["--reset"] if reset else []),
            cwd=REPO,
            env={**sandbox_environment(api_key, database_url), **(extra_env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = SandboxServer(f"http://127.0.0.1:{port}", api_key, database_url, log, process)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the sandbox exited with code {process.returncode}:\n{server.output()}")
        try:
            if requests.get(f"{server.base_url}/health", timeout=1).ok:
                return server
        except requests.RequestException:
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"the sandbox did not answer /health within {STARTUP_SECONDS} s:\n{server.output()}")


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """One sandbox for the whole session, on a fresh SQLite file: `.base_url`, `.api_key`, `.output()`."""
    work = tmp_path_factory.mktemp("sandbox")
    server = start_sandbox(work, f"sqlite:///{work / 'sandbox.db'}")
    yield server
    server.stop()


@pytest.fixture
def launch_sandbox(tmp_path):
    """Start extra sandboxes (own database, own key) for one test; all are stopped after it."""
    servers = []

    def launch(database_url: str | None = None, **options) -> SandboxServer:
        server = start_sandbox(tmp_path, database_url or f"sqlite:///{tmp_path / 'sandbox.db'}", **options)
        servers.append(server)
        return server

    yield launch
    for server in servers:
        server.stop()
