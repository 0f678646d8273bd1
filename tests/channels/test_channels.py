"""The channel classes: credentials.yml names them and Rasa loads them under its own channel names, and on
WhatsApp and Messenger (not run end to end: they need the platforms) a message reaches the dialogue only
through the guard. REST and Socket.IO are exercised over HTTP in tests/security/test_input_guard.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from types import SimpleNamespace

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.facebook import MessengerBot
from rasa.core.run import create_http_input_channels

from channels.messaging import GuardedFacebookInput, GuardedTwilioInput
from channels.payment_data import CARD_PLACEHOLDER, IBAN_PLACEHOLDER
from local_stack import REPO

FB_SECRET = "app-secret"


def test_credentials_name_the_guarded_web_channels():
    channels = create_http_input_channels(None, str(REPO / "credentials.yml"))
    assert sorted((type(channel).__name__, channel.name()) for channel in channels) == [
        ("GuardedRestInput", "rest"), ("GuardedSocketIOInput", "socketio")]


def test_a_whatsapp_message_reaches_the_dialogue_masked_and_without_a_client():
    received: list[UserMessage] = []
    channel = GuardedTwilioInput("AC00000000000000000000000000000000", "token", "whatsapp:+4930123456")
    form = {"From": "whatsapp:+4917012345678", "Body": "my card is 4111 1111 1111 1111"}
    asyncio.run(webhook_of(channel, received.append)(SimpleNamespace(form=form)))
    (message,) = received
    assert (message.text, message.sender_id) == (f"my card is {CARD_PLACEHOLDER}", "whatsapp:+4917012345678")
    assert message.metadata == {"client": None}


def test_a_messenger_message_reaches_the_dialogue_masked_and_without_a_client(monkeypatch):
    # Rasa's Messenger marks every message seen and typing, through Facebook's API: not from a test.
    monkeypatch.setattr(MessengerBot, "send_action", _nothing)
    received: list[UserMessage] = []
    channel = GuardedFacebookInput("verify", FB_SECRET, "page-token")
    payload = {"object": "page", "entry": [{"messaging": [
        {"sender": {"id": "psid-1"}, "message": {"text": "refund to DE89 3704 0044 0532 0130 00"}}]}]}
    body = json.dumps(payload).encode()
    signature = "sha1=" + hmac.new(FB_SECRET.encode(), body, hashlib.sha1).hexdigest()
    request = SimpleNamespace(headers={"X-Hub-Signature": signature}, body=body, json=payload)
    asyncio.run(webhook_of(channel, received.append)(request))
    (message,) = received
    assert (message.text, message.sender_id) == (f"refund to {IBAN_PLACEHOLDER}", "psid-1")
    assert message.metadata == {"client": None}


async def _nothing(*_args, **_kwargs) -> None:
    return None


def webhook_of(channel, record):
    """The channel's POST /webhook handler, with `record` as Rasa's on_new_message. It says nothing, and
    without a loaded model the guard has nothing to say either: no message goes out to the platform."""
    async def on_new_message(message: UserMessage) -> None:
        record(message)

    blueprint = channel.blueprint(on_new_message)
    return next(route.handler for route in blueprint._future_routes
                if route.uri == "/webhook" and "POST" in route.methods)
