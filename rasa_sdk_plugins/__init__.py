"""rasa_sdk's extension point: `rasa run actions` imports a package of this name and calls init_hooks.

We use it to serve the signed webhook receiver (webhooks/) from the action server itself, so one
process holds both the read cache the actions use and the webhooks that say when it is stale.
"""

from __future__ import annotations

import json
import logging

import pluggy
from sanic import Sanic

from actions.backends import crm, eshop
from webhooks.app import receiver_from_env, webhook_blueprint

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)


class WebhookReceiverPlugin:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        # A missing or wrong platform setting stops the server here, with the setting's name,
        # rather than at the first customer's question.
        eshop(), crm()
        receiver = receiver_from_env(invalidate_cache=lambda _prefix: eshop().forget_cached_catalog())
        for sender in receiver.unconfigured():
            # Refused with a 503 until its secret is set; said once at start so operators see why.
            logger.info(json.dumps({"event": "webhook_sender_unconfigured", "sender": sender}))
        app.blueprint(webhook_blueprint(receiver))


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(WebhookReceiverPlugin())
