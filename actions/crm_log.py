"""Keeping the CRM's timeline of each customer complete without slowing the reply.

The write runs after the answer has gone out; a failure is logged, never shown
to the customer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Coroutine

from actions.backends import crm
from integrations.errors import IntegrationError

logger = logging.getLogger(__name__)

_pending: set[asyncio.Task] = set()


def record_interaction_later(*, email: str, **details) -> None:
    """Upsert the contact by email and log the interaction (CRM.log_interaction's keywords)."""
    _run_in_background(_record_interaction(email, details))


async def wait_for_pending_writes() -> None:
    """Let background writes finish (for shutdown and tests)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


def _run_in_background(write: Coroutine) -> None:
    task = asyncio.get_running_loop().create_task(write)
    # The loop keeps only weak references to tasks; this set keeps them alive.
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _record_interaction(email: str, details: dict) -> None:
    try:
        contact = await crm().upsert_contact(email)
        await crm().log_interaction(contact.id, **details)
    except IntegrationError as exc:
        logger.warning(
            json.dumps(
                {
                    "event": "crm_write_failed",
                    "kind": details["kind"],
                    "error": type(exc).__name__,
                    "correlation_id": details["conversation_id"],
                }
            )
        )
