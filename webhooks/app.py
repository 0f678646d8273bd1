"""The receiver over HTTP: POST /webhooks/shopify, /webhooks/woocommerce and /webhooks/sandbox.

webhook_blueprint() mounts in any Sanic app (the action server's, so that a changed product empties the
cache the actions read through); create_app() serves it alone (`python -m webhooks`).

Settings come from the environment: SHOPIFY_WEBHOOK_SECRETS, WOOCOMMERCE_WEBHOOK_SECRETS and
SANDBOX_WEBHOOK_SECRETS (comma-separated, newest first), STATE_DATABASE_URL, RASA_URL and RASA_AUTH_TOKEN,
and the e-shop's, as for the actions (ESHOP_PLATFORM and its settings): orders are read back from the shop
before a customer is told anything.
"""

from __future__ import annotations

import asyncio
import os
from typing import Callable, Mapping

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from integrations.config import eshop_from_env, state_database_url
from integrations.state_database import state_engine
from webhooks.conversations import ConversationLinks
from webhooks.deliveries import DeliveryLog
from webhooks.reactions import DEFAULT_RASA_URL, SANDBOX_CATALOG, Rasa, Reactions
from webhooks.receiver import WebhookReceiver
from webhooks.signatures import VERIFIERS

# Far above any order or product payload; a body this size is not a webhook.
MAX_BODY_BYTES = 5_000_000


def receiver_from_env(
    env: Mapping[str, str] = os.environ,
    invalidate_cache: Callable[[str], int] | None = None,
    catalog_prefix: str = SANDBOX_CATALOG,
) -> WebhookReceiver:
    engine = state_engine(state_database_url(env))
    deliveries, links = DeliveryLog(engine), ConversationLinks(engine)
    rasa = Rasa(env.get("RASA_URL") or DEFAULT_RASA_URL, env.get("RASA_AUTH_TOKEN") or None)
    secrets = {sender: _secret_list(env.get(f"{sender.upper()}_WEBHOOK_SECRETS", "")) for sender in VERIFIERS}
    reactions = Reactions(links, deliveries, rasa, eshop_from_env(env), invalidate_cache, catalog_prefix)
    return WebhookReceiver(secrets, deliveries, links, reactions)


def webhook_blueprint(receiver: WebhookReceiver) -> Blueprint:
    blueprint = Blueprint("webhooks", url_prefix="/webhooks")
    for sender in VERIFIERS:
        blueprint.add_route(_handler(receiver, sender), f"/{sender}", methods=["POST"], name=f"receive_{sender}")
    return blueprint


def create_app(receiver: WebhookReceiver, name: str = "webhooks") -> Sanic:
    app = Sanic(name, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.blueprint(webhook_blueprint(receiver))

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

    return app


def _handler(receiver: WebhookReceiver, sender: str):
    async def receive(request: Request) -> HTTPResponse:
        answer = await asyncio.to_thread(receiver.receive, sender, dict(request.headers), request.body or b"")
        return json_response(answer.body, status=answer.status)

    return receive


def _secret_list(value: str) -> list[str]:
    return [secret.strip() for secret in value.split(",") if secret.strip()]
