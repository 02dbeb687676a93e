"""report_overhead (in-process, ASGITransport) and fanout_concurrency (loopback, 50 ms)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from lexer_activity import AsyncActivityClient
from lexer_activity.sandbox import SandboxConfig, create_app

from ._common import Result, Sizes, interleaved, sandbox_process

__all__ = ["fanout_benchmark", "report_overhead_benchmark"]

TOKEN = "sandbox-token"
API = "http://sandbox.test"
STATUS_URL = API + "/api/public/v1/activity/reports/status"
DATE_FROM, DATE_TO = "2024-03-04", "2024-03-10"
# Roomy: the window must never be what is measured.
HUGE_RATE = (1_000_000_000, 300.0)

TypedCall = Callable[[AsyncActivityClient], Awaitable[object]]
# The typed calls cycled through, each with a different result shape.
CALLS: tuple[tuple[str, TypedCall], ...] = (
    ("summary", lambda c: c.summary(DATE_FROM, DATE_TO)),
    ("classifications", lambda c: c.classifications(DATE_FROM, DATE_TO)),
    ("states_volume", lambda c: c.states_volume(DATE_FROM, DATE_TO)),
    ("user_summary", lambda c: c.user_summary(DATE_FROM, DATE_TO)),
)


async def _recorded_bodies(client: AsyncActivityClient, http: httpx.AsyncClient) -> list[Any]:
    """The JSON bodies the SDK sends for CALLS, so the raw side sends the same requests."""
    bodies: list[Any] = []

    async def record(request: httpx.Request) -> None:
        bodies.append(json.loads(request.content))

    http.event_hooks["request"].append(record)
    try:
        for _, call in CALLS:
            await call(client)
    finally:
        http.event_hooks["request"].remove(record)
    return bodies


async def report_overhead_benchmark(sizes: Sizes) -> Result:
    """N typed report calls through the SDK vs raw httpx POST + json.loads, same transport."""
    app = create_app(SandboxConfig(rate_limit=HUGE_RATE[0], export_delay=0.0))
    calls = sizes.report_calls
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=API) as http:
            client = AsyncActivityClient(
                TOKEN, base_url=API, status_url=STATUS_URL, http_client=http,
                rate_limit=HUGE_RATE,
            )
            bodies = await _recorded_bodies(client, http)
            headers = {"Auth-Api-Token": TOKEN, "Accept": "application/json"}

            async def sdk() -> float:
                started = time.perf_counter()
                for i in range(calls):
                    await CALLS[i % len(CALLS)][1](client)
                return time.perf_counter() - started

            async def raw() -> float:
                started = time.perf_counter()
                for i in range(calls):
                    response = await http.post(
                        f"{API}/v1/activity/reports", json=bodies[i % len(bodies)],
                        headers=headers,
                    )
                    response.raise_for_status()
                    json.loads(response.content)
                return time.perf_counter() - started

            await sdk()
            await raw()
            sdk_t, raw_t = await interleaved(
                [("SDK typed", sdk), ("raw httpx + json.loads", raw)], sizes.report_repeats
            )
            await client.aclose()
    finally:
        app.state.sandbox.close()
    per_call = 1e6 / calls
    ratio = sdk_t.best / raw_t.best
    return Result(
        name="report_overhead",
        value=sdk_t.best * per_call,
        unit="us/call",
        baseline=raw_t.best * per_call,
        ratio=ratio,
        goal=1.3,
        higher_is_better=False,
        what=f"time of {calls} typed calls ({', '.join(n for n, _ in CALLS)}) / raw POSTs of "
        "the same bodies, in-process ASGI sandbox",
        notes=[
            sdk_t.spread(per_call, "us/call"),
            raw_t.spread(per_call, "us/call"),
            f"SDK overhead {(sdk_t.best - raw_t.best) * per_call:.0f} us/call over raw httpx "
            "(both include the in-process server's own work)",
        ],
    )


async def fanout_benchmark(sizes: Sizes) -> Result:
    """N summary calls with 50 ms server latency: asyncio.gather vs one after another."""
    calls = sizes.fanout_calls
    latency = 0.05
    with sandbox_process(latency=latency, tokens=[TOKEN]) as server:
        async with AsyncActivityClient(
            TOKEN, base_url=server.base_url, status_url=server.status_url, rate_limit=HUGE_RATE
        ) as client:

            async def gathered() -> float:
                started = time.perf_counter()
                await asyncio.gather(*(client.summary(DATE_FROM, DATE_TO) for _ in range(calls)))
                return time.perf_counter() - started

            async def sequential() -> float:
                started = time.perf_counter()
                for _ in range(calls):
                    await client.summary(DATE_FROM, DATE_TO)
                return time.perf_counter() - started

            await gathered()  # warm-up: connections and the server's report cache
            gather_t, seq_t = await interleaved(
                [("gathered", gathered), ("sequential", sequential)],
                2 if sizes.quick else 3,
            )
    speedup = seq_t.best / gather_t.best
    return Result(
        name="fanout_concurrency",
        value=gather_t.best,
        unit="s",
        baseline=seq_t.best,
        ratio=speedup,
        goal=10.0,
        what=f"sequential / gathered time of {calls} summary calls, {latency * 1000:.0f} ms "
        "server latency over loopback",
        notes=[
            gather_t.spread(),
            seq_t.spread(),
            f"floor: sequential >= {calls} x {latency} s = {calls * latency:.2f} s; "
            f"gathered >= {latency} s",
        ],
    )
