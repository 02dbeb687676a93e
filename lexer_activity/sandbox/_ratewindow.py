"""The per-token sliding-log rate window."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateWindow:
    """Admit a request only if fewer than ``limit`` were admitted in the last ``window`` s.

    A window is the half-open interval (t - window, t]: an admission exactly ``window``
    seconds old no longer counts. Rejected requests are not logged, so a client that keeps
    knocking is not punished further; this is the most lenient reading of the vendor's
    "100 requests per 5 minutes", and any client that stays under it also stays under a
    fixed window.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {}
        self._admitted: dict[str, list[float]] = {}
        self._max_in_window: dict[str, int] = {}

    def try_admit(self, key: str) -> float | None:
        """Admit and log one request; return None, or the seconds until a slot frees."""
        with self._lock:
            now = self._clock()
            recent = self._recent.setdefault(key, deque())
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) >= self.limit:
                return recent[len(recent) - self.limit] + self.window - now
            recent.append(now)
            # Windows ending at an admission are the only ones that can hold a new maximum.
            self._max_in_window[key] = max(self._max_in_window.get(key, 0), len(recent))
            self._admitted.setdefault(key, []).append(time.time())
            return None

    def admitted(self) -> dict[str, list[float]]:
        """Wall-clock (epoch seconds) times of every admission, per key."""
        with self._lock:
            return {key: list(times) for key, times in self._admitted.items()}

    def max_in_any_window(self) -> dict[str, int]:
        """Largest number of admissions seen in any window of length ``window``, per key."""
        with self._lock:
            return dict(self._max_in_window)

    def reset(self) -> None:
        """Forget every admission."""
        with self._lock:
            self._recent.clear()
            self._admitted.clear()
            self._max_in_window.clear()


def format_retry_after(seconds: float) -> str:
    """Render a wait as a decimal string, rounded up to the millisecond.

    Rounding up matters: a client that sleeps exactly the advertised time must find the
    slot free, not arrive a fraction of a millisecond early and be refused again.
    """
    millis = max(1, math.ceil(seconds * 1000))
    return f"{millis / 1000:.3f}".rstrip("0").rstrip(".")
