"""Fixtures shared by every suite: the sandbox backend as a real server process."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local_stack import REPO, free_port


@dataclass
class SandboxServer:
    base_url: str
    api_key: str
    log: Path
    process: subprocess.Popen

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_sandbox(work: Path, database_url: str) -> SandboxServer:
    port, api_key = free_port(), secrets.token_urlsafe(16)
    log = work / "sandbox.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox_backend", "--host", "127.0.0.1", "--port", str(port), "--reset"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "SANDBOX_API_KEY": api_key, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = SandboxServer(f"http://127.0.0.1:{port}", api_key, log, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the sandbox exited:\n{server.output()}")
        try:
            if requests.get(f"{server.base_url}/health", timeout=1).ok:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"the sandbox did not come up in 30 s:\n{server.output()}")


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("sandbox")
    server = start_sandbox(work, f"sqlite:///{work / 'sandbox.db'}")
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)
