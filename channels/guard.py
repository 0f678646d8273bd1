"""The one check every channel runs before Rasa sees a message, and the answer every turn ends with.

A channel's blueprint hands Rasa's `on_new_message` to `MessageGuard.wrap`, so for every message:
1. too long (more than MAX_MESSAGE_CHARS characters): answered at once (utter_message_too_long), and
   never parsed or stored: language models slow down, and fail, with the length of their input;
2. a typed `/EXTERNAL_…` intent: only the webhook receiver may tell a conversation the shop's news (through
   Rasa's trigger_intent API), so such a message is dropped with utter_ask_rephrase. It is not passed on
   as plain text either: it has no customer meaning, the model would only guess at it, and the tracker,
   the logs and an agent's transcript would hold whatever link it carried;
3. card numbers, security codes and IBANs are masked before the tracker store, the logs, the NLU model or
   an agent's transcript see them; the customer is told why and how to pay safely
   (utter_payment_data_removed), and the masked message goes on as usual;
4. a turn that ends without a word from the bot gets utter_technical_problem: an apology and the way to
   reach a person. See `_answer` for why that check sits here.

The guard's own answers are the domain's responses in the model the server runs, rendered by Rasa's
response generator (`DomainResponses`), so conversation designers edit them in domain.yml like any other.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic

from channels.log_redaction import hiding
from channels.payment_data import mask_payment_data

logger = logging.getLogger(__name__)

MAX_CHARS_VARIABLE = "MAX_MESSAGE_CHARS"
# Room for a detailed complaint (about 300 words); far below what slows the NLU pipeline down.
DEFAULT_MAX_MESSAGE_CHARS = 2000
# Sanic reads SANIC_REQUEST_MAX_SIZE into app.config.REQUEST_MAX_SIZE itself; without it Sanic takes 100 MB.
REQUEST_SIZE_VARIABLE = "SANIC_REQUEST_MAX_SIZE"
# Above a 1 MB message, which still gets a friendly answer; bodies beyond it get 413 before they are read.
DEFAULT_REQUEST_MAX_BYTES = 2_000_000

UTTER_TOO_LONG = "utter_message_too_long"
UTTER_REPHRASE = "utter_ask_rephrase"
UTTER_PAYMENT_DATA_REMOVED = "utter_payment_data_removed"
UTTER_TECHNICAL_PROBLEM = "utter_technical_problem"

# What Rasa's RegexMessageHandler would read as an EXTERNAL_ intent: "/", the name (spaces around it are
# stripped), then optional entities.
TYPED_EXTERNAL_INTENT = re.compile(r"^\s*/\s*EXTERNAL_", re.IGNORECASE)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Screened:
    # What Rasa may see; None when the message stops at the door.
    text: str | None
    # The domain response the guard answers with before anything else, if any.
    response: str | None = None


def screen(text: Any, max_chars: int) -> Screened:
    """What the guard does with a message's text: what Rasa may see of it, and what to answer first."""
    if not isinstance(text, str):
        return Screened(None, UTTER_REPHRASE)
    # Length first: nothing else may spend time on a huge text.
    if len(text) > max_chars:
        return Screened(None, UTTER_TOO_LONG)
    if TYPED_EXTERNAL_INTENT.match(text):
        return Screened(None, UTTER_REPHRASE)
    masked = mask_payment_data(text)
    if masked.kinds:
        logger.info(json.dumps({"event": "payment_data_masked", "kinds": sorted(masked.kinds)}))
        return Screened(masked.text, UTTER_PAYMENT_DATA_REMOVED)
    return Screened(text)


class MessageGuard:
    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.responses = DomainResponses()

    @classmethod
    def from_env(cls) -> "MessageGuard":
        return cls(int(os.environ.get(MAX_CHARS_VARIABLE) or DEFAULT_MAX_MESSAGE_CHARS))

    def protect(self, blueprint: Blueprint) -> Blueprint:
        """The channel's blueprint, made to hand the guard the server once it starts."""
        blueprint.listener("before_server_start")(self._start)
        return blueprint

    def wrap(self, on_new_message: OnNewMessage) -> OnNewMessage:
        async def guarded(message: UserMessage) -> None:
            await self.handle(message, on_new_message)

        return guarded

    async def handle(self, message: UserMessage, on_new_message: OnNewMessage) -> None:
        screened = screen(message.text, self.max_chars)
        if screened.response:
            await self.responses.send(message, screened.response, max_chars=self.max_chars)
        if screened.text is None:
            logger.info(json.dumps({"event": "message_refused", "response": screened.response,
                                    "chars": len(message.text) if isinstance(message.text, str) else None}))
            return
        # Whatever Rasa logs at WARNING and above while it handles the message leaves its text out.
        with hiding(message.text, screened.text):
            await self._answer(_with(message, text=screened.text), on_new_message)

    async def _answer(self, message: UserMessage, on_new_message: OnNewMessage) -> None:
        """Rasa's turn, and an apology with the way to a person when the turn says nothing.

        When the action server cannot be reached, RemoteAction.run raises, MessageProcessor._run_action logs
        the error and goes on with no events, and the turn ends in silence. Rasa 3.6 has no hook for a
        failed action call (RasaHQ/rasa#7630, #5588): no policy sees it, and replacing RemoteAction or the
        processor would mean patching Rasa. The channel is where every turn passes, so the guard counts what
        the bot says and answers a silent turn itself; that also covers an action that fails or times out
        for another reason, and an exception anywhere in the turn (logged by type only: its text can hold
        the message). The offer of a person is an address to write to, because the handover needs the
        action server too.
        """
        counted = CountingOutputChannel(message.output_channel)
        try:
            await on_new_message(_with(message, output_channel=counted))
        except Exception as error:  # noqa: BLE001 (errors are answers; Rasa's own log line would repeat the text)
            logger.error(json.dumps({"event": "turn_failed", "error": type(error).__name__}))
        if counted.sent == 0:
            logger.warning(json.dumps({"event": "turn_without_reply", "answer": UTTER_TECHNICAL_PROBLEM}))
            await self.responses.send(message, UTTER_TECHNICAL_PROBLEM)

    async def _start(self, app: Sanic, _loop: Any) -> None:
        self.responses.app = app
        limit_request_bodies(app)


class DomainResponses:
    """The guard's answers, from the domain of the model the server runs (which may change at run time)."""

    def __init__(self) -> None:
        self.app: Sanic | None = None

    async def send(self, message: UserMessage, response: str, **values: Any) -> None:
        agent = getattr(self.app.ctx, "agent", None) if self.app else None
        if agent is None or agent.domain is None:
            logger.error(json.dumps({"event": "guard_response_unsent", "response": response, "reason": "no model"}))
            return
        # The guard's answers depend on no conversation state: an empty tracker renders them.
        tracker = DialogueStateTracker(message.sender_id, agent.domain.slots)
        generated = await agent.nlg.generate(response, tracker, message.output_channel.name(), **values)
        if generated is None:
            logger.error(json.dumps({"event": "guard_response_unsent", "response": response,
                                     "reason": "not in the model's domain: retrain"}))
            return
        await message.output_channel.send_response(message.sender_id, generated)


class CountingOutputChannel(OutputChannel):
    """The channel's output as it is, counting what the bot says (Rasa sends every message through
    send_response)."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.sent = 0

    def name(self) -> str:  # type: ignore[override]  (the wrapped channel's, for channel-specific responses)
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.channel.send_response(recipient_id, message)


def limit_request_bodies(app: Sanic) -> None:
    if REQUEST_SIZE_VARIABLE not in os.environ:
        app.config.REQUEST_MAX_SIZE = DEFAULT_REQUEST_MAX_BYTES


def _with(message: UserMessage, **changes: Any) -> UserMessage:
    """A copy of `message` with `changes` (text, output_channel)."""
    fields = {"text": message.text, "output_channel": message.output_channel, "sender_id": message.sender_id,
              "parse_data": message.parse_data, "input_channel": message.input_channel,
              "message_id": message.message_id, "metadata": message.metadata}
    return UserMessage(**{**fields, **changes})
