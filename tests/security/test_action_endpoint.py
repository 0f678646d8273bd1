"""Issue 9, findings 1, 3 and 4, against the real servers: only Rasa may run actions, proofs cannot be
guessed, one-time codes cannot be mailed without end, and a typed code is never used as an order number.

The conversations here are written for these tests; do not copy their phrasings into data/.
"""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
import requests
import yaml

from local_stack import REPO
from tests.e2e.conftest import Chat, sandbox_get

pytestmark = pytest.mark.e2e

ANNA = "anna.schmidt@example.com"
ACTIONS = yaml.safe_load((REPO / "domain.yml").read_text())["actions"]
# What a forged call in the finding carried: a made-up tracker that cancels a paid order of Anna's.
FORGED_CANCEL = {
    "next_action": "action_submit_service_request",
    "sender_id": "attacker",
    "version": "3.6.21",
    "domain": {},
    "tracker": {
        "sender_id": "attacker",
        "slots": {"service": "cancel", "order_id": "100232", "email": ANNA, "verified_order": "100232",
                  "service_confirmed": True, "service_checked": "cancel:100232",
                  "service_order": '{"number": "100232", "status": "paid", "total": "1", "lines": []}'},
        "latest_message": {"intent": {"name": "affirm"}, "entities": [], "text": "yes"},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
}
ORDER_DATA = re.compile(r"https://\S+|DHL|UPS|DPD|delivered|packed|on its way|Expected delivery|paid", re.I)


def call_action(stack, name: str, authorization: str | None, params: dict | None = None) -> requests.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return requests.post(f"{stack.actions_url}/webhook", json={**FORGED_CANCEL, "next_action": name},
                         headers=headers, params=params, timeout=10)


def guesses(stack) -> list[tuple[str | None, dict | None]]:
    """Ways to get in without the token: none, a made-up one, Rasa's API token, the right one as a query."""
    return [(None, None), ("Bearer " + secrets.token_hex(24), None), ("Bearer ", None),
            (f"Bearer {stack.rasa_token}", None), (stack.action_token, None), (None, {"token": stack.action_token})]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_refuses_a_call_without_the_token(stack, action):
    for authorization, params in guesses(stack):
        response = call_action(stack, action, authorization, params)
        assert response.status_code == 401, (action, authorization, response.text)
        assert response.json() == {"error": "unauthorized"}


def test_the_forged_cancellation_changes_nothing_even_with_the_token(stack):
    # Defence in depth: whoever holds the token still cannot prove an order that no form proved.
    response = call_action(stack, "action_submit_service_request", f"Bearer {stack.action_token}")
    assert response.status_code == 200
    said = [message.get("response") for message in response.json()["responses"]]
    assert said[0] == "utter_service_not_proven"
    assert sandbox_get(stack, "/v1/orders/100232")["status"] == "paid"


def test_the_action_list_is_not_public(stack):
    assert requests.get(f"{stack.actions_url}/actions", timeout=5).status_code == 401


def test_the_action_server_listens_on_loopback_only(stack):
    assert listening_addresses(stack.ports.actions) == {"127.0.0.1"}


def test_client_errors_are_4xx_json_without_echo(stack):
    marker = "ECHO-" + uuid.uuid4().hex
    authorization = {"Authorization": f"Bearer {stack.action_token}"}
    answers = [
        requests.get(f"{stack.actions_url}/webhook?{marker}=1", headers=authorization, timeout=5),
        requests.post(f"{stack.actions_url}/{marker}", data=marker, timeout=5),
        requests.post(f"{stack.actions_url}/webhook", data="{" + marker, headers=authorization, timeout=5),
        requests.post(f"{stack.actions_url}/webhook", data=b"x" * 3_000_000, headers=authorization, timeout=30),
    ]
    assert [answer.status_code for answer in answers] == [405, 404, 400, 413]
    for answer in answers:
        assert marker not in answer.text and answer.json()["error"]


def test_guessing_order_numbers_after_the_email_sees_no_order(stack, forget_attempts):
    chat = Chat(stack)
    chat.say("hello, I'd like to track a parcel")
    chat.say(f"it's {ANNA}")
    replies = [chat.say(str(number)) for number in range(100230, 100243)]
    assert not any(ORDER_DATA.search(reply) for reply in replies), replies


def test_new_conversations_do_not_start_the_guessing_afresh(stack, forget_attempts):
    # The owner of the email (Ben, here) is suspended from number proofs only; another email is not.
    for number in ("100233", "100234"):
        chat = Chat(stack)
        chat.say(f"status of order {number} please")
        reply = chat.say("ben.miller@example.com")
        assert not ORDER_DATA.search(reply), reply
    other = Chat(stack)
    other.say("where is order 100236")
    assert "delayed" in other.say("carla.rossi@example.com")


def test_code_requests_beyond_the_limit_send_no_mail(stack, forget_attempts):
    email = "david.chen@example.com"
    before = len(sandbox_get(stack, "/v1/sandbox/mailbox", to=email)["data"])
    for _ in range(6):
        chat = Chat(stack)
        chat.say("where's my stuff")
        chat.say(email)
        chat.say("i have no order number, could you mail me a code")
    assert len(sandbox_get(stack, "/v1/sandbox/mailbox", to=email)["data"]) - before == 3


def test_a_typed_code_is_never_looked_up_as_an_order_number(stack):
    email = "carla.rossi@example.com"
    chat = Chat(stack)
    chat.say("can you check on my delivery")
    chat.say(email)
    chat.say("no idea what the order number was")
    body = sandbox_get(stack, "/v1/sandbox/mailbox", to=email)["data"][-1]["body"]
    code = re.search(r"\b(\d{6})\b", body).group(1)
    assert "delayed" in chat.say(code)
    for name in ("actions", "sandbox", "rasa"):
        assert code not in (stack.log_dir / f"{name}.log").read_text(errors="replace"), name


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, port_hex = local.split(":")
                if state == "0A" and int(port_hex, 16) == port:
                    found.add(_address(address))
    return found


def _address(hex_address: str) -> str:
    if len(hex_address) == 8:  # IPv4, little-endian
        return ".".join(str(int(hex_address[i:i + 2], 16)) for i in (6, 4, 2, 0))
    return "::" if set(hex_address) == {"0"} else hex_address
