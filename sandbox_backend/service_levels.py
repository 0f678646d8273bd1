"""When the support team owes an answer to a ticket: the due time its priority gives it.

Urgent tickets are answered within hours, around the clock; the others within business days, Monday
to Friday, by the same time of day they were opened. Holidays are not known to the sandbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

AROUND_THE_CLOCK = {"urgent": timedelta(hours=4)}
BUSINESS_DAYS = {"high": 1, "normal": 2, "low": 5}
SATURDAY = 5


def due_by(priority: str, opened_at: datetime) -> datetime:
    if priority in AROUND_THE_CLOCK:
        return opened_at + AROUND_THE_CLOCK[priority]
    return add_business_days(opened_at, BUSINESS_DAYS[priority])


def add_business_days(start: datetime, days: int) -> datetime:
    """The `days`-th weekday after `start`, at the same time: Friday + 1 and Saturday + 1 are both Monday."""
    moment = start
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < SATURDAY:
            days -= 1
    return moment
