"""Answer shapes that need more than the converter: time series and the workflow states.

Points arrive as ``{"value": 174, "date_range": {"date_from": "2018-04-27 00:00"}}`` with no
offset in the label; api-notes decides they are in the offset of the request's ``date_from``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from ._convert import excerpt, structure
from ._dates import DateRange, documented_interval, parse_point_label
from ._errors import ResponseValidationError
from ._models import AgentVolume, Interval, Point, StateVolume, TimeSeries

__all__ = ["parse_series_map", "parse_time_series", "parse_workflow_states"]


def _shape_error(message: str, endpoint: str, body: bytes) -> ResponseValidationError:
    return ResponseValidationError(message, endpoint=endpoint, excerpt=excerpt(body))


def parse_time_series(
    items: object, *, report_type: str, dates: DateRange, body: bytes
) -> TimeSeries:
    """A list of points, in time order, with the interval they are spaced by.

    The interval is read off the points themselves when there are two or more; for fewer it is
    the one the vendor's page documents for this report and range.
    """
    if not isinstance(items, list):
        raise _shape_error(
            f"expected a list of points, got {type(items).__name__}", report_type, body
        )
    offset = dates.offset
    points: list[Point] = []
    for index, item in enumerate(items):
        try:
            label = item["date_range"]["date_from"]
            value = item.get("value")
            points.append(
                Point(
                    date_from=parse_point_label(label, offset),
                    value=None if value is None else structure(
                        value, float, endpoint=report_type, body=body
                    ),
                )
            )
        except ResponseValidationError:
            raise
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise _shape_error(
                f"point {index} is not {{value, date_range: {{date_from}}}} ({exc})",
                report_type,
                body,
            ) from None
    points.sort(key=lambda point: point.date_from)
    return TimeSeries(points=tuple(points), interval=_interval(points, report_type, dates))


def _interval(points: list[Point], report_type: str, dates: DateRange) -> Interval:
    if len(points) >= 2:
        step = points[1].date_from - points[0].date_from
        return "hour" if step <= timedelta(hours=1) else "day"
    return "hour" if documented_interval(report_type, dates.span) == "hour" else "day"


def parse_series_map(
    data: object, *, report_type: str, dates: DateRange, body: bytes
) -> dict[str, TimeSeries]:
    """An object of name -> list of points (``states_volume``, ``response_volume``...)."""
    if not isinstance(data, dict):
        raise _shape_error(
            f"expected an object of point lists, got {type(data).__name__}", report_type, body
        )
    return {
        str(name): parse_time_series(items, report_type=report_type, dates=dates, body=body)
        for name, items in data.items()
    }


def parse_single_series(
    data: object, key: str, *, report_type: str, dates: DateRange, body: bytes
) -> TimeSeries:
    """The one series under ``key`` (``avg_response_time``, ``open``)."""
    if not isinstance(data, dict) or key not in data:
        raise _shape_error(f"expected an object with {key!r}", report_type, body)
    return parse_time_series(data[key], report_type=report_type, dates=dates, body=body)


def parse_workflow_states(data: object, *, report_type: str, body: bytes) -> list[StateVolume]:
    """Either documented answer for Workflow States (api-notes, "Workflow States vs Team Volume").

    A list of ``{state, volume}`` is returned as is. A list of per-agent rows (``states``
    objects, the Team Volume shape) is summed per state across agents, in first-seen order.
    """
    if not isinstance(data, list):
        raise _shape_error(f"expected a list, got {type(data).__name__}", report_type, body)
    if any(isinstance(row, dict) and "states" in row for row in data):
        # A {state, volume} row among agent rows would be read as an agent with no states
        # and its count silently dropped.
        for index, row in enumerate(data):
            if isinstance(row, dict) and "states" not in row and row.keys() & {"state", "volume"}:
                raise _shape_error(
                    f"row {index} is a {{state, volume}} row among per-agent rows",
                    report_type,
                    body,
                )
        agents = structure(data, list[AgentVolume], endpoint=report_type, body=body)
        return _sum_states(agent.states or {} for agent in agents)
    return structure(data, list[StateVolume], endpoint=report_type, body=body)


def _sum_states(per_agent: Iterable[dict[str, int]]) -> list[StateVolume]:
    totals: dict[str, int] = {}
    for states in per_agent:
        for state, count in states.items():
            totals[state] = totals.get(state, 0) + count
    return [StateVolume(state=state, volume=count) for state, count in totals.items()]


def as_list(data: Any) -> Any:
    """The users/groups/forms answer as a list: the vendor's page shows a bare object."""
    return [data] if isinstance(data, dict) else data
