"""`python -m webhooks` as a real process over real HTTP, and end to end: the sandbox ships an order, its
signed webhook reaches the running receiver, which reads the order back from the sandbox, and the fake Rasa
is asked to tell the conversation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from local_stack import free_port
from tests.conftest import REPO
from tests.webhooks.conftest import RASA_TOKEN, receiver_environment, trigger_intent_calls
from tests.webhooks.platforms import SECRETS, minutes, now, resigned, sandbox, shipped
from webhooks.conversations import ConversationLinks

CONVERSATION = "socketio-7d1e"


@pytest.fixture
def running_receiver(launch_receiver, state_url, rasa, engine, sandbox_server):
    """Reading orders back from the seeded sandbox, where 100234 is on its way."""
    ConversationLinks(engine).remember(CONVERSATION, order_number="100234")
    return launch_receiver(receiver_environment(state_url, rasa.url_for("/"), sandbox_server))


def post(server, sender: str, delivery: tuple[dict, bytes]) -> requests.Response:
    headers, body = delivery
    return requests.post(f"{server.base_url}/webhooks/{sender}", data=body, headers=headers, timeout=10)


@pytest.mark.parametrize("sender", SECRETS)
def test_every_answer_over_http(sender, running_receiver, rasa):
    headers, body = shipped(sender, "100234")
    answers = [
        post(running_receiver, sender, (headers, body)),
        post(running_receiver, sender, (headers, body)),
        post(running_receiver, sender, resigned(sender, headers, body, "wrong-secret")),
        post(running_receiver, sender, shipped(sender, "100234", sent_at=now() - minutes(10))),
        post(running_receiver, sender, resigned(sender, headers, b"{not json", SECRETS[sender][0])),
    ]
    stale = (400, "stale_delivery") if sender == "sandbox" else (200, "stale")
    assert [(a.status_code, a.headers["Content-Type"]) for a in answers] == [
        (200, "application/json"), (200, "application/json"), (401, "application/json"),
        (stale[0], "application/json"), (400, "application/json")]
    assert [a.json().get("status") or a.json()["error"]["type"] for a in answers] == [
        "applied", "duplicate", "invalid_signature", stale[1], "invalid_request"]
    assert len(trigger_intent_calls(rasa)) == 1


def test_routes_other_than_the_three_senders_are_json_errors(running_receiver):
    assert requests.post(f"{running_receiver.base_url}/webhooks/magento", data=b"{}", timeout=5).status_code == 404
    wrong_method = requests.get(f"{running_receiver.base_url}/webhooks/shopify", timeout=5)
    assert wrong_method.status_code == 405 and wrong_method.headers["Content-Type"] == "application/json"


def test_concurrent_copies_over_http_apply_once(running_receiver, rasa):
    delivery = shipped("sandbox", "100234", delivery_id="one-delivery")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: post(running_receiver, "sandbox", delivery).json()["status"], range(8)))
    assert sorted(answers) == ["applied"] + ["duplicate"] * 7
    assert len(trigger_intent_calls(rasa)) == 1


def test_with_rasa_down_the_receiver_answers_200_and_logs_it(launch_receiver, state_url, engine, sandbox_server):
    ConversationLinks(engine).remember(CONVERSATION, order_number="100234")
    server = launch_receiver(receiver_environment(state_url, f"http://127.0.0.1:{free_port()}", sandbox_server))
    answer = post(server, "shopify", shipped("shopify", "100234"))
    assert (answer.status_code, answer.json()) == (200, {"status": "applied"})
    logged = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    failures = [line for line in logged if line["event"] == "proactive_message_failed"]
    assert [(line["intent"], line["error"]) for line in failures] == [("EXTERNAL_order_shipped", "ConnectionError")]
    assert CONVERSATION not in server.output() and "ben.miller" not in server.output()


def test_without_the_shops_settings_the_receiver_does_not_start(state_url, rasa, sandbox_server):
    """It could confirm no news: better no receiver than one that takes deliveries blind."""
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
                   **receiver_environment(state_url, rasa.url_for("/"), sandbox_server), "ESHOP_PLATFORM": "shopify"}
    finished = subprocess.run([sys.executable, "-m", "webhooks", "--port", str(free_port())], cwd=REPO,
                              env=environment, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    [problem] = [json.loads(line) for line in finished.stderr.splitlines() if "misconfigured" in line]
    assert problem["event"] == "webhook_receiver_misconfigured" and "SHOPIFY_SHOP_URL" in problem["problem"]


def test_the_unsigned_sandbox_request_is_refused_by_the_receiver(running_receiver):
    headers, body = sandbox({"event": "order.shipped", "data": {}}, "order.shipped")
    del headers["X-Sandbox-Signature"]
    answer = post(running_receiver, "sandbox", (headers, body))
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "invalid_signature"


def test_the_sandbox_ships_an_order_and_the_running_receiver_tells_the_conversation(
        launch_sandbox, launch_receiver, state_url, engine, rasa):
    ConversationLinks(engine).remember(CONVERSATION, order_number="100232")
    # Each needs the other's address: the receiver reads the order back from the sandbox that sent the news.
    receiver_port = free_port()
    shop = launch_sandbox(extra_env={"SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{receiver_port}/webhooks/sandbox",
                                     "SANDBOX_WEBHOOK_SECRET": SECRETS["sandbox"][0]})
    receiver = launch_receiver(receiver_environment(state_url, rasa.url_for("/"), shop), port=receiver_port)
    parcel = {"carrier": "dpd", "tracking_number": "01505029999", "estimated_delivery": "2030-05-03"}
    shipping = requests.post(f"{shop.base_url}/v1/sandbox/orders/100232/ship", json=parcel,
                             headers={"Authorization": f"Bearer {shop.api_key}"}, timeout=10)
    assert shipping.status_code == 200, shipping.text

    calls = wait_for(lambda: trigger_intent_calls(rasa))
    assert calls == [{
        "conversation": CONVERSATION,
        "args": {"output_channel": "latest", "token": RASA_TOKEN},
        "body": {"name": "EXTERNAL_order_shipped", "entities": {"order_id": "100232"}},
    }]
    applied = [json.loads(line) for line in receiver.output().splitlines() if '"webhook_applied"' in line]
    assert [(line["sender"], line["topic"], line["outcome"]) for line in applied] == [
        ("sandbox", "order.shipped", "told")]


def wait_for(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    return check()
