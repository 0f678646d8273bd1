"""CRM writes that must not be lost, delivered through the durable outbox.

Interaction logs go out after the answer, so they never slow the reply; a case
for a human is tried at once because the customer wants its number. Whatever
the CRM cannot take now stays in the outbox and is retried in the background
until it can.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from functools import lru_cache
from typing import Any, Coroutine

from actions.backends import crm
from integrations.config import state_database_url
from integrations.outbox import Outbox, Outcome
from integrations.state_database import state_engine
from integrations.transport import answer_within

logger = logging.getLogger(__name__)

REDELIVERY_INTERVAL = 5.0

_pending: set[asyncio.Task] = set()
# One redelivery loop per event loop (tests run several loops one after another).
_redelivery: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@lru_cache(maxsize=1)
def outbox() -> Outbox:
    return Outbox(state_engine(state_database_url()), deliver_crm_write)


async def deliver_crm_write(kind: str, payload: dict[str, Any]) -> Any:
    """Perform one stored write on the CRM; the outbox calls this until it succeeds."""
    if kind == "interaction":
        contact = await crm().upsert_contact(payload["email"])
        return await crm().log_interaction(contact.id, **payload["details"])
    if kind == "ticket":
        return await crm().create_ticket(**payload)
    raise ValueError(f"no CRM write of kind {kind!r}")


def record_interaction_later(*, email: str, **details) -> None:
    """Upsert the contact by email and log the interaction (CRM.log_interaction's keywords), after the reply."""
    write = outbox().submit("interaction", {"email": email, "details": details}, details["idempotency_key"])
    _run_in_background(write)


def record_case_later(**ticket) -> None:
    """Open a case after the reply (CRM.create_ticket's keywords), for cases nobody waits for the number of."""
    _run_in_background(outbox().submit("ticket", ticket, ticket["idempotency_key"]))


async def open_ticket(**ticket) -> Outcome:
    """Open a case now if the CRM answers (CRM.create_ticket's keywords); otherwise it is kept and sent later."""
    _keep_redelivering()
    return await outbox().submit("ticket", ticket, ticket["idempotency_key"])


async def wait_for_pending_writes() -> None:
    """Let the writes started for the answers so far finish (for shutdown and tests)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


def _run_in_background(write: Coroutine) -> None:
    _keep_redelivering()
    task = asyncio.get_running_loop().create_task(_after_the_reply(write))
    # The loop keeps only weak references to tasks; this set keeps them alive.
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def _keep_redelivering() -> None:
    loop = asyncio.get_running_loop()
    if loop not in _redelivery:
        _redelivery[loop] = loop.create_task(_redeliver_forever())


async def _after_the_reply(write: Coroutine) -> Any:
    # The task inherited the action's deadline; written after the reply, it has each call's full budget.
    answer_within(None)
    return await write


async def _redeliver_forever() -> None:
    answer_within(None)
    while True:
        await asyncio.sleep(REDELIVERY_INTERVAL)
        try:
            await outbox().deliver_due()
        except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup; the next round retries
            logger.exception("outbox redelivery round failed")
