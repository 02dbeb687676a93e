"""The shared rate window: at most N requests in any window of P seconds, per token.

"In any window" as the server sees it. The server counts a request at some moment between
when we send it and when its answer arrives, and we cannot know which. So a request holds a
place in the window from the moment it starts until P seconds after its answer arrived (or it
failed): the (N+1)-th request after it starts no earlier than that. Whatever the latency, no
window of P seconds at the server can then hold more than N of our requests, whether the
server counts in fixed or sliding windows.

Why not aiolimiter: ``AsyncLimiter(100, 300)`` is a leaky bucket. It admits a burst of 100,
then one more every 3 s, so a 300 s window can see up to 199 requests and a server that
counts strictly answers 429. A bucket small enough to keep the guarantee (capacity 1, rate
99/300 s) needs about 3 windows for what this log does in 2 (README, "Why not aiolimiter",
has the measured figures).

The log is guarded by a plain ``threading.Lock``, held for microseconds and never across an
``await``, and waiting is plain sleeping, so one window serves every task, every client and
every event loop in the process.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

from ._constants import RATE_WINDOW_MARGIN, RATE_WINDOW_MIN_MARGIN

__all__ = ["RateWindow", "shared_window"]


class RateWindow:
    """At most ``limit`` requests in any window of ``period`` seconds, as the server counts."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        margin: float = RATE_WINDOW_MARGIN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"rate_limit requests must be a positive int, not {limit!r}")
        if isinstance(period, bool) or not isinstance(period, (int, float)) or not period > 0:
            raise ValueError(f"rate_limit seconds must be a positive number, not {period!r}")
        self._margin = margin
        self._set(limit, float(period))
        self._clock = clock
        self._finished: list[float] = []  # sorted end times of requests still in the window
        self._in_flight = 0
        self._paused_until = float("-inf")
        self._lock = threading.Lock()

    def _set(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        # The margin absorbs the difference between our clock and the server's.
        self._spacing = period + max(period * self._margin, RATE_WINDOW_MIN_MARGIN)
        # While the place that frees next is still in flight, recheck this often.
        self._poll = min(self._spacing, max(0.005, period / 200))

    def tighten(self, limit: int, period: float) -> None:
        """Keep this window's promise and another's: the smaller count, the longer period."""
        with self._lock:
            self._set(min(self.limit, limit), max(self.period, float(period)))

    def _prune(self, now: float) -> None:
        # Caller holds the lock. An end older than one window no longer shares a window with
        # anything new.
        del self._finished[: bisect.bisect_right(self._finished, now - self._spacing)]

    def _try_take(self) -> float | None:
        """Take a place now and return None, or return how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return self._paused_until - now
            self._prune(now)
            excess = len(self._finished) + self._in_flight - self.limit + 1
            if excess <= 0:
                self._in_flight += 1
                return None
            if excess <= len(self._finished):
                # The oldest `excess` ends must age out first.
                return max(self._finished[excess - 1] + self._spacing - now, 0.0)
            return self._poll

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            bisect.insort(self._finished, self._clock())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place in the window for one request, from now until P after it ends.

        Wrap the whole request, answer included. A cancelled or failed request still counts:
        the server may have seen it.
        """
        # Sleeping, not an Event: an Event belongs to one event loop, and this window is shared
        # by every loop and thread in the process. Each wait is computed, not a blind poll.
        while (wait := self._try_take()) is not None:  # noqa: ASYNC110
            await anyio.sleep(wait)
        try:
            yield
        finally:
            self._release()

    def pause(self, seconds: float) -> None:
        """Hold every caller of this window for ``seconds`` (the server asked us to wait)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def in_use(self) -> int:
        """Places taken: requests in flight plus those that ended less than a window ago."""
        with self._lock:
            self._prune(self._clock())
            return len(self._finished) + self._in_flight


_windows: dict[str, RateWindow] = {}
_windows_lock = threading.Lock()


def shared_window(token: str, api: str, limit: int, period: float) -> RateWindow:
    """The process-wide window for ``token`` on the API at ``api`` (its base URL).

    Keyed by a digest of the token, so the token itself is not kept here, and by the API's
    base URL: the same token string on two servers (a sandbox and the real API, say) is
    counted by each separately. Every client with the token on one API shares the window; a
    client that asks for a different limit tightens it for all of them (the smaller count,
    the longer period), so that both promises hold.
    """
    key = hashlib.sha256(f"{api}\n{token}".encode()).hexdigest()
    with _windows_lock:
        window = _windows.get(key)
        if window is None:
            window = _windows[key] = RateWindow(limit, period)
        elif (window.limit, window.period) != (limit, float(period)):
            window.tighten(limit, period)
        return window


def _reset_shared_windows() -> None:
    """Forget every shared window. For test isolation only."""
    with _windows_lock:
        _windows.clear()
