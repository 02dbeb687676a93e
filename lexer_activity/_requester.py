"""One authenticated request to the API: the shared rate window, retries, error mapping.

Every request that carries the token goes through here, and through the token's window:
reports, the three lists, export starts and status polls (api-notes: assume polls count).
Downloads from the file host do not: they carry no token (see ``_download.py``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import anyio
import httpx

from ._convert import excerpt
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    DateRangeTooLongError,
    FutureStartDateError,
    InvalidReportTypeError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from ._ratelimit import RateWindow
from ._retry import backoff_delay, is_retryable_status, parse_retry_after
from ._version import __version__

__all__ = ["Requester", "TimeoutArg"]

log = logging.getLogger("lexer_activity")

TimeoutArg = float | httpx.Timeout | None

# The documented 400 messages (vendor's page, "Errors"), matched on a fragment so that a
# change of capitalisation or punctuation does not lose the precise class.
_BAD_REQUEST_KINDS: tuple[tuple[str, type[BadRequestError]], ...] = (
    ("date range is too long", DateRangeTooLongError),
    ("future date", FutureStartDateError),
    ("invalid type", InvalidReportTypeError),
)

_USER_AGENT = f"lexer-activity/{__version__}"


class Requester:
    """Sends API requests for one client: token header, window, retries, errors."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        token: str,
        window: RateWindow,
        max_retries: int,
        max_retry_after: float,
        timeout: httpx.Timeout,
    ) -> None:
        self.http = http
        self._token = token
        self.window = window
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Requester(max_retries={self.max_retries}, token=<hidden>)"

    async def request_json(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: TimeoutArg = None,
        idempotent: bool = True,
    ) -> tuple[Any, bytes]:
        """Send one request, retrying as documented, and decode its JSON answer.

        Retries up to ``max_retries`` times after 408, 429, 5xx and connection errors, waiting
        ``backoff_delay(attempt)`` (see ``_retry.py``) or, for a 429 with ``Retry-After``, the
        time the server asked for. A 429 pauses the whole window, so every task on the token
        waits with it. A ``Retry-After`` above ``max_retry_after`` raises ``RateLimitError``
        at once rather than sleeping for it.

        ``idempotent=False`` (an export start) retries only when the server cannot have acted
        on the request: a 408, a 429, or a failure to connect. A 5xx or a dropped answer could
        follow a job that did start, and a second POST would start a second job.
        """
        headers = {
            "Auth-Api-Token": self._token,
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        if self.http.is_closed:
            raise RuntimeError(
                f"{endpoint}: this AsyncActivityClient is closed; create a new one "
                "(or use it inside 'async with')"
            )
        request_timeout = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            error: Exception
            wait: float | None = None
            try:
                async with self.window.slot():
                    started = time.monotonic()
                    # Redirects are never followed: httpx would re-send Auth-Api-Token to
                    # whatever host the Location names, and the API documents none.
                    response = await self.http.request(
                        method,
                        url,
                        json=dict(body) if body is not None else None,
                        params=params,
                        headers=headers,
                        timeout=request_timeout,
                        follow_redirects=False,
                    )
            except httpx.TimeoutException as exc:
                error = APITimeoutError(
                    f"{endpoint}: timed out ({type(exc).__name__}) at {_origin(url)}"
                )
                retryable = idempotent or isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            except httpx.DecodingError as exc:
                # A body whose Content-Encoding does not decode is a broken answer, not a
                # broken connection.
                raise ResponseValidationError(
                    f"the answer could not be decoded ({type(exc).__name__})",
                    endpoint=endpoint,
                    excerpt="",
                ) from None
            except (httpx.TransportError, httpx.HTTPError, httpx.InvalidURL) as exc:
                detail = _redact(str(exc), self._token) or "no detail"
                error = APIConnectionError(
                    f"{endpoint}: {type(exc).__name__} at {_origin(url)}: {detail}"
                )
                retryable = isinstance(exc, httpx.ConnectError) or (
                    idempotent and isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
                )
            else:
                # The response keeps its request, which an error hands to the caller.
                response.request.headers["Auth-Api-Token"] = "<hidden>"
                log.debug(
                    "%s %s (%s) -> %s in %.3f s",
                    method,
                    url,
                    endpoint,
                    response.status_code,
                    time.monotonic() - started,
                )
                if 200 <= response.status_code < 300:
                    return self._decode(response, endpoint, self._token), response.content
                error = status_error(response, endpoint, secret=self._token)
                retryable = is_retryable_status(response.status_code) and (
                    idempotent or response.status_code in (408, 429)
                )
                if isinstance(error, RateLimitError):
                    asked = error.retry_after
                    wait = backoff_delay(attempt) if asked is None else asked
                    # Whoever else is on this token is over the limit too: hold them all,
                    # even when this call gives up, but never for more than one window.
                    self.window.pause(min(wait, self.max_retry_after))
                    if asked is not None and asked > self.max_retry_after:
                        raise error from None
            if not retryable or attempt >= self.max_retries:
                raise error
            if wait is None:
                wait = backoff_delay(attempt)
            if isinstance(error, RateLimitError):
                self.window.pause(wait)
            # Every error message already starts with the endpoint.
            log.warning(
                "%s; retry %d of %d in %.2f s", error, attempt + 1, self.max_retries, wait
            )
            if not isinstance(error, RateLimitError):
                await anyio.sleep(wait)
            attempt += 1

    @staticmethod
    def _decode(response: httpx.Response, endpoint: str, secret: str) -> Any:
        content = response.content
        if not content.strip():
            raise ResponseValidationError(
                "the answer is empty, expected JSON", endpoint=endpoint, excerpt=""
            )
        try:
            # NaN, Infinity and -Infinity are not JSON (RFC 8259), though json.loads takes them.
            return json.loads(content, parse_constant=_reject_constant)
        except RecursionError:
            # The C decoder recurses once per level: a deeply nested body must not escape as a
            # RecursionError.
            raise ResponseValidationError(
                "the answer is JSON nested too deeply to decode",
                endpoint=endpoint,
                excerpt=excerpt(_redact(content, secret)),
            ) from None
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content-type")
            raise ResponseValidationError(
                f"the answer is not valid JSON ({kind})",
                endpoint=endpoint,
                excerpt=excerpt(_redact(content, secret)),
            ) from None


def _origin(url: str) -> str:
    """Scheme and host of a URL: enough to tell which server failed, and never a query."""
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.netloc.decode('ascii', 'replace')}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _redact(body: str | bytes, secret: str | None) -> str:
    """``body`` as text, with the API token replaced: some gateways echo request headers.

    Replaced before any excerpt is cut, so no prefix of the token survives either.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text.replace(secret, "<API token>") if secret else text


def _error_message(response: httpx.Response, secret: str | None) -> tuple[str, object]:
    """The server's message and the decoded body (api-notes: error/message/errors, or text)."""
    text = _redact(response.text, secret)
    try:
        body: object = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):
        body = text
    if isinstance(body, Mapping):
        for key in ("error", "message", "errors"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return excerpt(value), body
            if isinstance(value, list) and value:
                return excerpt("; ".join(str(item) for item in value)), body
    if isinstance(body, str) and body.strip():
        return excerpt(body.strip()), body
    return response.reason_phrase or "error", body


def status_error(
    response: httpx.Response, endpoint: str, *, secret: str | None = None
) -> APIStatusError:
    """The precise exception for an error answer; ``secret`` (the token) is never quoted."""
    message, body = _error_message(response, secret)
    status = response.status_code
    if status == 429:
        return RateLimitError(
            message,
            response=response,
            body=body,
            endpoint=endpoint,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    cls: type[APIStatusError] = APIStatusError
    if status == 400:
        lowered = message.lower()
        cls = next((kind for frag, kind in _BAD_REQUEST_KINDS if frag in lowered), BadRequestError)
    elif status == 401:
        cls = AuthenticationError
    elif status == 404:
        cls = NotFoundError
    elif status >= 500:
        cls = ServerError
    return cls(message, response=response, body=body, endpoint=endpoint)
