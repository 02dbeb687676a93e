"""Date arguments: parsing, validation before sending, and the time-series interval rule."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo

__all__ = [
    "DateLike",
    "DateRange",
    "add_months",
    "documented_interval",
    "parse_iso_datetime",
    "parse_point_label",
    "resolve_range",
]

DateLike = datetime | date | str
"""What ``date_from``/``date_to`` accept: an aware datetime, a date, or an ISO-8601 string."""

_END_OF_DAY = time(23, 59, 59)
_POINT_LABEL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")


class DateRange:
    """A validated ``(date_from, date_to)`` pair of aware datetimes, ready to send."""

    __slots__ = ("date_from", "date_to")

    def __init__(self, date_from: datetime, date_to: datetime) -> None:
        self.date_from = date_from
        self.date_to = date_to

    def body(self) -> dict[str, str]:
        """The two fields as the vendor's examples send them: ``2018-04-01T00:00:00+11:00``."""
        return {
            "date_from": self.date_from.isoformat(timespec="seconds"),
            "date_to": self.date_to.isoformat(timespec="seconds"),
        }

    @property
    def offset(self) -> timezone:
        """The fixed offset of ``date_from``, which the API labels its points in (api-notes)."""
        delta = self.date_from.utcoffset()
        return timezone(delta if delta is not None else timedelta(0))

    @property
    def span(self) -> timedelta:
        return self.date_to - self.date_from

    def __repr__(self) -> str:
        body = self.body()
        return f"DateRange({body['date_from']!r}, {body['date_to']!r})"


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, clamping the day (Jan 31 + 1 month = Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _to_datetime(value: object, name: str, tz: tzinfo, *, end_of_day: bool) -> datetime:
    if isinstance(value, str):
        value = _parse_string(value, name)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{name} is a naive datetime ({value.isoformat()}); give it a timezone, "
                "e.g. datetime(2018, 4, 1, tzinfo=timezone.utc), or pass a date"
            )
        return value
    if isinstance(value, date):
        # A date means the whole day in the client's timezone: date_to runs to its last second.
        return datetime.combine(value, _END_OF_DAY if end_of_day else time(0), tzinfo=tz)
    raise TypeError(
        f"{name} must be an aware datetime, a date or an ISO-8601 string, "
        f"not {type(value).__name__}"
    )


def parse_iso_datetime(text: str) -> datetime:
    """``datetime.fromisoformat`` that also takes a trailing ``Z`` (Python 3.10 does not)."""
    stripped = text.strip()
    if stripped.endswith(("Z", "z")):
        stripped = stripped[:-1] + "+00:00"
    return datetime.fromisoformat(stripped)


def _parse_string(text: str, name: str) -> datetime | date:
    stripped = text.strip()
    if len(stripped) == 10:
        try:
            return date.fromisoformat(stripped)
        except ValueError:
            pass
    try:
        return parse_iso_datetime(stripped)
    except ValueError:
        raise ValueError(
            f"{name} is not an ISO-8601 date or datetime: {text!r} "
            "(expected e.g. '2018-04-01' or '2018-04-01T00:00:00+11:00')"
        ) from None


def resolve_range(
    date_from: object,
    date_to: object,
    *,
    tz: tzinfo,
    now: datetime | None = None,
) -> DateRange:
    """Parse and check a report's range before anything is sent.

    The API refuses a start in the future and a range over 12 months with a 400 that still
    spends the rate budget, so both are checked here, with ``date_from > date_to`` too.
    A range of exactly 12 calendar months is allowed.
    """
    start = _to_datetime(date_from, "date_from", tz, end_of_day=False)
    end = _to_datetime(date_to, "date_to", tz, end_of_day=True)
    if start > end:
        raise ValueError(
            f"date_from ({start.isoformat()}) is after date_to ({end.isoformat()})"
        )
    current = now if now is not None else datetime.now(timezone.utc)
    if start > current:
        raise ValueError(
            f"date_from ({start.isoformat()}) is in the future; the API only reports the past"
        )
    if end > add_months(start, 12):
        raise ValueError(
            f"the range {start.isoformat()} to {end.isoformat()} is longer than 12 months, "
            "the API's limit; split it into several calls"
        )
    return DateRange(start, end)


def parse_point_label(label: object, offset: timezone) -> datetime:
    """A point label such as ``"2018-04-27 00:00"``, read in the request's own offset."""
    if not isinstance(label, str) or not _POINT_LABEL.fullmatch(label.strip()):
        raise ValueError(f"expected a point label like '2018-04-27 00:00', got {label!r}")
    # A regex and fromisoformat rather than strptime: as strict, and ~10x faster on a path
    # that runs once per point (benchmarks/README.md, "Profiling").
    return datetime.fromisoformat(label.strip()).replace(tzinfo=offset)


def documented_interval(report_type: str, span: timedelta) -> str:
    """The interval the vendor's page promises for a range (api-notes, "Dates and intervals").

    ``states_volume`` answers hourly under 4 days, ``response_volume`` at 3 days or less;
    everything else, ``case_volume`` included, daily.
    """
    if report_type == "states_volume" and span < timedelta(days=4):
        return "hour"
    if report_type == "response_volume" and span <= timedelta(days=3):
        return "hour"
    return "day"
