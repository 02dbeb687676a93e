"""The shared rate window: at most N requests start in any window of P seconds, per token.

Why a sliding log and not aiolimiter: ``AsyncLimiter(100, 300)`` is a leaky bucket. It admits
a burst of 100, then one more every 3 s, so a 300 s window can see up to 199 requests and a
server that counts strictly answers 429. A bucket small enough to keep the guarantee
(capacity 1, rate 99/300 s) takes 3 windows for what the log does in 2 (README, "Why not
aiolimiter", has the measured figures).

The log holds start times. A caller reserves the earliest time that keeps every window of
``period`` (plus a small margin) at no more than ``limit`` starts, sleeps until then, and on
waking records when it really started, after checking the real starts before it. The log is
guarded by a plain ``threading.Lock``, held for microseconds and never across an ``await``,
so one window serves every task, every client and every event loop in the process.
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
        # Sorted start times: real starts, and reservations of tasks still asleep.
        self._log: list[float] = []
        self._paused_until = float("-inf")
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        # A start older than one window can never share a window with a future one.
        del self._log[: bisect.bisect_right(self._log, now - self._spacing)]

    def _reserve(self) -> float:
        with self._lock:
            return self._reserve_locked(self._clock())

    def _reserve_locked(self, now: float) -> float:
        self._prune(now)
        slot = max(now, self._paused_until)
        if self._log:
            # Reservations queue in order, so only the N-th latest entry can bind.
            slot = max(slot, self._log[-1])
        if len(self._log) >= self.limit:
            slot = max(slot, self._log[-self.limit] + self._spacing)
        self._log.append(slot)
        return slot

    def _remove(self, slot: float) -> None:
        # Caller holds the lock. Removing an entry only loosens every window. The entry may
        # already be gone: pruned while its task slept past a whole window.
        index = bisect.bisect_left(self._log, slot)
        if index < len(self._log) and self._log[index] == slot:
            del self._log[index]

    def _commit(self, slot: float) -> float | None:
        """Turn a reservation into a start at the actual time, or say when to try again.

        A task can wake late (a busy event loop), and a late start could sit closer than one
        window to the N-th start after it. So the log records when each request really
        started, and a waking task counts the entries before it: real starts, and the
        reservations of tasks due by now. If the window is full it waits, in place, until
        just enough of them age out; behind a pause (a 429) it queues again.
        """
        with self._lock:
            now = self._clock()
            self._remove(slot)
            if now < self._paused_until:
                return self._reserve_locked(now)
            self._prune(now)
            upto = bisect.bisect_right(self._log, now)
            if upto < self.limit:
                bisect.insort(self._log, now)
                return None
            # Entries in (now - spacing, now] after pruning: the log's first `upto` entries.
            retry_at = self._log[upto - self.limit] + self._spacing
            bisect.insort(self._log, retry_at)
            return retry_at

    async def acquire(self) -> None:
        """Wait for a slot in the window, and take it.

        A cancelled wait gives its slot back. A task that wakes inside a pause (set by a 429
        while it slept), or finds the window filled by tasks that woke late, waits again.
        """
        slot: float | None = self._reserve()
        while slot is not None:
            try:
                delay = slot - self._clock()
                if delay > 0:
                    await anyio.sleep(delay)
            except BaseException:
                with self._lock:
                    self._remove(slot)
                raise
            slot = self._commit(slot)

    def pause(self, seconds: float) -> None:
        """Hold every caller of this window for ``seconds`` (the server asked us to wait)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def in_use(self) -> int:
        """How many starts the log still remembers (for tests and diagnostics)."""
        with self._lock:
            return len(self._log)


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
