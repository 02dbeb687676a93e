"""When to retry, and how long to wait: the backoff formula and ``Retry-After`` parsing."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from ._constants import BACKOFF_INITIAL, BACKOFF_JITTER, BACKOFF_MAX

__all__ = ["RETRYABLE_STATUS", "backoff_delay", "parse_retry_after"]

# 408 and 429 are the server asking for a later try; 5xx may pass. Any other 4xx is final.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def is_retryable_status(status: int) -> bool:
    """408, 429 and every 5xx retry; other statuses never do."""
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def backoff_delay(attempt: int, *, rand: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    ``min(BACKOFF_MAX, BACKOFF_INITIAL * 2**attempt) * (1 - BACKOFF_JITTER * r)`` with ``r``
    uniform in [0, 1): with the defaults 0.25-0.5 s, 0.5-1 s, 1-2 s, ... capped at 4-8 s.
    The jitter spreads the retries of tasks that failed together.
    """
    r = random.random() if rand is None else rand
    base = min(BACKOFF_MAX, BACKOFF_INITIAL * (2.0 ** min(attempt, 32)))
    return base * (1.0 - BACKOFF_JITTER * r)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds (fractions allowed) or an HTTP date.

    ``None`` when the header is absent or unreadable (``soon``), so the caller backs off as
    if it had not been sent. A negative value or a date in the past means "now" (0.0). A huge
    value is returned as is: the caller decides whether it is worth waiting for.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds:  # NaN
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())
