"""What the sandbox saw: counters that tests and benchmarks assert on."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ._ratewindow import RateWindow


@dataclass(frozen=True)
class SandboxStats:
    """A snapshot of the sandbox's counters.

    ``requests`` counts every request per route name (users, groups, forms, reports,
    status, download, admin, unknown), whatever its answer. ``rate_limited`` counts 429s
    sent, by the window or by a fault. ``admitted`` holds the epoch time of every request
    the rate window admitted, per token; ``max_in_any_window`` the largest number of those
    in any window of ``rate_window`` seconds. ``downloads`` counts download GETs answered
    200 or 206 and ``bytes_sent`` the body bytes they put on the wire. ``report_types``
    counts accepted report and export requests per type; ``faults`` counts faults fired
    per kind.
    """

    requests: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    admitted: dict[str, list[float]] = field(default_factory=dict)
    max_in_any_window: dict[str, int] = field(default_factory=dict)
    downloads: int = 0
    bytes_sent: int = 0
    report_types: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The snapshot as the admin route serves it."""
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "admitted": self.admitted,
            "max_in_any_window": self.max_in_any_window,
            "downloads": self.downloads,
            "bytes_sent": self.bytes_sent,
            "report_types": self.report_types,
            "faults": self.faults,
        }


class StatsRecorder:
    """Thread-safe counters, written by the server thread and read from anywhere."""

    def __init__(self, window: RateWindow) -> None:
        self._lock = threading.Lock()
        self._window = window
        self._requests: Counter[str] = Counter()
        self._report_types: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._rate_limited = 0
        self._downloads = 0
        self._bytes_sent = 0

    def request(self, route: str) -> None:
        with self._lock:
            self._requests[route] += 1

    def report_type(self, report_type: str) -> None:
        with self._lock:
            self._report_types[report_type] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def rate_limited(self) -> None:
        with self._lock:
            self._rate_limited += 1

    def download(self) -> None:
        with self._lock:
            self._downloads += 1

    def sent(self, nbytes: int) -> None:
        with self._lock:
            self._bytes_sent += nbytes

    def reset(self) -> None:
        """Zero every counter and forget the rate window's history."""
        with self._lock:
            self._requests.clear()
            self._report_types.clear()
            self._faults.clear()
            self._rate_limited = self._downloads = self._bytes_sent = 0
            self._window.reset()

    def snapshot(self) -> SandboxStats:
        with self._lock:
            return SandboxStats(
                requests=dict(self._requests),
                rate_limited=self._rate_limited,
                admitted=self._window.admitted(),
                max_in_any_window=self._window.max_in_any_window(),
                downloads=self._downloads,
                bytes_sent=self._bytes_sent,
                report_types=dict(self._report_types),
                faults=dict(self._faults),
            )
