"""A loopback HTTP proxy that passes requests to a real upstream, or fails the way upstreams fail.

The fault tests put it between the action server and the sandbox: down, slow (the upstream still acts,
the answer comes 2 s later), 500, 429 with Retry-After, malformed JSON, an HTML error page.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

PASS, DOWN, SLOW, ERROR_500, RATE_LIMITED, MALFORMED, HTML = (
    "pass", "down", "slow", "error_500", "rate_limited", "malformed", "html")
FAULTS = (DOWN, SLOW, ERROR_500, RATE_LIMITED, MALFORMED, HTML)
FORWARDED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-ID", "Accept")
SLOW_SECONDS = 2.0


class FaultProxy:
    def __init__(self, upstream: str, port: int) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = port
        self.mode = PASS
        self.requests_seen = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._handle(self)

            do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

            def log_message(self, *args) -> None:  # the test output stays readable
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def set_mode(self, mode: str) -> None:
        """DOWN closes the listening socket, so connections are refused as with a dead upstream."""
        if mode == DOWN and self._server is not None:
            self.stop()
        elif mode != DOWN and self._server is None:
            self.start()
        self.mode = mode

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests_seen += 1
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        if self.mode == ERROR_500:
            return _reply(handler, 500, b'{"error": {"type": "internal", "message": "boom"}}')
        if self.mode == RATE_LIMITED:
            return _reply(handler, 429, b'{"message": "slow down"}', {"Retry-After": "1"})
        if self.mode == MALFORMED:
            return _reply(handler, 200, b'{"data": [{"number": "1002')
        if self.mode == HTML:
            return _reply(handler, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html")
        upstream = self._forward(handler, body)
        if self.mode == SLOW:
            time.sleep(SLOW_SECONDS)
        _reply(handler, upstream.status_code, upstream.content,
               content_type=upstream.headers.get("Content-Type", "application/json"))

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> requests.Response:
        headers = {name: handler.headers[name] for name in FORWARDED_HEADERS if handler.headers.get(name)}
        return requests.request(handler.command, self.upstream + handler.path, data=body or None,
                                headers=headers, timeout=10)


def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict | None = None,
           content_type: str = "application/json") -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up first (its time budget): exactly what SLOW is for
