"""Applying each delivery once: platforms retry, and an attacker may replay a captured delivery.

A delivery is recorded before it is applied, in its own transaction, and the unique key on
(sender, delivery id) lets exactly one of two concurrent copies through. The price is at most once: a
crash between recording and applying loses that delivery, which for a proactive message is better than
telling the customer twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from integrations.state_database import utc_now
from webhooks.tables import WebhookDelivery

# Longer than any platform retries (Shopify: 4 hours), so a late retry is still known.
KEEP = timedelta(days=7)


class DeliveryLog:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def first_time(self, sender: str, delivery_id: str) -> bool:
        """Record the delivery; False if it was recorded before (by this or another process)."""
        try:
            with Session(self._engine, future=True) as session, session.begin():
                session.add(WebhookDelivery(sender=sender, delivery_id=delivery_id, received_at=self._clock()))
        except IntegrityError:
            return False
        return True

    def purge(self) -> int:
        """Forget deliveries older than KEEP; returns how many."""
        with Session(self._engine, future=True) as session, session.begin():
            return session.execute(
                delete(WebhookDelivery).where(WebhookDelivery.received_at < self._clock() - KEEP)
            ).rowcount
