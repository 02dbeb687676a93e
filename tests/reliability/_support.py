"""Constants, evidence, the sandbox wrapper and the operations shared by the reliability suite.

Fixtures and hooks live in ``conftest.py``; everything a test module imports lives here.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.lowlevel
import httpx
import pytest

from lexer_activity import AsyncActivityClient
from lexer_activity.sandbox import SandboxConfig, SandboxServer

TOKEN = "tok-SECRET-5b1f"
MAX_RETRIES = 2
TIMEOUT = 2.0  # generous: only the timing tests use a short one
SHORT_TIMEOUT = 0.2
BACKOFF = 0.002
# Reports: April 2018 in UTC. Export starts in the matrix: one day (a tiny job).
RANGE = ("2018-04-01", "2018-04-30")
DAY = ("2018-04-01", "2018-04-01")
# The download source: ten days of the Responses (SLA) export, ~175 KB at volume_scale 0.2,
# so it spans several of the sandbox's 64 KiB pieces.
SOURCE_RANGE = ("2018-04-01T00:00:00+00:00", "2018-04-10T23:59:59+00:00")
SOURCE_TYPE = "mention_sla_export"
CHUNK = 65536  # the sandbox sends files in pieces of this size
OLD_FILE = b"yesterday's export, which must survive a failed download\n"

ROOMY = SandboxConfig(tokens=(TOKEN,), export_delay=0.0, rate_limit=1_000_000, volume_scale=0.2)


# -- evidence for the token-hygiene test ----------------------------------------------------


@dataclass
class Evidence:
    """Everything a leaked token could hide in, collected across the whole session."""

    texts: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    lock: threading.Lock = field(default_factory=threading.Lock)
    log_records: int = 0
    sdk_exceptions: int = 0
    caught_exceptions: int = 0
    # What the sandbox servers received: (route, carried the token, answer status).
    server_requests: list[tuple[str, bool, int]] = field(default_factory=list)
    # Requests that respx routes answered: (host, carried the token).
    respx_requests: list[tuple[str, bool]] = field(default_factory=list)
    matrix_tests_run: int = 0

    def add(self, where: str, text: str) -> None:
        with self.lock:
            self.texts.append((where, text))

    def count(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


EVIDENCE = Evidence()
DATA_CHECKS: list[str] = []  # one entry per download compared with the source
HYPOTHESIS_EXAMPLES: list[str] = []


def record_exception(where: str, exc: BaseException) -> None:
    """Keep ``str`` and ``repr`` of ``exc`` and of everything chained to it."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        EVIDENCE.add(where, f"{current!s} | {current!r}")
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        # An exception group (3.11+, or the exceptiongroup backport on 3.10).
        nested_group = getattr(current, "exceptions", None)
        if isinstance(nested_group, tuple):
            stack.extend(e for e in nested_group if isinstance(e, BaseException))


@contextlib.contextmanager
def raises(
    expected: type[BaseException] | tuple[type[BaseException], ...], match: str | None = None
) -> Iterator[pytest.ExceptionInfo[BaseException]]:
    """``pytest.raises`` that also hands the exception to the hygiene evidence.

    The class must be exact, not a subclass: ``APITimeoutError`` is an
    ``APIConnectionError``, and a case expecting one must not pass on the other.
    """
    with pytest.raises(expected, match=match) as info:
        yield info
    EVIDENCE.count("caught_exceptions")
    record_exception("caught", info.value)
    if isinstance(expected, type):
        assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"


def carries_token(request: httpx.Request) -> bool:
    raw = " ".join(f"{k}: {v}" for k, v in request.headers.items()) + str(request.url)
    return "auth-api-token" in request.headers or TOKEN in raw or "authorization" in request.headers


def note_respx_request(request: httpx.Request) -> None:
    with EVIDENCE.lock:
        EVIDENCE.respx_requests.append((request.url.host, carries_token(request)))


# -- the sandbox over loopback, with a server-side request log ------------------------------


class RequestLog:
    """ASGI middleware: records each request's route, whether it carried the token, and the
    status it was answered with."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        names = {name.lower() for name, _ in scope["headers"]}
        raw = b" ".join(v for _, v in scope["headers"]) + b" " + scope.get("query_string", b"")
        carried = (
            b"auth-api-token" in names or b"authorization" in names or TOKEN.encode() in raw
        )
        route = "download" if path.startswith("/downloads/") else path
        status = [0]

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            with EVIDENCE.lock:
                EVIDENCE.server_requests.append((route, carried, status[0]))


_SSL = ssl.create_default_context()


def new_http_client(**settings: Any) -> httpx.AsyncClient:
    """An httpx client sharing one SSL context (building one per client costs ~20 ms)."""
    return httpx.AsyncClient(verify=_SSL, **settings)


def start_server(config: SandboxConfig) -> SandboxServer:
    server = SandboxServer(config)
    server.app = RequestLog(server.app)  # type: ignore[assignment]
    return server.start()


# -- fast, deterministic waits --------------------------------------------------------------


class PollClock:
    """The export poll schedule on a fake clock: each sleep advances it and yields once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[int], object] | None = None

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))
        await anyio.lowlevel.checkpoint()  # a real checkpoint: a cancellation lands here


@dataclass
class Backoffs:
    api: list[int] = field(default_factory=list)
    download: list[int] = field(default_factory=list)


# -- the download source --------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """The export file as the sandbox stored it, fetched once cleanly."""

    job_token: str
    data: bytes
    sha256: str
    rows: list[dict[str, str]]

    @property
    def size(self) -> int:
        return len(self.data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """Rows as the csv module reads the whole text (blank lines skipped)."""
    text = data.decode("utf-8")
    records = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r]
    header, *body = records
    assert len(set(header)) == len(header), "the comparison assumes unique column names"
    return [dict(zip(header, r, strict=True)) for r in body]


def export_source(server: SandboxServer) -> Source:
    """Start the source export through plain httpx (not the SDK) and fetch its bytes."""
    auth = {"Auth-Api-Token": TOKEN}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        start = http.post(
            "/v1/activity/reports",
            json={"type": SOURCE_TYPE, "date_from": SOURCE_RANGE[0], "date_to": SOURCE_RANGE[1]},
            headers=auth,
        )
        job_token = start.json()["token"]
        deadline = time.monotonic() + 20
        while True:
            status = http.get(server.status_url, params={"token": job_token}, headers=auth).json()
            if status["status"] == "complete":
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.02)
    data = httpx.get(status["url"], timeout=10).content  # the file host: no token
    assert len(data) > 2 * CHUNK + 1000, "the source must span several 64 KiB pieces"
    return Source(job_token, data, sha256(data), csv_rows(data))


# -- the operations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One operation of the matrix, and the sandbox route its faults target."""

    name: str
    route: str
    idempotent: bool = True

    def __str__(self) -> str:
        return self.name


REPORT = Op("report", "reports")
USERS = Op("users", "users")
GROUPS = Op("groups", "groups")
FORMS = Op("forms", "forms")
EXPORT_START = Op("export_start", "reports", idempotent=False)
WAIT = Op("wait", "status")
DOWNLOAD = Op("download", "download")
ITER_BYTES = Op("iter_bytes", "download")
ITER_ROWS = Op("iter_rows", "download")

API_OPS = [REPORT, USERS, GROUPS, FORMS, EXPORT_START, WAIT]
FILE_OPS = [DOWNLOAD, ITER_BYTES, ITER_ROWS]
# Operations that poll the export status (and so see the status faults).
POLLING_OPS = [WAIT, *FILE_OPS]

# The export the matrix starts (one day of it: a tiny job).
EXPORT_TYPE = "case_details"


async def run_api(op: Op, client: AsyncActivityClient, source: Source) -> Any:
    """Run an API operation; return what must equal the clean run's answer."""
    if op is REPORT:
        return await client.summary(*RANGE)
    if op is USERS:
        return await client.users()
    if op is GROUPS:
        return await client.groups()
    if op is FORMS:
        return await client.forms()
    if op is EXPORT_START:
        job = await client.start_export(EXPORT_TYPE, *DAY)
        assert len(job.token) == 32
        return (job.status, job.report_type, job.url)
    if op is WAIT:
        job = client.export_job(source.job_token, SOURCE_TYPE)
        assert await job.wait() is job
        assert job.url is not None
        return (job.status, urlsplit(job.url).path)
    raise AssertionError(op)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def run_file(
    op: Op,
    client: AsyncActivityClient,
    source: Source,
    directory: Path,
    *,
    progress: Callable[[int, int | None], object] | None = None,
) -> Any:
    """Run a file operation from a fresh job object (so it polls the status once first)."""
    job = client.export_job(source.job_token, SOURCE_TYPE)
    if op is DOWNLOAD:
        dest = directory / "export.csv"
        assert await job.download(dest, progress=progress) == dest
        return dest.read_bytes()
    if op is ITER_BYTES:
        async with job.iter_bytes() as chunks:
            return b"".join([chunk async for chunk in chunks])
    if op is ITER_ROWS:
        async with job.iter_rows() as rows:
            return [row async for row in rows]
    raise AssertionError(op)


def assert_same_as_source(op: Op, result: Any, source: Source, directory: Path, label: str) -> None:
    """The download is the source, exactly; nothing else is left in the directory."""
    if op is ITER_ROWS:
        assert result == source.rows
    else:
        assert sha256(result) == source.sha256
    if op is DOWNLOAD:
        assert listing(directory) == ["export.csv"]
    DATA_CHECKS.append(label)


def assert_old_file_intact(op: Op, directory: Path) -> None:
    """After a failed download: no temporary file, and the previous file untouched."""
    if op is DOWNLOAD:
        assert listing(directory) == ["export.csv"]
        assert (directory / "export.csv").read_bytes() == OLD_FILE


# -- every report method and list endpoint --------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A public method that answers decoded JSON, and the shape of answer it expects."""

    name: str
    call: Callable[[AsyncActivityClient], Any]
    shape: str  # object | series-map | series | list | bare-or-list | raw
    route: str
    example: str | None  # the vendor's example answer

    def __str__(self) -> str:
        return self.name


def _methods() -> list[Method]:
    from tests.fixtures import vendor_examples as ex

    form = 55
    return [
        Method("summary", lambda c: c.summary(*RANGE), "object", "reports", ex.SUMMARY),
        Method("states_volume", lambda c: c.states_volume(*RANGE), "series-map", "reports",
               ex.STATES_VOLUME),
        Method("workflow_states", lambda c: c.workflow_states(*RANGE), "list", "reports",
               ex.WORKFLOW_STATES),
        Method("classifications", lambda c: c.classifications(*RANGE), "list", "reports",
               ex.CLASSIFICATIONS),
        Method("response_volume", lambda c: c.response_volume(*RANGE), "series", "reports",
               ex.RESPONSE_VOLUME),
        Method("user_summary", lambda c: c.user_summary(*RANGE), "list", "reports",
               ex.USER_SUMMARY),
        Method("user_volume", lambda c: c.user_volume(*RANGE), "list", "reports", ex.USER_VOLUME),
        Method("case_summary", lambda c: c.case_summary(*RANGE), "object", "reports",
               ex.CASE_SUMMARY),
        Method("case_volume", lambda c: c.case_volume(*RANGE), "series", "reports",
               ex.CASE_VOLUME),
        Method("case_classifications", lambda c: c.case_classifications(*RANGE), "list",
               "reports", ex.CASE_CLASSIFICATIONS),
        Method("nps_summary", lambda c: c.nps_summary(form, *RANGE), "object", "reports",
               ex.NPS_SUMMARY),
        Method("nps_volume", lambda c: c.nps_volume(form, *RANGE), "list", "reports",
               ex.NPS_VOLUME),
        Method("users", lambda c: c.users(), "bare-or-list", "users", ex.USERS),
        Method("groups", lambda c: c.groups(), "bare-or-list", "groups", ex.GROUPS),
        Method("forms", lambda c: c.forms(), "bare-or-list", "forms", ex.FORMS),
        Method("report", lambda c: c.report("summary", *RANGE), "raw", "reports", None),
    ]


METHODS = _methods()
TYPED_METHODS = [m for m in METHODS if m.shape != "raw"]
