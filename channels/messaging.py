"""WhatsApp (through Twilio) and Messenger, as Rasa serves them, behind the guard.

To use them, name these classes in credentials.yml instead of Rasa's `twilio:` and `facebook:` keys (the
settings stay the same; see the README). They keep Rasa's names, so the webhook URLs do not change.

Their messages come from the platform's servers, not from the customer's device: there is no customer
address to turn into a client pseudonym, so "client" is None and the sender id (the phone number or
the page-scoped id the platform vouches for) is what identifies the customer.
"""

from __future__ import annotations

from rasa.core.channels.facebook import FacebookInput
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint
from sanic.request import Request

from channels.client import with_client
from channels.guard import MessageGuard, OnNewMessage


class GuardedTwilioInput(TwilioInput):
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        guard = MessageGuard.from_env()
        return guard.protect(super().blueprint(guard.wrap(on_new_message)))

    def get_metadata(self, request: Request) -> dict:
        return with_client(None, None)


class GuardedFacebookInput(FacebookInput):
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        guard = MessageGuard.from_env()
        return guard.protect(super().blueprint(guard.wrap(on_new_message)))

    def get_metadata(self, request: Request) -> dict:
        return with_client(None, None)
