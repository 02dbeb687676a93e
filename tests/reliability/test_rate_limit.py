"""Fault 5 with concurrency: many tasks on one token meet 429s with every kind of
``Retry-After``, and together they never send more than the window allows.

The window is scaled down: the sandbox admits 10 requests per 0.5 s and the client is told
the same (``rate_limit=(10, 0.5)``, so ``max_retry_after`` defaults to 0.5 s). The 429s
injected by faults answer before the sandbox's own window (as a gateway would), so
``stats.rate_limited == stats.faults["rate_limit"]`` proves the window itself never had to
refuse a request, and ``max_in_any_window`` shows how many it admitted in any 0.5 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

from lexer_activity import AsyncActivityClient, RateLimitError
from lexer_activity.sandbox import Fault, SandboxConfig, SandboxServer

from ._support import (
    FORMS,
    GROUPS,
    REPORT,
    TOKEN,
    USERS,
    Op,
    new_http_client,
    record_exception,
    run_api,
    start_server,
)

LIMIT, PERIOD = 10, 0.5
OPS = [REPORT, USERS, GROUPS, FORMS]
TASKS = 12


@pytest.fixture(scope="module")
def module_server() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        tokens=(TOKEN,), export_delay=0.0, rate_limit=LIMIT, rate_window=PERIOD, volume_scale=0.2
    )
    server = start_server(config)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def clean(module_server: SandboxServer) -> dict[str, Any]:
    """Each operation's answer without faults (4 requests: within one window)."""

    async def answers() -> dict[str, Any]:
        async with new_http_client() as http:
            client = AsyncActivityClient(
                token=TOKEN, base_url=module_server.base_url,
                status_url=module_server.status_url, http_client=http, rate_limit=(LIMIT, PERIOD),
            )
            return {op.name: await run_api(op, client, None) for op in OPS}  # type: ignore[arg-type]

    result: dict[str, Any] = anyio.run(answers)
    time.sleep(PERIOD + 0.05)  # leave the sandbox's window empty for the first test
    return result


async def gather(client: AsyncActivityClient, count: int) -> list[tuple[Op, Any]]:
    """``count`` tasks at once, cycling over the operations; each outcome is kept."""
    outcomes: list[tuple[Op, Any]] = []

    async def one(op: Op) -> None:
        try:
            outcomes.append((op, await run_api(op, client, None)))  # type: ignore[arg-type]
        except RateLimitError as exc:
            outcomes.append((op, exc))

    async with anyio.create_task_group() as group:
        for index in range(count):
            group.start_soon(one, OPS[index % len(OPS)])
    return outcomes


RECOVERING = {
    "seconds-0": "0",
    "fraction-0.05": "0.05",
    "absent": None,
    "negative": "-3",
    "soon": "soon",
    "past-date": "Wed, 21 Oct 2015 07:28:00 GMT",
}
ABSURD = {"86400": "86400", "year-9999": "Fri, 31 Dec 9999 23:59:59 GMT"}


@pytest.mark.matrix
@pytest.mark.parametrize("op", ["12-concurrent-tasks"])
@pytest.mark.parametrize("fault", [*RECOVERING, *ABSURD])
async def test_concurrent_tasks_meet_429s(
    op: str,
    fault: str,
    server: SandboxServer,
    clean: dict[str, Any],
    make_client: Callable[..., AsyncActivityClient],
) -> None:
    value = {**RECOVERING, **ABSURD}[fault]
    server.sandbox.add_fault(Fault("*", "rate_limit", times=2, retry_after=value))
    client = make_client(rate_limit=(LIMIT, PERIOD))
    started = time.monotonic()
    outcomes = await gather(client, TASKS)
    elapsed = time.monotonic() - started

    failed = [(o, r) for o, r in outcomes if isinstance(r, RateLimitError)]
    for _, exc in failed:
        record_exception("caught", exc)
        assert type(exc) is RateLimitError
        assert exc.status_code == 429
    assert all(result == clean[o.name] for o, result in outcomes if (o, result) not in failed)
    stats = server.sandbox.stats
    assert stats.faults == {"rate_limit": 2}
    assert stats.rate_limited == 2  # only the injected 429s: the window never refused
    assert stats.max_in_any_window[TOKEN] <= LIMIT
    sent = sum(stats.requests.values())
    if fault in ABSURD:
        assert len(failed) == 2  # raised at once, not slept for, and not retried
        assert sent == TASKS
    else:
        assert failed == []
        assert sent == TASKS + 2
    # 12 or 14 requests take two windows; nothing slept for the absurd values.
    assert elapsed < 3 * PERIOD + 1.0


@pytest.mark.matrix
@pytest.mark.parametrize("op", ["20-concurrent-tasks"])
@pytest.mark.parametrize("fault", ["mixed-retry-afters"])
async def test_concurrent_tasks_meet_mixed_429s(
    op: str,
    fault: str,
    server: SandboxServer,
    clean: dict[str, Any],
    make_client: Callable[..., AsyncActivityClient],
) -> None:
    for value in ("0", "0.05", None, "soon", "86400", "-1", "inf"):
        server.sandbox.add_fault(Fault("*", "rate_limit", retry_after=value))
    client = make_client(rate_limit=(LIMIT, PERIOD))
    outcomes = await gather(client, 20)
    failed = [r for _, r in outcomes if isinstance(r, RateLimitError)]
    assert len(failed) == 2  # "86400" and "inf"
    assert all(r == clean[o.name] for o, r in outcomes if not isinstance(r, RateLimitError))
    stats = server.sandbox.stats
    assert stats.rate_limited == stats.faults["rate_limit"] == 7
    assert sum(stats.requests.values()) == 20 + 5
    assert stats.max_in_any_window[TOKEN] <= LIMIT


@pytest.mark.matrix
@pytest.mark.parametrize("op", ["20-concurrent-tasks"])
@pytest.mark.parametrize("fault", ["real-window-429s"])
async def test_a_client_that_overshoots_is_held_by_the_servers_retry_after(
    op: str,
    fault: str,
    server: SandboxServer,
    clean: dict[str, Any],
    make_client: Callable[..., AsyncActivityClient],
) -> None:
    # The client believes in 30 per window: the sandbox's own 429s (with its computed
    # Retry-After, at most one window) must hold every task until the window has room.
    client = make_client(rate_limit=(30, PERIOD), max_retries=5)
    outcomes = await gather(client, 20)
    assert all(r == clean[o.name] for o, r in outcomes)
    stats = server.sandbox.stats
    assert stats.rate_limited >= 1
    assert stats.faults == {}
    assert len(stats.admitted[TOKEN]) == 20
    assert stats.max_in_any_window[TOKEN] <= LIMIT
