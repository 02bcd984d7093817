"""The one exception actions raise for a refusal the client should see."""
from __future__ import annotations


class ActionError(Exception):
    """A refusal the client should see: ``code`` is snake_case, ``status`` the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 422, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        # seconds until a refused (429) request may succeed: ``Retry-After`` and ``error.retry_after``
        self.retry_after = retry_after


def not_found(what: str = "conversation") -> ActionError:
    # One message for "does not exist" and "not yours": nothing leaks by comparison.
    return ActionError("not_found", f"{what} not found", 404)
