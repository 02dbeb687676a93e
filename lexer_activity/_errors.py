"""The exception hierarchy: every failure the SDK raises, on one screen.

```
LexerActivityError
├── APIStatusError               an HTTP error answer (.status_code, .message, .body, .response)
│   ├── BadRequestError          400
│   │   ├── DateRangeTooLongError      "Invalid report - date range is too long"
│   │   ├── FutureStartDateError       "Invalid report - starting date is a future date"
│   │   └── InvalidReportTypeError     "Invalid report - invalid type"
│   ├── AuthenticationError      401
│   ├── NotFoundError            404
│   ├── RateLimitError           429 (.retry_after)
│   └── ServerError              5xx
├── APIConnectionError           the request never got an answer
│   └── APITimeoutError
├── ResponseValidationError      an answer that is not JSON, or not the documented shape
└── ExportError                  an export job went wrong
    ├── ExportFailedError        the job reported a status other than pending/complete
    ├── ExportTimeoutError       the job was still pending when the wait ran out
    ├── DownloadError            the CSV could not be fetched whole and verified
    └── ExportFormatError        the CSV is not valid UTF-8 or not well-formed
```

No message ever contains the API token: messages are built from status codes, URLs of the
API (which never carry the token) and excerpts of answer bodies.
"""

from __future__ import annotations

from typing import Literal

import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "DateRangeTooLongError",
    "DownloadError",
    "ExportError",
    "ExportFailedError",
    "ExportFormatError",
    "ExportTimeoutError",
    "FutureStartDateError",
    "InvalidReportTypeError",
    "LexerActivityError",
    "NotFoundError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
]


class LexerActivityError(Exception):
    """Root of every exception the SDK raises on purpose."""


class APIStatusError(LexerActivityError):
    """The API answered with an HTTP error status."""

    status_code: int

    def __init__(
        self, message: str, *, response: httpx.Response, body: object, endpoint: str = ""
    ) -> None:
        where = f"{endpoint}: " if endpoint else ""
        super().__init__(f"{where}{response.status_code} {message}")
        self.status_code = response.status_code
        self.endpoint = endpoint
        self.message = message
        self.body = body
        self.response = response


class BadRequestError(APIStatusError):
    """400: the API refused the report request."""

    status_code: Literal[400]


class DateRangeTooLongError(BadRequestError):
    """400 "Invalid report - date range is too long": over 12 months."""


class FutureStartDateError(BadRequestError):
    """400 "Invalid report - starting date is a future date"."""


class InvalidReportTypeError(BadRequestError):
    """400 "Invalid report - invalid type": the API does not know the report type."""


class AuthenticationError(APIStatusError):
    """401: the token is missing or does not match."""

    status_code: Literal[401]


class NotFoundError(APIStatusError):
    """404: the vendor's general error for a malformed request."""

    status_code: Literal[404]


class RateLimitError(APIStatusError):
    """429: over the rate window, after every allowed retry (or with an absurd Retry-After)."""

    status_code: Literal[429]

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object,
        endpoint: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, response=response, body=body, endpoint=endpoint)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the API failed, after every allowed retry."""


class APIConnectionError(LexerActivityError):
    """The request got no answer: DNS, refused or dropped connection, protocol error."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class ResponseValidationError(LexerActivityError):
    """The answer is not JSON, or not the documented shape.

    The message names the endpoint or report type and quotes a short excerpt of the body.
    """

    def __init__(self, message: str, *, endpoint: str, excerpt: str) -> None:
        super().__init__(f"{endpoint}: {message}; body starts {excerpt!r}")
        self.endpoint = endpoint
        self.excerpt = excerpt


class ExportError(LexerActivityError):
    """Root of the export-job errors."""


class ExportFailedError(ExportError):
    """The export job reported a status other than ``pending`` or ``complete``."""

    def __init__(self, message: str, *, status: str | None, job_token: str) -> None:
        super().__init__(message)
        self.status = status
        self.job_token = job_token


class ExportTimeoutError(ExportError):
    """The export job was still pending when ``timeout`` ran out."""

    def __init__(self, message: str, *, job_token: str, waited: float) -> None:
        super().__init__(message)
        self.job_token = job_token
        self.waited = waited


class DownloadError(ExportError):
    """The CSV could not be downloaded whole and verified; nothing was written in its place."""


class ExportFormatError(ExportError, ValueError):
    """The CSV is not valid UTF-8, or a record does not fit the header."""
