"""PCM's exceptions. Code anywhere raises these; only pcm/handlers.py turns them into JSON.

Each carries its HTTP status, a message for the client and optional `details` (shown with
`?details=true`).
"""

from __future__ import annotations

from typing import Any


class PCMError(Exception):
    status_code = 500
    default_message = "Internal server error"
    # Whether `details` belong in every answer (part of the contract, e.g. quota usage)
    # rather than only in answers to ?details=true.
    public_details = False

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class BadRequest(PCMError):
    status_code = 400
    default_message = "Bad request"


class Forbidden(PCMError):
    status_code = 403
    default_message = "You may not do this"


class NotFound(PCMError):
    status_code = 404
    default_message = "Not found"


class Conflict(PCMError):
    """The action makes no sense in the current state (reboot a deleted instance)."""

    status_code = 409
    default_message = "Conflict with the current state"


class Unprocessable(PCMError):
    """A repeated Idempotency-Key with a different body."""

    status_code = 422
    default_message = "Unprocessable request"


class RequestTooLarge(PCMError):
    status_code = 413
    default_message = "Request body too large"


class Unavailable(PCMError):
    """A cloud or the Inventory cannot be reached, or the cloud is disabled."""

    status_code = 503
    default_message = "Service unavailable"


class LimitExceeded(PCMError):
    """A request above a cloud's per-instance limits or quotas (507 Insufficient Storage)."""

    status_code = 507
    default_message = "Request exceeds the cloud's limits"
    public_details = True
