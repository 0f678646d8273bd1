"""REST and Socket.IO, as Rasa serves them, behind the guard (credentials.yml names these classes).

They keep Rasa's names ("rest", "socketio"), so the URLs, the trackers' input_channel and the webhook
receiver's output channel stay as they were.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from sanic.request import Request

from channels.client import with_client
from channels.guard import MessageGuard, OnNewMessage


class GuardedRestInput(RestInput):
    """POST /webhooks/rest/webhook."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        guard = MessageGuard.from_env()
        return guard.protect(super().blueprint(guard.wrap(on_new_message)))

    def get_metadata(self, request: Request) -> dict:
        return with_client(super().get_metadata(request), client_address(request))

    def _extract_message(self, request: Request) -> str | None:
        # Anything but a string would break Rasa's UserMessage before the guard could answer it.
        return _text_or_none(super()._extract_message(request))


class GuardedSocketIOInput(SocketIOInput):
    """Socket.IO at /socket.io, for web chat widgets."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        guard = MessageGuard.from_env()
        blueprint = guard.protect(super().blueprint(guard.wrap(on_new_message)))
        self._prepare_messages()
        self._join_session_rooms()
        return blueprint

    def _prepare_messages(self) -> None:
        """Rasa's message handler, given the metadata with our client pseudonym (it reads no address), and
        no message text but a string."""
        sio = self.sio
        namespace = self.namespace or "/"
        handle_message = sio.handlers[namespace][self.user_message_evt]

        async def prepared(sid: str, data: Any) -> None:
            if isinstance(data, dict):
                environ = sio.get_environ(sid, namespace) or {}
                supplied = _json_object(data.get(self.metadata_key))
                data = {**data, "message": _text_or_none(data.get("message")),
                        self.metadata_key: with_client(supplied, client_address(environ.get("sanic.request")))}
            await handle_message(sid, data)

        sio.on(self.user_message_evt, prepared, namespace=namespace)

    def _join_session_rooms(self) -> None:
        """Rasa's session_request handler, with the room actually joined.

        Rasa 3.6 calls AsyncServer.enter_room without `await`; python-socketio 5 made it a coroutine, so a
        client never joined its session's room and, with session_persistence, never got a reply.
        """
        sio = self.sio
        namespace = self.namespace or "/"

        async def session_request(sid: str, data: Any) -> None:
            session_id = (data if isinstance(data, dict) else {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        sio.on("session_request", session_request, namespace=namespace)


def client_address(request: Request | None) -> str | None:
    """The peer's address; behind a proxy, the one it forwards, if Sanic is told to trust it
    (SANIC_PROXIES_COUNT or SANIC_REAL_IP_HEADER with SANIC_FORWARDED_SECRET)."""
    if request is None:
        return None
    return request.remote_addr or request.ip or None


def _text_or_none(text: Any) -> str | None:
    return text if isinstance(text, str) else None


def _json_object(metadata: Any) -> Any:
    # Rasa accepts the metadata of a Socket.IO message as an object or as a JSON string.
    if isinstance(metadata, str):
        try:
            return json.loads(metadata)
        except ValueError:
            return None
    return metadata
