"""The fault matrix for the export file: ``download()``, ``iter_bytes()`` and ``iter_rows()``
against every fault of the file host, and the polling operations (``wait`` and the three
above) against every kind of bad export status.

"Right" means the exact bytes of the source (sha256), or for ``iter_rows`` the rows the csv
module reads from it; a failure must leave no temporary file and yesterday's file intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lexer_activity import (
    AsyncActivityClient,
    DownloadError,
    ExportFailedError,
    ExportTimeoutError,
    NotFoundError,
    ResponseValidationError,
)
from lexer_activity._constants import (
    DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_POLL_INTERVAL,
    POLL_GROWTH,
    POLL_MAX_INTERVAL,
)
from lexer_activity.sandbox import Fault, SandboxServer

from ._support import (
    CHUNK,
    FILE_OPS,
    MAX_RETRIES,
    POLLING_OPS,
    SHORT_TIMEOUT,
    WAIT,
    Op,
    Source,
    assert_old_file_intact,
    assert_same_as_source,
    raises,
    run_api,
    run_file,
)


@dataclass(frozen=True)
class Case:
    """Faults on the file host, and what every file operation must then do."""

    label: str
    faults: Callable[[int], list[Fault]]  # (file size) -> faults to queue on "download"
    error: type[Exception] | None  # None: the source, exactly
    downloads: int  # requests that reached the file host
    polls: int = 1  # status requests (one to find the URL, one more per 403)
    client: dict[str, Any] = field(default_factory=dict)
    match: str | None = None  # what the error message must say

    def __str__(self) -> str:
        return self.label


def at(position: str, size: int) -> int:
    return {"0": 0, "1": 1, "65536": CHUNK, "mid": size // 2, "end-1": size - 1}[position]


def drop(position: str, kind: str = "drop", times: int | None = 1) -> Callable[[int], list[Fault]]:
    return lambda size: [Fault("download", kind, times=times, after_bytes=at(position, size))]


CASES: list[Case] = []

# 1 and 2. A reset or a clean close after N bytes, Content-Length promising the whole file:
# the next request asks for the rest with Range and the file comes out whole.
for position in ("0", "1", "65536", "mid", "end-1"):
    CASES.append(Case(f"drop@{position}", drop(position), None, 2))
    CASES.append(Case(f"short@{position}", drop(position, "short"), None, 2))
CASES += [
    # No byte ever arrives: max_retries attempts without progress, then a DownloadError.
    Case("drop@0-forever", drop("0", times=None), DownloadError, MAX_RETRIES + 1),
    Case("short@0-forever", drop("0", "short", times=None), DownloadError, MAX_RETRIES + 1),
]

# 3. Range ignored (200 with the whole file: start over, no byte twice), and a Content-Range
# that does not match what was asked (never used; counts as a failed attempt).
_MID = drop("mid")
CASES += [
    Case(
        "ignore_range-after-drop@mid",
        lambda size: [*_MID(size), Fault("download", "ignore_range")],
        None,
        2,
    ),
    Case(
        "ignore_range-after-drop@end-1",
        lambda size: [*drop("end-1")(size), Fault("download", "ignore_range")],
        None,
        2,
    ),
    Case(
        "206-not-asked-for-on-first-request",
        lambda size: [Fault("download", "bad_content_range")],
        None,
        2,
    ),
    Case(
        "206-wrong-total-forever",
        lambda size: [*_MID(size), Fault("download", "bad_content_range", times=None,
                                         content_range=f"bytes {size // 2}-{size}/{size + 1}")],
        DownloadError,
        1 + MAX_RETRIES + 1,
    ),
]
for name, content_range in (
    ("off-by-one", None),  # the sandbox's default: bytes start+1-end+1/size
    ("wrong-total", "bytes {mid}-{last}/{bigger}"),
    ("unknown-total", "bytes {mid}-{last}/*"),
    ("from-zero", "bytes 0-{last}/{size}"),
    ("garbage", "pages 1-2"),
):
    CASES.append(Case(
        f"206-{name}-after-drop@mid",
        lambda size, r=content_range: [
            *_MID(size),
            Fault("download", "bad_content_range", content_range=None if r is None else r.format(
                mid=size // 2, last=size - 1, bigger=size + 1, size=size)),
        ],
        None,
        3,
    ))

# 4. 5xx bursts from the file host: up to max_retries recover, one more is a DownloadError.
for code in (500, 502, 503, 504):
    for burst in (1, MAX_RETRIES, MAX_RETRIES + 1):
        CASES.append(Case(
            f"{code}x{burst}",
            lambda size, c=code, b=burst: [Fault("download", "status", times=b, status_code=c)],
            None if burst <= MAX_RETRIES else DownloadError,
            burst + 1 if burst <= MAX_RETRIES else MAX_RETRIES + 1,
        ))

# 5. A 429 from the file host is a failed attempt like a 503: its Retry-After is not the API's
# window and is not waited for (the backoff is), so even an absurd one costs no sleep.
CASES += [
    Case("429-retry-after-86400", lambda size: [Fault("download", "rate_limit", retry_after="86400")],
         None, 2),
    Case("429-forever", lambda size: [Fault("download", "rate_limit", times=None, retry_after="0")],
         DownloadError, MAX_RETRIES + 1),
]

# 6. Slow to start (past a 0.2 s read timeout), and bodies that trickle: within the timeout,
# or stalled past it after each 64 KiB piece (each attempt makes progress, so it resumes).
_SHORT = {"timeout": SHORT_TIMEOUT}
CASES += [
    Case("slow-once", lambda size: [Fault("download", "slow", delay=0.6)], None, 2, client=_SHORT),
    Case(
        "slow-forever",
        lambda size: [Fault("download", "slow", times=None, delay=0.6)],
        DownloadError,
        2,
        client={**_SHORT, "max_retries": 1},
    ),
    Case(
        "trickle-within-timeout",
        lambda size: [Fault("download", "trickle", chunk=16384, delay=0.005)],
        None,
        1,
        client=_SHORT,
    ),
    Case(
        "trickle-stalled-once",
        lambda size: [Fault("download", "trickle", chunk=CHUNK, delay=0.6)],
        None,
        2,
        client=_SHORT,
    ),
    Case(
        "trickle-stalled-forever",
        lambda size: [Fault("download", "trickle", times=None, chunk=CHUNK, delay=0.6)],
        None,
        0,  # one attempt per 64 KiB piece: see _expected_downloads
        client=_SHORT,
    ),
]

# The file served gzip-encoded (counted and verified raw, decoded for the caller).
CASES.append(Case("gzip", lambda size: [Fault("download", "gzip")], None, 1))

# 8 (the file host's part). An expired pre-signed URL: one 403 is recovered by exactly one
# status poll for a fresh URL; a persistent 403 is a clear DownloadError after that one poll.
CASES += [
    Case("403-expired-once", lambda size: [Fault("download", "expired")], None, 2, polls=2),
    Case("403-expired-forever", lambda size: [Fault("download", "expired", times=None)],
         DownloadError, 2, polls=2,
         match=r"refused \(403\); it may have expired, and the fresh URL .* was refused too"),
]


def _expected_downloads(case: Case, source: Source) -> int:
    if case.label == "trickle-stalled-forever":
        return -(-source.size // CHUNK)
    return case.downloads


@pytest.mark.matrix
@pytest.mark.parametrize("op", FILE_OPS, ids=str)
@pytest.mark.parametrize("fault", CASES, ids=str)
async def test_file_operation_under_fault(
    op: Op,
    fault: Case,
    server: SandboxServer,
    make_client: Callable[..., AsyncActivityClient],
    source: Source,
    directory: Path,
) -> None:
    for each in fault.faults(source.size):
        server.sandbox.add_fault(each)
    client = make_client(**fault.client)
    if fault.error is None:
        result = await run_file(op, client, source, directory)
        assert_same_as_source(op, result, source, directory, f"{fault}/{op}")
    else:
        with raises(fault.error, match=fault.match):
            await run_file(op, client, source, directory)
        assert_old_file_intact(op, directory)
    stats = server.sandbox.stats
    assert stats.requests.get("download", 0) == _expected_downloads(fault, source)
    assert stats.requests.get("status", 0) == fault.polls
    assert server.sandbox.faults.pending() == [] or fault.label.endswith("forever")


# -- the export status, for every operation that polls it -----------------------------------


def _polls_until_timeout(timeout: float = DEFAULT_EXPORT_TIMEOUT,
                         interval: float = DEFAULT_POLL_INTERVAL) -> int:
    """Polls that ``wait()``'s documented schedule makes before giving up."""
    now, polls, cap = 0.0, 0, max(POLL_MAX_INTERVAL, interval)
    while True:
        now += max(0.0, min(interval, timeout - now))
        polls += 1
        if now >= timeout:
            return polls
        interval = min(interval * POLL_GROWTH, cap)


@dataclass(frozen=True)
class StatusCase:
    label: str
    faults: list[Fault]
    error: type[Exception] | None
    polls: int

    def __str__(self) -> str:
        return self.label


def _status(times: int | None = 1, **params: Any) -> Fault:
    return Fault("status", "export_status", times=times, **params)


STATUS_CASES = [
    StatusCase("failed", [_status(status="failed", url=None)], ExportFailedError, 1),
    StatusCase("unknown-status", [_status(status="exploded", url=None)], ExportFailedError, 1),
    StatusCase("complete-without-url-key", [_status()], ExportFailedError, 1),
    StatusCase("complete-url-null", [_status(url=None)], ExportFailedError, 1),
    StatusCase("complete-url-empty", [_status(url="")], ExportFailedError, 1),
    StatusCase("complete-url-number", [_status(url=12)], ExportFailedError, 1),
    StatusCase("complete-url-file-scheme", [_status(url="file:///etc/passwd")], ExportFailedError, 1),
    StatusCase("complete-url-ftp-scheme", [_status(url="ftp://files.example/a.csv")], ExportFailedError, 1),
    StatusCase("complete-url-relative", [_status(url="/downloads/a.csv")], ExportFailedError, 1),
    StatusCase("complete-url-without-host", [_status(url="https:///a.csv")], ExportFailedError, 1),
    StatusCase("status-not-a-string", [Fault("status", "malformed", body="json",
                                             json={"status": None, "url": None})],
               ResponseValidationError, 1),
    StatusCase("status-404-unknown-job", [Fault("status", "status", status_code=404,
                                                body={"error": "Not found"})], NotFoundError, 1),
    StatusCase("pending-twice-then-complete", [_status(times=2, status="pending", url=None)], None, 3),
    StatusCase("pending-past-the-timeout", [_status(times=None, status="pending", url=None)],
               ExportTimeoutError, _polls_until_timeout()),
]


@pytest.mark.matrix
@pytest.mark.parametrize("op", POLLING_OPS, ids=str)
@pytest.mark.parametrize("fault", STATUS_CASES, ids=str)
async def test_polling_operation_under_status_fault(
    op: Op,
    fault: StatusCase,
    server: SandboxServer,
    make_client: Callable[..., AsyncActivityClient],
    source: Source,
    directory: Path,
) -> None:
    for each in fault.faults:
        server.sandbox.add_fault(each)
    client = make_client()
    run = run_api(op, client, source) if op is WAIT else run_file(op, client, source, directory)
    if fault.error is None:
        result = await run
        if op is not WAIT:
            assert_same_as_source(op, result, source, directory, f"{fault}/{op}")
    else:
        with raises(fault.error):
            await run
        assert_old_file_intact(op, directory)
    stats = server.sandbox.stats
    assert stats.requests.get("status", 0) == fault.polls
    expected_downloads = 1 if fault.error is None and op is not WAIT else 0
    assert stats.requests.get("download", 0) == expected_downloads
