"""The shared rate window: at most N requests start in any window of P seconds, per token.

Why a sliding log and not aiolimiter: ``AsyncLimiter(100, 300)`` is a leaky bucket. It admits
a burst of 100, then one more every 3 s, so a 300 s window can see up to 199 requests and a
server that counts strictly answers 429. A bucket small enough to keep the guarantee
(capacity 1, rate 99/300 s) takes 3 windows for what the log does in 2 (README, "Why not
aiolimiter", has the measured figures).

The log holds the start times it has handed out, reserved in order. A caller reserves the
earliest time that keeps every window of ``period`` plus a small margin at no more than ``limit``
starts, then sleeps until then. Reservations are made under a plain ``threading.Lock`` held for
a few microseconds and never across an ``await``, so one window serves every task, every
client and every event loop in the process.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
from collections.abc import Callable

import anyio

from ._constants import RATE_WINDOW_MARGIN, RATE_WINDOW_MIN_MARGIN

__all__ = ["RateWindow", "shared_window"]


class RateWindow:
    """At most ``limit`` request starts in any window of ``period`` seconds."""

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
        self.limit = limit
        self.period = float(period)
        self._spacing = self.period + max(self.period * margin, RATE_WINDOW_MIN_MARGIN)
        self._clock = clock
        self._slots: list[float] = []
        self._paused_until = float("-inf")
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            horizon = now - self._spacing
            # A start older than one window can never share a window with a future one.
            drop = bisect.bisect_right(self._slots, horizon)
            del self._slots[:drop]
            slot = max(now, self._paused_until)
            if self._slots:
                # Strict FIFO keeps the log sorted, so only the N-th latest start matters.
                slot = max(slot, self._slots[-1])
            if len(self._slots) >= self.limit:
                slot = max(slot, self._slots[-self.limit] + self._spacing)
            self._slots.append(slot)
            return slot

    def _release(self, slot: float) -> None:
        # Removing a start only loosens every window, so the rest of the log stays valid.
        with self._lock:
            index = bisect.bisect_left(self._slots, slot)
            if index < len(self._slots) and self._slots[index] == slot:
                del self._slots[index]

    async def acquire(self) -> None:
        """Wait for a slot in the window, and take it.

        A cancelled wait gives its slot back. A caller that wakes inside a pause (set by a
        429 while it slept) gives its slot back and queues again behind the pause.
        """
        slot = self._reserve()
        while True:
            try:
                delay = slot - self._clock()
                if delay > 0:
                    await anyio.sleep(delay)
            except BaseException:
                self._release(slot)
                raise
            with self._lock:
                if self._clock() >= self._paused_until:
                    return
            self._release(slot)
            slot = self._reserve()

    def pause(self, seconds: float) -> None:
        """Hold every caller of this window for ``seconds`` (the server asked us to wait)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def in_use(self) -> int:
        """How many starts the log still remembers (for tests and diagnostics)."""
        with self._lock:
            return len(self._slots)


_windows: dict[tuple[str, int, float], RateWindow] = {}
_windows_lock = threading.Lock()


def shared_window(token: str, limit: int, period: float) -> RateWindow:
    """The process-wide window for ``token`` under this limit; created on first use.

    Keyed by a digest of the token, so the token itself is not kept here. Clients that share a
    token but disagree on the limit get separate windows: each keeps its own promise.
    """
    digest = hashlib.sha256(token.encode()).hexdigest()
    key = (digest, limit, float(period))
    with _windows_lock:
        window = _windows.get(key)
        if window is None:
            window = _windows[key] = RateWindow(limit, period)
        return window


def _reset_shared_windows() -> None:
    """Forget every shared window. For test isolation only."""
    with _windows_lock:
        _windows.clear()
