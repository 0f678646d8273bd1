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


class NotFound(ApiError):
    status, type = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, type = 405, "method_not_allowed"


class Conflict(ApiError):
    status, type = 409, "conflict"


class ValidationFailed(ApiError):
    status, type = 422, "validation_failed"
