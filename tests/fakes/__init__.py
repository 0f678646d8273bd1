"""Local stand-ins for platforms that cannot run here, speaking their documented wire formats.

`FakePlatform` is what the platform fakes share: a real HTTP server on a loopback port (so
calls go through the same sockets, timeouts and retries as in production), a log of every
request received, and the ways an upstream fails, switched on by a test with `misbehave`.
"""

from __future__ import annotations

import json
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, TypeVar
from urllib.parse import parse_qsl, urlsplit

THROTTLE, ERROR_500, MALFORMED, HTML, SLOW = "throttle", "error_500", "malformed", "html", "slow"
DEFAULT_SLOW_SECONDS = 2.0
HTML_ERROR_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """HTTP header names are case-insensitive."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers or {})


class FakePlatform:
    """Subclasses say how the platform answers (`answer`) and how it fails (`throttled`, `internal_error`)."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[Request] = []
        self._mode: str | None = None
        self._slow_seconds = DEFAULT_SLOW_SECONDS
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        # A handler still sleeping for SLOW must not hold up the end of a test.
        self._server.block_on_close = False

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def misbehave(self, mode: str | None, *, seconds: float = DEFAULT_SLOW_SECONDS) -> None:
        """Answer every request from now on as `mode` says (THROTTLE, ERROR_500, MALFORMED, HTML, SLOW); None: behave.

        SLOW answers normally after `seconds`; MALFORMED cuts the normal answer in half.
        """
        self._mode, self._slow_seconds = mode, seconds

    def start(self) -> None:
        # A short poll keeps stop() quick: it waits for the serving loop to notice.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def answer(self, request: Request) -> Reply:
        raise NotImplementedError

    def throttled(self, request: Request) -> Reply:
        raise NotImplementedError

    def internal_error(self) -> Reply:
        raise NotImplementedError

    def respond(self, request: Request) -> Reply:
        self.requests.append(request)
        mode = self._mode
        if mode == SLOW:
            self._stopping.wait(self._slow_seconds)
        if mode == THROTTLE:
            return self.throttled(request)
        if mode == ERROR_500:
            return self.internal_error()
        if mode == HTML:
            return Reply(502, HTML_ERROR_PAGE, content_type="text/html")
        reply = self.answer(request)
        if mode == MALFORMED:
            return Reply(200, reply.body[: len(reply.body) // 2], reply.headers)
        return reply


F = TypeVar("F", bound=FakePlatform)


@contextmanager
def running(fake: F) -> Iterator[F]:
    """The fake, started; stopped on exit."""
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def serve_until_terminated(fake: FakePlatform, details: dict[str, str]) -> None:
    """For `python -m tests.fakes.<platform>`: print where it listens (a JSON line), then serve until SIGTERM."""
    signal.signal(signal.SIGTERM, lambda *_: fake._stopping.set())
    fake.start()
    print(json.dumps({"base_url": fake.base_url, **details}), flush=True)
    try:
        fake._stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


def _handler_for(fake: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Request(self.command, url.path, dict(parse_qsl(url.query)), dict(self.headers.items()), body)
            self._send(fake.respond(request))

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def _send(self, reply: Reply) -> None:
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (its time budget): exactly what SLOW is for

        def log_message(self, *args: Any) -> None:  # the test output stays readable
            pass

    return Handler
