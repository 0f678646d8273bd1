"""rasa_sdk's extension point: `rasa run actions` imports a package of this name and calls init_hooks.

The action server runs the flows that read and change customers' orders, so only Rasa may call it:
every request to the action endpoint must carry ACTION_SERVER_TOKEN as a bearer token (Rasa sends it,
see endpoints.yml), and errors are short JSON answers that never echo the request. The shops' webhooks
have a door of their own (`python -m webhooks`), so nothing public shares this port.
"""

from __future__ import annotations

import hmac
import json
import logging
import os

import pluggy
from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from actions.backends import crm, eshop

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)

# Far above any tracker Rasa sends (a long conversation is a few hundred KB); Sanic answers 413 beyond it.
MAX_ACTION_CALL_BYTES = 2_000_000
PROTECTED_PATHS = ("/webhook", "/actions")


class ActionServerGuard:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        # A missing or wrong platform setting stops the server here, with the setting's name,
        # rather than at the first customer's question.
        eshop(), crm()
        token = os.environ.get("ACTION_SERVER_TOKEN", "")
        if not token:
            # Fail closed: without a token nobody, Rasa included, can run an action.
            logger.error(json.dumps({"event": "action_server_token_missing",
                                     "hint": "set ACTION_SERVER_TOKEN here and in Rasa's endpoints.yml headers"}))
        app.config.REQUEST_MAX_SIZE = MAX_ACTION_CALL_BYTES
        app.config.FALLBACK_ERROR_FORMAT = "json"
        app.register_middleware(_require_token(token), "request")
        app.error_handler.add(SanicException, _client_error)
        app.error_handler.add(Exception, _server_error)


def _require_token(token: str):
    expected = f"Bearer {token}".encode()

    async def check(request: Request) -> HTTPResponse | None:
        if not request.path.startswith(PROTECTED_PATHS):
            return None
        given = (request.headers.get("Authorization") or "").encode()
        if token and hmac.compare_digest(given, expected):
            return None
        logger.warning(json.dumps({"event": "action_call_refused", "reason": "token"}))
        return json_response({"error": "unauthorized"}, status=401)

    return check


def _client_error(request: Request, exception: SanicException) -> HTTPResponse:
    # Wrong method, unknown route, a body too large...: the status says it; the request is not repeated.
    status = getattr(exception, "status_code", 400) or 400
    return json_response({"error": _ERRORS.get(status, "bad_request")}, status=status)


def _server_error(request: Request, exception: Exception) -> HTTPResponse:
    # The exception's text can hold a customer's data: only its type reaches the log.
    logger.error(json.dumps({"event": "action_server_error", "error": type(exception).__name__}))
    return json_response({"error": "internal_error"}, status=500)


_ERRORS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
           413: "payload_too_large"}


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(ActionServerGuard())
