"""The fault matrix for the API operations: a report, the three lists, an export start and
status polling (``job.wait``), each against every fault that applies, over loopback HTTP.

Each case asserts the exact outcome (the clean run's answer, or the exact exception class),
how many requests reached the faulted route, and for the export start how many jobs the
server started: a flaky network must never start two.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lexer_activity import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncActivityClient,
    AuthenticationError,
    BadRequestError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from lexer_activity.sandbox import Fault, SandboxServer

from ._support import (
    API_OPS,
    EXPORT_START,
    EXPORT_TYPE,
    MAX_RETRIES,
    SHORT_TIMEOUT,
    TOKEN,
    Backoffs,
    Op,
    Source,
    new_http_client,
    raises,
    run_api,
)

# What a clean run of each operation answers, and the length of its body on the wire.
_CLEAN: dict[tuple[str, str], tuple[Any, int]] = {}

Clean = Callable[[Op], Any]


@pytest_asyncio.fixture
async def clean(server: SandboxServer, source: Source) -> Any:
    """``await clean(op)``: (result, body length) of the operation without faults; cached."""

    async def get(op: Op) -> tuple[Any, int]:
        key = (server.base_url, op.name)
        if key not in _CLEAN:
            lengths: list[int] = []

            async def hook(response: httpx.Response) -> None:
                lengths.append(int(response.headers["content-length"]))

            async with new_http_client(event_hooks={"response": [hook]}) as http:
                client = AsyncActivityClient(
                    token=TOKEN,
                    base_url=server.base_url,
                    status_url=server.status_url,
                    http_client=http,
                    rate_limit=(100_000, 1.0),
                )
                result = await run_api(op, client, source)
            assert len(lengths) == 1
            _CLEAN[key] = (result, lengths[0])
        server.sandbox.reset_stats()
        return _CLEAN[key]

    return get


@dataclass(frozen=True)
class Outcome:
    error: type[Exception] | None  # None: the clean answer
    attempts: int  # requests that reached the faulted route
    jobs: int = 0  # export jobs the server started (export start only)
    backoffs: list[int] | None = None  # backoff_delay(attempt) calls, when the case checks them


@dataclass(frozen=True)
class Case:
    """A fault (or a sequence of faults) on an operation's route, and its expected outcome."""

    label: str
    faults: Callable[[str, int], list[Fault]]  # (route, body length) -> faults to queue
    idempotent: Outcome
    start: Outcome  # the export start, which is never retried once the server may have acted
    client: dict[str, Any] = field(default_factory=dict)
    min_elapsed: float = 0.0
    max_elapsed: float = math.inf

    def __str__(self) -> str:
        return self.label


def at(position: str, length: int) -> int:
    return {"0": 0, "1": 1, "mid": length // 2, "end-1": length - 1}[position]


CASES: list[Case] = []

# 1 and 2. The connection drops (reset) or closes cleanly after N bytes of the body, with a
# Content-Length that promised all of it. The server did act: an export start started a job.
for position in ("0", "1", "mid", "end-1"):
    CASES.append(Case(
        f"drop@{position}",
        lambda route, n, p=position: [Fault(route, "drop", after_bytes=at(p, n))],
        idempotent=Outcome(None, 2),
        start=Outcome(APIConnectionError, 1, jobs=1),
    ))
    CASES.append(Case(
        f"short@{position}",
        lambda route, n, p=position: [Fault(route, "short", after_bytes=at(p, n))],
        idempotent=Outcome(None, 2),
        start=Outcome(APIConnectionError, 1, jobs=1),
    ))
CASES += [
    Case(
        "drop@0-forever",
        lambda route, n: [Fault(route, "drop", times=None, after_bytes=0)],
        idempotent=Outcome(APIConnectionError, MAX_RETRIES + 1),
        start=Outcome(APIConnectionError, 1, jobs=1),
    ),
    Case(
        "short@mid-forever",
        lambda route, n: [Fault(route, "short", times=None, after_bytes=n // 2)],
        idempotent=Outcome(APIConnectionError, MAX_RETRIES + 1),
        start=Outcome(APIConnectionError, 1, jobs=1),
    ),
]

# 4. 5xx bursts (a gateway answering: the API never saw the request). Up to max_retries in a
# row recover; one more is a ServerError. An export start never retries a 5xx.
for code in (500, 502, 503, 504):
    for burst in (1, MAX_RETRIES, MAX_RETRIES + 1):
        CASES.append(Case(
            f"{code}x{burst}",
            lambda route, n, c=code, b=burst: [Fault(route, "status", times=b, status_code=c)],
            idempotent=(
                Outcome(None, burst + 1, backoffs=list(range(burst))) if burst <= MAX_RETRIES
                else Outcome(ServerError, MAX_RETRIES + 1, backoffs=list(range(MAX_RETRIES)))
            ),
            start=Outcome(ServerError, 1, backoffs=[]),
        ))

# 5. 429 with every kind of Retry-After. The client's window is 0.5 s, so max_retry_after
# defaults to 0.5 s: anything above it raises at once; anything else is waited for (or, when
# absent or unreadable, backed off) and recovers, for an export start too.
_PAST = "Wed, 21 Oct 2015 07:28:00 GMT"
_HOUR = format_datetime(datetime.now(timezone.utc) + timedelta(hours=1), usegmt=True)
_RECOVERING = {
    "seconds-0": "0",
    "fraction-0.05": "0.05",
    "absent": None,
    "negative": "-5",
    "soon": "soon",
    "empty": "",
    "nan": "NaN",
    "past-date": _PAST,
    "year-10000": "Sat, 01 Jan 10000 00:00:00 GMT",  # unreadable as a date
}
_ABSURD = {
    "86400": "86400",
    "seconds-1-over-cap": "1",
    "year-9999": "Fri, 31 Dec 9999 23:59:59 GMT",
    "date-in-an-hour": _HOUR,
    "inf": "inf",
    "1e400": "1e400",
}
_SCALED = {"rate_limit": (100_000, 0.5)}
# Without a readable Retry-After the client backs off; with one it waits what it was told.
_UNREADABLE = {"absent", "soon", "empty", "nan", "year-10000"}
for name, value in _RECOVERING.items():
    wait = {"fraction-0.05": 0.05}.get(name, 0.0)
    backoff = [0] if name in _UNREADABLE else []
    CASES.append(Case(
        f"429-retry-after-{name}",
        lambda route, n, v=value: [Fault(route, "rate_limit", retry_after=v)],
        idempotent=Outcome(None, 2, backoffs=backoff),
        start=Outcome(None, 2, jobs=1, backoffs=backoff),
        client=_SCALED,
        min_elapsed=wait,
        max_elapsed=wait + 1.0,
    ))
for name, value in _ABSURD.items():
    CASES.append(Case(
        f"429-retry-after-{name}",
        lambda route, n, v=value: [Fault(route, "rate_limit", retry_after=v)],
        idempotent=Outcome(RateLimitError, 1, backoffs=[]),
        start=Outcome(RateLimitError, 1, backoffs=[]),
        client=_SCALED,
        max_elapsed=0.4,  # raised at once, not slept for
    ))
CASES.append(Case(
    "429-forever",
    lambda route, n: [Fault(route, "rate_limit", times=None, retry_after="0")],
    idempotent=Outcome(RateLimitError, MAX_RETRIES + 1),
    start=Outcome(RateLimitError, MAX_RETRIES + 1),
    client=_SCALED,
))

# 6. Answers slow to start (0.6 s against a 0.2 s read timeout), and bodies that trickle:
# within the timeout (success, one request) or stalled past it.
_SHORT = {"timeout": SHORT_TIMEOUT}
# The "forever" cases run with max_retries=1: each attempt costs a whole timeout.
_SHORT_ONE_RETRY = {"timeout": SHORT_TIMEOUT, "max_retries": 1}
CASES += [
    Case(
        "slow-once",
        lambda route, n: [Fault(route, "slow", delay=0.6)],
        idempotent=Outcome(None, 2),
        start=Outcome(APITimeoutError, 1, jobs=1),
        client=_SHORT,
    ),
    Case(
        "slow-forever",
        lambda route, n: [Fault(route, "slow", times=None, delay=0.6)],
        idempotent=Outcome(APITimeoutError, 2),
        start=Outcome(APITimeoutError, 1, jobs=1),
        client=_SHORT_ONE_RETRY,
    ),
    Case(
        "trickle-within-timeout",
        lambda route, n: [Fault(route, "trickle", chunk=max(1, n // 8), delay=0.02)],
        idempotent=Outcome(None, 1),
        start=Outcome(None, 1, jobs=1),
        client=_SHORT,
    ),
    Case(
        "trickle-stalled-once",
        lambda route, n: [Fault(route, "trickle", chunk=max(1, n // 2), delay=0.6)],
        idempotent=Outcome(None, 2),
        start=Outcome(APITimeoutError, 1, jobs=1),
        client=_SHORT,
    ),
    Case(
        "trickle-stalled-forever",
        lambda route, n: [Fault(route, "trickle", times=None, chunk=max(1, n // 2), delay=0.6)],
        idempotent=Outcome(APITimeoutError, 2),
        start=Outcome(APITimeoutError, 1, jobs=1),
        client=_SHORT_ONE_RETRY,
    ),
]

# 7. Malformed answers with a 200 status: never retried, always ResponseValidationError.
# (Wrong shapes per report method and list endpoint: test_malformed.py.)
for body, extra in (
    ("invalid_json", {}),
    ("html", {}),
    ("empty", {}),
    ("json", {"json": None}),
    ("json", {"json": "a string"}),
    ("json", {"json": 42}),
):
    label = body if not extra else f"json-{type(extra['json']).__name__}"
    CASES.append(Case(
        f"malformed-{label}",
        lambda route, n, b=body, e=extra: [Fault(route, "malformed", body=b, **e)],
        idempotent=Outcome(ResponseValidationError, 1),
        start=Outcome(ResponseValidationError, 1),
    ))

# Error bodies that quote the request's token back (some gateways echo headers). The exact
# class still comes out; the token-hygiene test checks that it never reaches a message or log.
CASES += [
    Case(
        "401-echoing-the-token",
        lambda route, n: [Fault(route, "status", status_code=401,
                                body={"error": f"Unauthorized - api token {TOKEN} not matching"})],
        idempotent=Outcome(AuthenticationError, 1),
        start=Outcome(AuthenticationError, 1),
    ),
    Case(
        "503-page-echoing-the-token-once",
        lambda route, n: [Fault(route, "status", status_code=503,
                                body=f"<html><pre>Auth-Api-Token: {TOKEN}</pre></html>")],
        idempotent=Outcome(None, 2),
        start=Outcome(ServerError, 1),
    ),
    Case(
        "200-page-echoing-the-token",
        lambda route, n: [Fault(route, "status", status_code=200,
                                headers={"content-type": "text/html"},
                                body=f"<html><pre>Auth-Api-Token: {TOKEN}</pre></html>")],
        idempotent=Outcome(ResponseValidationError, 1),
        start=Outcome(ResponseValidationError, 1),
    ),
]


@pytest.mark.matrix
@pytest.mark.parametrize("op", API_OPS, ids=str)
@pytest.mark.parametrize("fault", CASES, ids=str)
async def test_api_operation_under_fault(
    op: Op,
    fault: Case,
    server: SandboxServer,
    make_client: Callable[..., AsyncActivityClient],
    clean: Any,
    source: Source,
    backoffs: Backoffs,
) -> None:
    expected, length = await clean(op)
    for each in fault.faults(op.route, length):
        server.sandbox.add_fault(each)
    outcome = fault.idempotent if op.idempotent else fault.start
    client = make_client(**fault.client)

    started = time.monotonic()
    if outcome.error is None:
        assert await run_api(op, client, source) == expected
    else:
        with raises(outcome.error):
            await run_api(op, client, source)
    elapsed = time.monotonic() - started

    stats = server.sandbox.stats
    assert stats.requests.get(op.route, 0) == outcome.attempts
    assert set(stats.requests) <= {op.route}
    if op is EXPORT_START:
        assert stats.report_types.get(EXPORT_TYPE, 0) == outcome.jobs
    assert fault.min_elapsed <= elapsed <= fault.max_elapsed
    if outcome.backoffs is not None:
        assert backoffs.api == outcome.backoffs


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        pytest.param(401, {"error": f"Unauthorized - api token {TOKEN} not matching"},
                     AuthenticationError, id="401-json-error"),
        pytest.param(400, f"bad header Auth-Api-Token: {TOKEN}", BadRequestError, id="400-text"),
        pytest.param(503, f"<pre>Auth-Api-Token: {TOKEN}</pre>", ServerError, id="503-page"),
        pytest.param(200, f"<pre>Auth-Api-Token: {TOKEN}</pre>", ResponseValidationError,
                     id="200-page"),
        # The token straddles the 200-character excerpt: not even a prefix may survive.
        pytest.param(200, "x" * 190 + TOKEN, ResponseValidationError, id="200-cut-excerpt"),
    ],
)
async def test_error_messages_never_quote_the_token(
    status: int,
    body: Any,
    error: type[Exception],
    server: SandboxServer,
    make_client: Callable[..., AsyncActivityClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Some gateways echo the request's headers in their error pages.
    server.sandbox.add_fault(Fault("groups", "status", times=None, status_code=status, body=body,
                                   headers={"content-type": "text/html"}))
    client = make_client()
    with caplog.at_level("DEBUG"), raises(error) as info:
        await client.groups()
    texts = [str(info.value), repr(info.value), caplog.text]
    if isinstance(info.value, APIStatusError):
        texts.append(repr(info.value.body))
    assert not [text for text in texts if TOKEN in text or TOKEN[:8] in text]
