"""Time-series intervals: which interval a report uses, and its labelled buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = 3_600
DAY = 86_400


def states_volume_step(start: datetime, end: datetime) -> int:
    """Hours when the range is under 4 days, else days (vendor's page, States Volume)."""
    return HOUR if end - start < timedelta(days=4) else DAY


def response_volume_step(start: datetime, end: datetime) -> int:
    """Hours when the range is 3 days or less, else days (vendor's page, Response Time)."""
    return HOUR if end - start <= timedelta(days=3) else DAY


@dataclass(frozen=True)
class Buckets:
    """Consecutive intervals of ``step`` seconds covering [start, end].

    The first bucket starts at ``start`` truncated to the hour or the day in ``start``'s own
    offset, which is also the offset of every label, as in the vendor's examples.
    """

    origin: datetime
    step: int
    count: int

    @classmethod
    def cover(cls, start: datetime, end: datetime, step: int) -> Buckets:
        origin = start.replace(minute=0, second=0, microsecond=0)
        if step == DAY:
            origin = origin.replace(hour=0)
        count = math.floor((end - origin).total_seconds() / step) + 1
        return cls(origin, step, count)

    def index(self, epoch: float) -> int:
        """The bucket holding epoch second ``epoch`` (may be out of range)."""
        return math.floor((epoch - self.origin.timestamp()) / self.step)

    def start(self, index: int) -> datetime:
        """Start of bucket ``index``, in the offset of the request."""
        return self.origin + timedelta(seconds=index * self.step)

    def label(self, index: int) -> str:
        """The vendor's point label: local time, minutes, no offset (``2018-04-27 00:00``)."""
        return self.start(index).strftime("%Y-%m-%d %H:%M")
