"""Backoff numbers, Retry-After parsing, and time-series intervals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import respx

import lexer_activity as la
from lexer_activity import AsyncActivityClient
from lexer_activity._constants import BACKOFF_INITIAL, BACKOFF_MAX
from lexer_activity._retry import backoff_delay, is_retryable_status, parse_retry_after
from tests.conftest import API, TOKEN

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        ("0.25", 0.25),
        ("-1", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_far_future_is_large_not_an_error() -> None:
    far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=NOW)
    assert far is not None
    assert far > 1e10


def test_backoff_formula() -> None:
    assert backoff_delay(0, rand=0.0) == BACKOFF_INITIAL
    assert backoff_delay(0, rand=0.999999) == pytest.approx(BACKOFF_INITIAL / 2, rel=1e-4)
    assert backoff_delay(1, rand=0.0) == 2 * BACKOFF_INITIAL
    assert backoff_delay(50, rand=0.0) == BACKOFF_MAX
    for attempt in range(10):
        assert 0 < backoff_delay(attempt) <= BACKOFF_MAX


def test_retryable_statuses() -> None:
    assert all(is_retryable_status(s) for s in (408, 429, 500, 502, 503, 504, 599))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 409, 422))


def _points(start: datetime, step: timedelta, n: int) -> list[dict[str, object]]:
    return [
        {
            "state": "closed",
            "value": i,
            "date_range": {"date_from": (start + i * step).strftime("%Y-%m-%d %H:%M")},
        }
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("date_to", "step", "interval"),
    [
        ("2018-04-03T23:59:59+11:00", timedelta(hours=1), "hour"),  # under 4 days
        ("2018-04-10T23:59:59+11:00", timedelta(days=1), "day"),
    ],
)
async def test_states_volume_interval(date_to: str, step: timedelta, interval: str) -> None:
    start = datetime(2018, 4, 1)
    with respx.mock as router:
        router.post(f"{API}/v1/activity/reports").mock(
            return_value=httpx.Response(200, json={"closed": _points(start, step, 5)})
        )
        async with AsyncActivityClient(token=TOKEN, base_url=API) as client:
            series = await client.states_volume("2018-04-01T00:00:00+11:00", date_to)
    closed = series["closed"]
    assert closed.interval == interval
    assert closed.points[1].date_from - closed.points[0].date_from == step
    assert closed.points[0].date_from.utcoffset() == timedelta(hours=11)


@pytest.mark.parametrize(
    ("date_to", "interval"),
    [("2018-04-03T23:59:59+11:00", "hour"), ("2018-04-05T00:00:00+11:00", "day")],
)
async def test_single_point_falls_back_to_documented_interval(date_to: str, interval: str) -> None:
    one = [{"value": 1.5, "date_range": {"date_from": "2018-04-01 00:00"}}]
    with respx.mock as router:
        router.post(f"{API}/v1/activity/reports").mock(
            return_value=httpx.Response(200, json={"avg_response_time": one})
        )
        async with AsyncActivityClient(token=TOKEN, base_url=API) as client:
            series = await client.response_volume("2018-04-01T00:00:00+11:00", date_to)
    assert series.interval == interval


@pytest.mark.parametrize(
    "answer",
    [
        {"closed": "nope"},
        {"closed": [{"value": 1}]},
        {"closed": [{"value": 1, "date_range": {"date_from": "27/04/2018"}}]},
        {"closed": [{"value": "x", "date_range": {"date_from": "2018-04-27 00:00"}}]},
        ["closed"],
    ],
)
async def test_malformed_series_raise_validation_error(answer: object) -> None:
    with respx.mock as router:
        router.post(f"{API}/v1/activity/reports").mock(
            return_value=httpx.Response(200, text=json.dumps(answer))
        )
        async with AsyncActivityClient(token=TOKEN, base_url=API) as client:
            with pytest.raises(la.ResponseValidationError, match=r"^states_volume: "):
                await client.states_volume("2018-04-01", "2018-04-30")
