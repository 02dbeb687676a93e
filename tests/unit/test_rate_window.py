"""The shared window: at most N starts in any window of P seconds, per token, process-wide.

Scaled windows (5 per 0.2 s) stand in for the documented 100 per 300 s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
import respx

import lexer_activity as la
from lexer_activity import AsyncActivityClient
from lexer_activity._ratelimit import RateWindow
from tests.conftest import API, STATUS_URL, TOKEN

LIMIT, PERIOD = 5, 0.2


def max_in_any_window(starts: list[float], period: float) -> int:
    starts = sorted(starts)
    best, lo = 0, 0
    for hi, t in enumerate(starts):
        while t - starts[lo] >= period:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def make_client(token: str = TOKEN, **kwargs: object) -> AsyncActivityClient:
    return AsyncActivityClient(
        token=token, base_url=API, status_url=STATUS_URL, rate_limit=(LIMIT, PERIOD),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def recorded() -> Iterator[tuple[respx.MockRouter, list[float]]]:
    starts: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        starts.append(time.monotonic())
        return httpx.Response(200, json=[])

    with respx.mock as router:
        router.get(f"{API}/v1/groups").mock(side_effect=answer)
        yield router, starts


async def test_forty_calls_over_two_clients_stay_in_window(
    recorded: tuple[respx.MockRouter, list[float]],
) -> None:
    _, starts = recorded
    async with make_client() as a, make_client() as b:
        began = time.monotonic()
        await asyncio.gather(*(c.groups() for c in [a, b] * 20))
        elapsed = time.monotonic() - began
    assert len(starts) == 40
    assert max_in_any_window(starts, PERIOD) == LIMIT
    # 40 calls need 8 bursts: the last can start no earlier than 7 windows in.
    theoretical = 7 * PERIOD
    assert elapsed >= theoretical
    assert theoretical / elapsed >= 0.85, f"throughput {theoretical / elapsed:.2f} of the limit"


async def test_different_tokens_have_different_windows(
    recorded: tuple[respx.MockRouter, list[float]],
) -> None:
    _, starts = recorded
    async with make_client("token-a") as a, make_client("token-b") as b:
        began = time.monotonic()
        await asyncio.gather(*(c.groups() for c in [a, b] * LIMIT))
        elapsed = time.monotonic() - began
    assert len(starts) == 2 * LIMIT
    assert elapsed < PERIOD  # each token spent only its own budget


async def test_server_enforcing_a_sliding_window_sees_no_429() -> None:
    admitted: list[float] = []
    rejected = 0

    def strict_server(request: httpx.Request) -> httpx.Response:
        nonlocal rejected
        now = time.monotonic()
        recent = [t for t in admitted if now - t < PERIOD]
        if len(recent) >= LIMIT:
            rejected += 1
            return httpx.Response(429, json={"error": "Rate limited exceeded"})
        admitted.append(now)
        return httpx.Response(200, json={"total_volume": 1})

    with respx.mock as router:
        router.post(f"{API}/v1/activity/reports").mock(side_effect=strict_server)
        async with make_client(max_retries=0) as client:
            results = await asyncio.gather(
                *(client.summary("2018-04-01", "2018-04-02") for _ in range(23))
            )
    assert len(results) == 23
    assert rejected == 0


async def test_cancelled_waiter_takes_no_place() -> None:
    window = RateWindow(1, 0.3)
    async with window.slot():
        pass
    with anyio.move_on_after(0.05):
        async with window.slot():  # would wait ~0.3 s; cancelled instead
            pytest.fail("the window admitted a second request inside one window")
    assert window.in_use() == 1


async def test_a_request_holds_its_place_until_a_window_after_its_answer() -> None:
    # The server may count a request as late as its answer; so must we.
    window = RateWindow(1, 0.2)
    async with window.slot():
        await anyio.sleep(0.15)  # a slow answer
        answered = time.monotonic()
    async with window.slot():
        assert time.monotonic() - answered >= 0.2


async def test_failed_request_still_counts() -> None:
    window = RateWindow(1, 0.2)
    with pytest.raises(RuntimeError):
        async with window.slot():
            raise RuntimeError("connection reset")
    began = time.monotonic()
    async with window.slot():
        assert time.monotonic() - began >= 0.19


async def test_pause_holds_every_waiter() -> None:
    window = RateWindow(100, 1.0)
    window.pause(0.15)
    began = time.monotonic()

    async def one() -> None:
        async with window.slot():
            pass

    await asyncio.gather(*(one() for _ in range(5)))
    assert time.monotonic() - began >= 0.15


async def test_429_with_retry_after_pauses_all_tasks_on_the_token() -> None:
    starts: list[float] = []
    first = True

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal first
        starts.append(time.monotonic())
        if first:
            first = False
            return httpx.Response(429, headers={"Retry-After": "0.3"}, text="Rate limited exceeded")
        return httpx.Response(200, json=[])

    with respx.mock as router:
        router.get(f"{API}/v1/forms").mock(side_effect=answer)
        async with AsyncActivityClient(
            token=TOKEN, base_url=API, status_url=STATUS_URL, rate_limit=(100, 1.0)
        ) as client:
            await client.forms()  # gets the 429 and pauses the window for 0.3 s
            began = time.monotonic()
            await asyncio.gather(*(client.forms() for _ in range(3)))
    assert len(starts) == 5
    assert starts[1] - starts[0] >= 0.3
    assert all(t >= starts[0] + 0.3 for t in starts[1:])
    assert time.monotonic() - began < 0.5


@pytest.mark.parametrize(
    "retry_after", ["86400", "Fri, 31 Dec 9999 23:59:59 GMT", "inf"]
)
async def test_absurd_retry_after_raises_instead_of_sleeping(retry_after: str) -> None:
    with respx.mock as router:
        route = router.get(f"{API}/v1/users").mock(
            return_value=httpx.Response(429, headers={"Retry-After": retry_after})
        )
        async with make_client() as client:
            began = time.monotonic()
            with pytest.raises(la.RateLimitError) as info:
                await client.users()
    assert time.monotonic() - began < 0.5
    assert route.call_count == 1
    assert info.value.retry_after is not None
    assert info.value.retry_after > 1000


@pytest.mark.parametrize("retry_after", [None, "soon", "-1", "0.05", "0"])
async def test_odd_retry_after_values_recover(
    retry_after: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lexer_activity._requester.backoff_delay", lambda attempt: 0.01)
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    with respx.mock as router:
        route = router.get(f"{API}/v1/users")
        route.side_effect = [
            httpx.Response(429, headers=headers),
            httpx.Response(200, json=[{"id": 7}]),
        ]
        async with make_client() as client:
            users = await client.users()
    assert [u.id for u in users] == [7]


def test_window_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive int"):
        RateWindow(0, 1.0)
    with pytest.raises(ValueError, match="positive number"):
        RateWindow(1, 0)


def test_one_window_per_token_and_the_strictest_limit_wins() -> None:
    from lexer_activity._ratelimit import shared_window

    api = "https://api.lexer.io"
    first = shared_window("shared-token", api, 100, 300.0)
    second = shared_window("shared-token", api, 90, 60.0)
    assert first is second
    assert (first.limit, first.period) == (90, 300.0)
    assert shared_window("other-token", api, 100, 300.0) is not first
    # The same token string on another server (a sandbox) is counted there, not here.
    assert shared_window("shared-token", "http://127.0.0.1:8787", 100, 300.0) is not first
