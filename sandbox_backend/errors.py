"""API errors: each becomes a 4xx answer with a JSON body, never a 500."""

from __future__ import annotations


class ApiError(Exception):
    status = 400
    type = "invalid_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


class InvalidRequest(ApiError):
    status, type = 400, "invalid_request"


class AuthenticationFailed(ApiError):
    status, type = 401, "authentication_failed"


class Forbidden(ApiError):
    """A signed link that was not signed here, or no longer holds: the route needs no key, the link is the key."""

    status, type = 403, "forbidden"


class NotFound(ApiError):
    status, type = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, type = 405, "method_not_allowed"


class Conflict(ApiError):
    status, type = 409, "conflict"


class ValidationFailed(ApiError):
    status, type = 422, "validation_failed"


class OrderStateConflict(Conflict):
    """The order's state forbids the change. `type` names the state, so a client can tell the customer why:
    order_already_shipped (it has left the warehouse) or order_cancelled."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.type = reason


class ReturnRefused(ValidationFailed):
    """Items the return policy refuses; `fields` names each one ("items[0]") with a reason code."""

    type = "return_refused"
