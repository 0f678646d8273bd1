"""The errors every adapter raises, whatever platform sits behind it.

Actions catch these, never an HTTP library's exceptions, so a platform can be
swapped without touching a single flow.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Base class: something went wrong talking to the e-shop or the CRM.

    `code` is the platform's own name for the error when it gave one (the sandbox's error type, HubSpot's
    category, WooCommerce's code): adapters map it onto what it means, so none needs to guess from a message.
    """

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ServiceUnavailable(IntegrationError):
    """The platform is down, too slow for the time budget, or answered garbage.

    The user should get an apology and the offer of a human; retrying later may work.
    """


class RateLimited(ServiceUnavailable):
    """The platform asked us to slow down (HTTP 429); `retry_after` says for how long, when it said."""

    def __init__(self, message: str, retry_after: float | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class NotFound(IntegrationError):
    """The platform does not know the thing asked for."""


class InvalidRequest(IntegrationError):
    """The platform refused the request as malformed or breaking a rule."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.fields = fields or {}


class Conflict(IntegrationError):
    """An idempotency key was reused for a different request."""


class Misconfigured(IntegrationError):
    """The platform is not set up the way the adapter needs (a setting or custom property missing).

    The shop's problem, not the user's: writes wait in the outbox until it is fixed, the user hears the apology.
    """


class AuthenticationFailed(Misconfigured):
    """The credentials were refused or lack a scope."""


class Unsupported(IntegrationError):
    """The platform behind this adapter cannot do this (e.g. send a login code); the flow must take another way."""


class Refused(IntegrationError):
    """The platform understood the request, but its rules refuse it; `reason` says which, so the flow can explain.

    Reasons: order_already_shipped, order_cancelled (changes and cancellations); for returns not_returnable,
    order_cancelled, not_delivered_yet, outside_return_window, already_returned, not_in_order,
    quantity_exceeds_returnable, condition_not_accepted, with `items` giving each refused SKU's reason.
    """

    def __init__(self, message: str, reason: str, items: dict[str, str] | None = None) -> None:
        super().__init__(message, code=reason)
        self.reason = reason
        self.items = items or {}
