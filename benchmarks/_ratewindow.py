"""rate_window_utilisation (the SDK's sliding log) and rate_window_aiolimiter.

A sandbox in its own process enforces a scaled window, ``limit`` requests per ``P``
seconds, with the same sliding log rule as the real API's "100 per 5 minutes". Each limiter
sends 300 GETs with its own API token (so each starts with an empty window on both sides):

- the SDK, ``AsyncActivityClient(rate_limit=(100, P))``;
- aiolimiter's ``AsyncLimiter(100, P)``, the obvious configuration: a leaky bucket that
  admits a burst of 100 and then one every P/100 s, so a window can see up to 199 starts;
- ``AsyncLimiter(1, P / 99)``, the largest bucket that keeps "at most 100 in any window"
  (capacity 1, rate 99/P: 1 + 99 starts per window).

The minimum time for 300 starts under the limit is 2P (starts 1-100 at 0, 101-200 at P,
201-300 at 2P), so utilisation is 2P / elapsed.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from lexer_activity import AsyncActivityClient, LexerActivityError

from ._common import Result, Sizes, sandbox_process

try:
    from aiolimiter import AsyncLimiter
except ImportError:  # only the [bench] extra installs it; the row is then left out
    HAVE_AIOLIMITER = False
else:
    HAVE_AIOLIMITER = True

__all__ = ["LimiterRun", "rate_window_benchmarks"]

LIMIT = 100


@dataclass
class LimiterRun:
    """One limiter's 300 requests."""

    label: str
    elapsed: float  # first call to last answer, wall clock
    server_span: float  # first to last admission, as the server logged them
    rate_limited: int  # 429s the server sent
    max_client_window: int  # most starts the client made in any window of P
    period: float
    first_burst: float  # from the first call until the server had admitted `LIMIT`
    failed: int = 0  # calls that ended in an exception (the SDK's, after its retries)

    @property
    def utilisation(self) -> float:
        return 2 * self.period / self.elapsed

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "elapsed_s": self.elapsed,
            "server_span_s": self.server_span,
            "utilisation": self.utilisation,
            "rate_limited_429s": self.rate_limited,
            "max_starts_in_any_window_client_side": self.max_client_window,
            "first_burst_admitted_s": self.first_burst,
            "failed_calls": self.failed,
        }


def _max_in_window(starts: list[float], period: float) -> int:
    """Most of ``starts`` in any half-open window (t - period, t]."""
    starts = sorted(starts)
    return max(
        (i + 1 - bisect.bisect_right(starts, t - period) for i, t in enumerate(starts)),
        default=0,
    )


async def _stats(http: httpx.AsyncClient, base_url: str) -> dict[str, Any]:
    response = await http.get(f"{base_url}/_sandbox/stats")
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


async def _measure(
    label: str,
    token: str,
    period: float,
    requests: int,
    admin: httpx.AsyncClient,
    base_url: str,
    one_request: Callable[[list[float]], Awaitable[None]],
) -> LimiterRun:
    before = await _stats(admin, base_url)
    starts: list[float] = []
    started_epoch = time.time()  # the server logs admissions in epoch seconds
    started = time.monotonic()
    outcomes = await asyncio.gather(
        *(one_request(starts) for _ in range(requests)), return_exceptions=True
    )
    elapsed = time.monotonic() - started
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, LexerActivityError):
            raise outcome
    after = await _stats(admin, base_url)
    admitted = sorted(after["admitted"].get(token, []))
    return LimiterRun(
        label=label,
        elapsed=elapsed,
        server_span=(max(admitted) - min(admitted)) if admitted else float("nan"),
        rate_limited=after["rate_limited"] - before["rate_limited"],
        max_client_window=_max_in_window(starts, period),
        period=period,
        first_burst=(
            admitted[LIMIT - 1] - started_epoch if len(admitted) >= LIMIT else float("nan")
        ),
        failed=sum(isinstance(outcome, BaseException) for outcome in outcomes),
    )


async def rate_window_benchmarks(sizes: Sizes) -> tuple[list[Result], list[LimiterRun]]:
    """The SDK's window and, when aiolimiter is installed, the two AsyncLimiter setups."""
    period = sizes.rate_period
    requests = sizes.rate_requests
    tokens = ["rw-sdk", "rw-aiolimiter-burst", "rw-aiolimiter-strict"]
    runs: list[LimiterRun] = []
    with sandbox_process(rate_limit=LIMIT, rate_window=period, tokens=tokens) as server:
        base_url = server.base_url
        async with httpx.AsyncClient(timeout=30) as admin:
            async with AsyncActivityClient(
                "rw-sdk", base_url=base_url, status_url=server.status_url,
                rate_limit=(LIMIT, period),
            ) as client:

                async def sdk_request(starts: list[float]) -> None:
                    # users() waits in the window inside, so no start time is known here;
                    # a 429 it could not retry away raises, and is counted as failed.
                    await client.users()

                runs.append(await _measure(
                    f"SDK RateWindow rate_limit=({LIMIT}, {period:g})", "rw-sdk", period,
                    requests, admin, base_url, sdk_request,
                ))

            if HAVE_AIOLIMITER:
                setups = [
                    ("rw-aiolimiter-burst", f"AsyncLimiter({LIMIT}, {period:g})",
                     AsyncLimiter(LIMIT, period)),
                    ("rw-aiolimiter-strict", f"AsyncLimiter(1, {period:g}/{LIMIT - 1})",
                     AsyncLimiter(1, period / (LIMIT - 1))),
                ]
                for token, label, limiter in setups:
                    headers = {"Auth-Api-Token": token, "Accept": "application/json"}

                    async def limited_request(
                        starts: list[float], limiter: Any = limiter, headers: Any = headers
                    ) -> None:
                        async with limiter:
                            starts.append(time.monotonic())
                            response = await admin.get(f"{base_url}/v1/users", headers=headers)
                        if response.status_code not in (200, 429):
                            response.raise_for_status()

                    runs.append(await _measure(
                        label, token, period, requests, admin, base_url, limited_request,
                    ))
    sdk = runs[0]
    # No limiter can do better than the server allows: it admitted the first burst of
    # LIMIT only `first_burst` seconds after the first call (new connections, then one
    # request at a time), and every later window counts from those admissions.
    floor = 2 * period + sdk.first_burst
    sdk_run_note = (
        f"SDK: {requests} requests in {sdk.elapsed:.2f} s (minimum 2P = {2 * period:g} s), "
        f"{sdk.rate_limited} x 429 from the server, {sdk.failed} calls failed after retries; "
        f"server's first-to-last admission span {sdk.server_span:.2f} s"
    )
    floor_note = (
        f"the server had admitted the first {LIMIT} only {sdk.first_burst:.2f} s after the "
        f"first call, so no 429-free limiter can finish before ~{floor:.2f} s here "
        f"(utilisation <= {2 * period / floor:.2f})"
    )
    detail = {"limiters": [run.to_json() for run in runs]}
    results = [
        Result(
            name="rate_window_utilisation",
            value=sdk.utilisation,
            unit="of 2P",
            baseline=2 * period,
            ratio=sdk.utilisation,
            goal=0.95,
            extra_check=sdk.rate_limited == 0,
            what=f"2P / wall time of {requests} requests, window {LIMIT} per {period:g} s; "
            "goal also needs zero 429s",
            notes=[sdk_run_note, floor_note],
            detail=detail,
        )
    ]
    if len(runs) == 3:
        burst, strict = runs[1], runs[2]
        results.append(
            Result(
                name="rate_window_aiolimiter",
                value=strict.utilisation,
                unit="of 2P",
                baseline=2 * period,
                ratio=strict.utilisation,
                goal=None,
                what=f"utilisation of {strict.label}, the largest AsyncLimiter that keeps the "
                "guarantee",
                notes=[
                    f"{burst.label}: {burst.elapsed:.2f} s, {burst.rate_limited} x 429, up to "
                    f"{burst.max_client_window} starts in one window",
                    f"{strict.label}: {strict.elapsed:.2f} s (utilisation "
                    f"{strict.utilisation:.2f}), {strict.rate_limited} x 429, up to "
                    f"{strict.max_client_window} starts in one window",
                ],
                detail=detail,
            )
        )
    return results, runs
