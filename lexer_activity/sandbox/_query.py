"""Reading and validating a POST /v1/activity/reports body, with the documented errors."""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ._errors import FUTURE_START, INVALID_TYPE, NOT_FOUND, RANGE_TOO_LONG, ApiError
from ._team import Form

REPORT_TYPES = frozenset({
    "summary", "states_volume", "user_volume", "classifications", "response_volume",
    "user_summary", "case_summary", "case_volume", "case_classifications",
    "nps_summary", "nps_volume",
})
EXPORT_TYPES = frozenset({"case_details", "nps_submissions", "mention_sla_export"})
NPS_TYPES = frozenset({"nps_summary", "nps_volume", "nps_submissions"})

# Only "all" is documented; the three groups are the ones the NPS reports count.
NPS_CATEGORIES = {
    "all": None,
    "promoters": "promoter", "promoter": "promoter",
    "passives": "passive", "passive": "passive",
    "detractors": "detractor", "detractor": "detractor",
}

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?"
    r"(Z|[+-]\d{2}:?\d{2})"
)


@dataclass(frozen=True)
class ReportQuery:
    """A validated report request. ``start`` and ``end`` keep the offsets they came with."""

    type: str
    start: datetime
    end: datetime
    form: int | None = None
    category: str | None = None  # None: every answer; else promoter, passive or detractor

    @property
    def start_epoch(self) -> float:
        return self.start.timestamp()

    @property
    def end_epoch(self) -> float:
        return self.end.timestamp()


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 timestamp with an offset, as the vendor's examples send; else None.

    A timestamp without an offset is refused: the offset decides how points are labelled,
    and the vendor's page never sends one without.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = timedelta(0)
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
            int((fraction or "0").ljust(6, "0")), tzinfo=timezone(offset),
        )
    except ValueError:  # 2018-02-30, 25:00, an offset of a day or more
        return None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, the day clamped to the target month's length."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_report_request(raw: bytes, now: datetime, forms: Mapping[int, Form]) -> ReportQuery:
    """Validate a report body; raise ApiError with the vendor's status and message.

    Checks run in this order: JSON object (404), type (400), dates (404), start after end
    (404), start in the future (400), range over 12 calendar months (400), NPS form (404).
    """
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(404, NOT_FOUND) from None
    if not isinstance(body, dict):
        raise ApiError(404, NOT_FOUND)
    report_type = body.get("type")
    if not isinstance(report_type, str) or report_type not in REPORT_TYPES | EXPORT_TYPES:
        raise ApiError(400, INVALID_TYPE)
    start = parse_timestamp(body.get("date_from"))
    end = parse_timestamp(body.get("date_to"))
    if start is None or end is None or start > end:
        raise ApiError(404, NOT_FOUND)
    if start > now:
        raise ApiError(400, FUTURE_START)
    if end > add_months(start, 12):
        raise ApiError(400, RANGE_TOO_LONG)
    form_id: int | None = None
    category: str | None = None
    if report_type in NPS_TYPES:
        form_id = _form_id(body.get("form"))
        form = forms.get(form_id) if form_id is not None else None
        # A form that exists but is not an NPS survey has no scores to report.
        if form is None or not form.nps:
            raise ApiError(404, NOT_FOUND)
        raw_category = body.get("nps_category", "all")
        if raw_category is None:
            raw_category = "all"
        if not isinstance(raw_category, str) or raw_category.lower() not in NPS_CATEGORIES:
            raise ApiError(404, NOT_FOUND)
        category = NPS_CATEGORIES[raw_category.lower()]
    return ReportQuery(report_type, start, end, form_id, category)


def _form_id(value: Any) -> int | None:
    # JSON numbers are documented; a numeric string is what a form field would send.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
