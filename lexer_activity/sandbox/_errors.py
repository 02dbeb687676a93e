"""The documented errors: status codes and messages, word for word."""

from __future__ import annotations

# From the vendor's page, "Errors". Bodies are {"error": message}; the page does not
# say how the message travels, and this is the shape api-notes tells clients to expect.
RANGE_TOO_LONG = "Invalid report - date range is too long"
FUTURE_START = "Invalid report - starting date is a future date"
INVALID_TYPE = "Invalid report - invalid type"
TOKEN_NOT_MATCHING = "Unauthorized - api token not matching"
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not found"
RATE_LIMITED = "Rate limited exceeded"


class ApiError(Exception):
    """An answer of ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
