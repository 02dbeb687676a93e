"""The per-token sliding window: unit tests on a fake clock, then through the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lexer_activity.sandbox._ratewindow import RateWindow, format_retry_after

AUTH = {"Auth-Api-Token": "sandbox-token"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_admits_up_to_the_limit_then_says_when_a_slot_frees() -> None:
    clock = Clock()
    window = RateWindow(3, 10.0, clock)
    for step in range(3):
        clock.now = 1000.0 + step
        assert window.try_admit("t") is None
    clock.now = 1005.0
    assert window.try_admit("t") == pytest.approx(5.0)  # the 1000.0 admission leaves at 1010
    clock.now = 1010.0  # exactly one window later the oldest admission no longer counts
    assert window.try_admit("t") is None
    assert window.try_admit("t") == pytest.approx(1.0)


def test_the_window_slides_rather_than_resets() -> None:
    clock = Clock()
    window = RateWindow(2, 10.0, clock)
    assert window.try_admit("t") is None  # 1000
    clock.now = 1009.0
    assert window.try_admit("t") is None  # 1009
    clock.now = 1011.0  # a fixed window would be empty again here; a sliding one is not
    assert window.try_admit("t") is None  # 1000 has left
    assert window.try_admit("t") == pytest.approx(8.0)  # 1009 leaves at 1019


def test_rejections_are_not_counted_and_tokens_are_separate() -> None:
    clock = Clock()
    window = RateWindow(1, 10.0, clock)
    assert window.try_admit("a") is None
    for _ in range(5):
        assert window.try_admit("a") is not None
    assert window.try_admit("b") is None
    clock.now = 1010.0
    assert window.try_admit("a") is None
    assert {k: len(v) for k, v in window.admitted().items()} == {"a": 2, "b": 1}


def test_max_in_any_window() -> None:
    clock = Clock()
    window = RateWindow(100, 10.0, clock)
    for moment in (0, 1, 2, 9.5, 20, 21):
        clock.now = 1000.0 + moment
        window.try_admit("t")
    assert window.max_in_any_window() == {"t": 4}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.37, "0.37"), (0.3701, "0.371"), (2.0, "2"), (0.0, "0.001"), (299.9999, "300")],
)
def test_retry_after_is_a_decimal_rounded_up(seconds: float, text: str) -> None:
    assert format_retry_after(seconds) == text


@pytest.mark.asyncio
async def test_ten_per_half_second_over_the_app(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    app = make_app(rate_limit=10, rate_window=0.5)
    async with asgi(app) as http:
        started = time.monotonic()
        answers = [await http.get("/v1/groups", headers=AUTH) for _ in range(10)]
        assert all(a.status_code == 200 for a in answers)
        limited = await http.get("/v1/groups", headers=AUTH)
        assert limited.status_code == 429
        assert limited.json() == {"error": "Rate limited exceeded"}
        wait = float(limited.headers["retry-after"])
        assert 0 < wait <= 0.5
        assert wait == pytest.approx(0.5 - (time.monotonic() - started), abs=0.1)
        await asyncio.sleep(wait)
        assert (await http.get("/v1/groups", headers=AUTH)).status_code == 200
    stats = app.state.sandbox.stats
    assert stats.rate_limited == 1
    assert stats.max_in_any_window == {"sandbox-token": 10}
    assert len(stats.admitted["sandbox-token"]) == 11
    assert stats.requests == {"groups": 12}


@pytest.mark.asyncio
async def test_status_polls_and_every_api_route_share_the_window(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    async with asgi(make_app(rate_limit=4, rate_window=60)) as http:
        body = {"type": "case_details", "date_from": "2018-04-01T00:00:00Z",
                "date_to": "2018-04-01T01:00:00Z"}
        token = (await http.post("/v1/activity/reports", json=body, headers=AUTH)).json()["token"]
        status = "/api/public/v1/activity/reports/status"
        assert (await http.get(status, params={"token": token}, headers=AUTH)).status_code == 200
        assert (await http.get("/v1/users", headers=AUTH)).status_code == 200
        assert (await http.get("/v1/forms", headers=AUTH)).status_code == 200
        limited = await http.get(status, params={"token": token}, headers=AUTH)
        assert limited.status_code == 429


@pytest.mark.asyncio
async def test_retry_after_can_be_switched_off(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    async with asgi(make_app(rate_limit=1, rate_window=60, send_retry_after=False)) as http:
        await http.get("/v1/groups", headers=AUTH)
        limited = await http.get("/v1/groups", headers=AUTH)
        assert limited.status_code == 429
        assert "retry-after" not in limited.headers


@pytest.mark.asyncio
async def test_requests_without_a_valid_token_are_not_counted(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    app = make_app(rate_limit=1, rate_window=60, tokens=("a", "b"))
    async with asgi(app) as http:
        for _ in range(3):
            assert (await http.get("/v1/groups", headers={"Auth-Api-Token": "x"})).status_code == 401
        assert (await http.get("/v1/groups", headers={"Auth-Api-Token": "a"})).status_code == 200
        assert (await http.get("/v1/groups", headers={"Auth-Api-Token": "b"})).status_code == 200
        assert (await http.get("/v1/groups", headers={"Auth-Api-Token": "a"})).status_code == 429
    assert set(app.state.sandbox.stats.admitted) == {"a", "b"}
