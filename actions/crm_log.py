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


def record_interaction_later(
    *,
    email: str,
    kind: str,
    summary: str,
    channel: str,
    conversation_id: str,
    idempotency_key: str,
    order_number: str | None = None,
    outcome: str | None = None,
) -> None:
    _run_in_background(
        _record_interaction(
            email=email,
            kind=kind,
            summary=summary,
            channel=channel,
            conversation_id=conversation_id,
            idempotency_key=idempotency_key,
            order_number=order_number,
            outcome=outcome,
        )
    )


async def wait_for_pending_writes() -> None:
    """Let background writes finish (for shutdown and tests)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


def _run_in_background(write: Coroutine) -> None:
    task = asyncio.get_running_loop().create_task(write)
    # The loop keeps only weak references to tasks; this set keeps them alive.
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _record_interaction(*, email: str, idempotency_key: str, conversation_id: str, **details) -> None:
    try:
        contact = await crm().upsert_contact(email)
        await crm().log_interaction(
            contact.id, conversation_id=conversation_id, idempotency_key=idempotency_key, **details
        )
    except IntegrationError as exc:
        logger.warning(
            json.dumps(
                {
                    "event": "crm_write_failed",
                    "kind": details["kind"],
                    "error": type(exc).__name__,
                    "correlation_id": conversation_id,
                }
            )
        )
