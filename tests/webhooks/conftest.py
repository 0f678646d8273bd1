"""Fixtures of the webhook tests: a receiver over a fresh state database, a fake Rasa over real HTTP
that records trigger_intent calls, an in-memory e-shop to read orders back from, and a recording stand-in
for the e-shop's read cache."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from integrations.errors import NotFound, ServiceUnavailable
from integrations.eshop import EShop
from integrations.models import LoginCodeCheck, Money, Order, OrderStatus, Shipment
from integrations.state_database import state_engine
from local_stack import free_port
from tests.conftest import REPO, SandboxServer
from tests.webhooks.platforms import EMAIL, SECRETS
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


class ShopStandIn(EShop):
    """The e-shop port in memory: the orders as the shop holds them now; `down` makes every read fail."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.down = False

    def holds(self, number: str, status: OrderStatus, *shipments: Shipment, email: str = EMAIL) -> None:
        self.orders[number] = Order(number=number, status=status, email=email, customer_id="7002",
                                    placed_at=datetime(2030, 4, 28, tzinfo=timezone.utc),
                                    total=Money(Decimal("89.90"), "EUR"), shipments=shipments)

    async def get_order(self, number: str) -> Order:
        if self.down:
            raise ServiceUnavailable("the shop is down")
        if number not in self.orders:
            raise NotFound(f"no order {number}")
        return self.orders[number]

    async def orders_of_customer(self, customer_id: str) -> list[Order]:
        return [order for order in self.orders.values() if order.customer_id == customer_id]

    async def send_login_code(self, email: str) -> None:
        return None

    async def verify_login_code(self, email: str, code: str) -> LoginCodeCheck:
        return LoginCodeCheck(verified=False)


def parcel(status: str = "in_transit", *, carrier: str = "DHL", tracking_number: str = "JJD0099123456",
           eta: date | None = date(2030, 5, 3), delay_reason: str | None = None) -> Shipment:
    return Shipment(carrier_name=carrier, tracking_number=tracking_number,
                    tracking_url=f"https://tracking.example/{carrier.lower()}/{tracking_number}", status=status,
                    shipped_at=datetime(2030, 4, 30, tzinfo=timezone.utc), estimated_delivery=eta, delivered_at=None,
                    delay_reason=delay_reason)


@pytest.fixture
def eshop() -> ShopStandIn:
    """The shop as the webhooks in these tests describe it: Ben's orders 100234 and 100235 are on their way."""
    shop = ShopStandIn()
    for number in ("100234", "100235"):
        shop.holds(number, OrderStatus.SHIPPED, parcel())
    return shop


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


def build_receiver(engine, rasa_url: str, cache: RecordingCache, eshop: EShop,
                   secrets: dict | None = None) -> WebhookReceiver:
    deliveries, links = DeliveryLog(engine), ConversationLinks(engine)
    reactions = Reactions(links, deliveries, Rasa(rasa_url, RASA_TOKEN), eshop, cache, "/v1/products")
    return WebhookReceiver(SECRETS if secrets is None else secrets, deliveries, links, reactions)


@pytest.fixture
def receiver(engine, rasa, cache, eshop) -> WebhookReceiver:
    return build_receiver(engine, rasa.url_for("/"), cache, eshop)


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

    def launch(env: dict[str, str], port: int | None = None) -> ReceiverProcess:
        port = port or free_port()
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


def receiver_environment(state_url: str, rasa_url: str, shop: SandboxServer) -> dict[str, str]:
    """The receiver's settings, reading orders back from the sandbox `shop`."""
    return {
        "ESHOP_PLATFORM": "sandbox",
        "SANDBOX_URL": shop.base_url,
        "SANDBOX_API_KEY": shop.api_key,
        "STATE_DATABASE_URL": state_url,
        "RASA_URL": rasa_url,
        "RASA_AUTH_TOKEN": RASA_TOKEN,
        **{f"{sender.upper()}_WEBHOOK_SECRETS": ",".join(secrets) for sender, secrets in SECRETS.items()},
    }
