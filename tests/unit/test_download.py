"""The export file's bytes: no credentials, resume, restart, verification, atomic writes.

The file host is mocked with respx; a ``FileHost`` serves one file, honours ``Range`` like
S3 (unless told not to) and can cut a body after a chosen number of bytes with
``httpx.RemoteProtocolError``, as a dropped connection does. One test uses a real loopback
server, because only a real connection pool shows whether a stream was released.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import os
import random
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import pytest_asyncio
import respx

from lexer_activity import AsyncActivityClient, DownloadError, ExportJob, _download, _exports

API = "https://api.lexer.test"
STATUS_URL = "https://clients.lexer.test/api/public/v1/activity/reports/status"
FILE_HOST = "https://files.lexer.test"
FILE_URL = f"{FILE_HOST}/activity_abc123?X-Amz-Expires=900&X-Amz-Signature=s1gnature"
FRESH_URL = f"{FILE_HOST}/activity_abc123?X-Amz-Expires=900&X-Amz-Signature=fr3sh"
# Headers we allow on a file request; Host comes from the URL itself.
FILE_REQUEST_HEADERS = {"host", "accept-encoding", "range", "if-range"}


def complete(url: str = FILE_URL, token: str = "<report_token>") -> httpx.Response:
    return httpx.Response(200, json={"status": "complete", "url": url, "token": token})


def pending(token: str = "<report_token>") -> httpx.Response:
    return httpx.Response(200, json={"status": "pending", "url": None, "token": token})


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


class Body(httpx.AsyncByteStream):
    """A response body sent in ``chunk``-byte pieces that can fail, or hang, after ``cut``."""

    def __init__(
        self,
        data: bytes,
        *,
        cut: int | None = None,
        chunk: int = 4096,
        hang: anyio.Event | None = None,
    ) -> None:
        self.data = data
        self.cut = cut
        self.chunk = chunk
        self.hang = hang
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        limit = len(self.data) if self.cut is None else min(self.cut, len(self.data))
        for start in range(0, limit, self.chunk):
            yield self.data[start : min(start + self.chunk, limit)]
        if self.hang is not None:
            await self.hang.wait()
        if self.cut is not None and self.cut < len(self.data):
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            )

    async def aclose(self) -> None:
        self.closed = True


class FileHost:
    """An S3-like file host for one file: 200, or 206 for ``Range``; optional cuts.

    ``cuts`` are absolute offsets of the file at which a body breaks, each used once (a
    cut is consumed by the answer that reaches it).
    """

    def __init__(
        self,
        data: bytes,
        *,
        etag: str | None = "md5",
        cuts: list[int] | None = None,
        ignore_range: bool = False,
        headers: dict[str, str] | None = None,
        chunk: int = 4096,
    ) -> None:
        self.data = data
        self.etag = md5_etag(data) if etag == "md5" else etag
        self.cuts = sorted(cuts or [])
        self.ignore_range = ignore_range
        self.headers = headers or {}
        self.chunk = chunk
        self.requests: list[httpx.Request] = []
        self.bodies: list[Body] = []
        # Answers that replace the normal one, by request number (1 = the first request).
        self.overrides: dict[int, Callable[[], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        override = self.overrides.pop(len(self.requests), None)
        if override is not None:
            return override()
        size = len(self.data)
        start, status = 0, 200
        ranged = request.headers.get("range")
        if ranged and not self.ignore_range:
            if_range = request.headers.get("if-range")
            if if_range is None or if_range == self.etag:
                start, status = int(ranged.removeprefix("bytes=").rstrip("-")), 206
        headers = {"Content-Length": str(size - start), **self.headers}
        if self.etag is not None:
            headers["ETag"] = self.etag
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        cut = next((c - start for c in self.cuts if c > start), None)
        if cut is not None:
            self.cuts.remove(cut + start)
        body = Body(self.data[start:], cut=cut, chunk=self.chunk)
        self.bodies.append(body)
        return httpx.Response(status, headers=headers, stream=body)


@pytest.fixture
def token() -> str:
    return f"t-{uuid.uuid4()}"


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """No real backoff sleeps; records the attempt number of each one."""
    calls: list[int] = []

    def fake(attempt: int) -> float:
        calls.append(attempt)
        return 0.0

    monkeypatch.setattr(_download, "backoff_delay", fake)
    return calls


@pytest.fixture
def router(backoffs: list[int]) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest_asyncio.fixture
async def client(token: str, router: respx.MockRouter) -> AsyncIterator[AsyncActivityClient]:
    async with AsyncActivityClient(
        token=token, base_url=API, status_url=STATUS_URL, rate_limit=(1000, 1.0)
    ) as c:
        yield c


@pytest.fixture
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """``wait()`` with its default 1 s first interval, without sleeping for it."""

    async def no_sleep(seconds: float) -> None:
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(_exports, "_sleep", no_sleep)


def serve(router: respx.MockRouter, host: FileHost) -> respx.Route:
    return router.get(url__startswith=FILE_HOST).mock(side_effect=host)


def status_route(router: respx.MockRouter, *answers: httpx.Response) -> respx.Route:
    return router.get(STATUS_URL).mock(side_effect=list(answers))


def complete_job(client: AsyncActivityClient, url: str = FILE_URL) -> ExportJob:
    job = client.export_job("<report_token>")
    job.status, job.url = "complete", url
    return job


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


# -- the basic download ---------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.usefixtures("quick_polls")
async def test_download_waits_writes_and_returns_the_path(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = b"Case ID,Subject\n1,hello\n" * 5000
    host = FileHost(data)
    serve(router, host)
    status = status_route(router, pending(), complete())
    job = client.export_job("<report_token>")

    path = await job.download(str(tmp_path / "cases.csv"))

    assert path == tmp_path / "cases.csv"
    assert isinstance(path, Path)
    assert path.read_bytes() == data
    assert listing(tmp_path) == ["cases.csv"]
    assert status.call_count == 2
    assert job.status == "complete"
    assert len(host.requests) == 1


@pytest.mark.asyncio
async def test_new_file_gets_ordinary_permissions(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    serve(router, FileHost(b"a,b\n1,2\n"))
    path = await complete_job(client).download(tmp_path / "x.csv", fsync=True)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# -- no credentials to the file host --------------------------------------------------------


@pytest.mark.asyncio
async def test_api_token_goes_to_the_api_and_never_to_the_file_host(
    client: AsyncActivityClient, router: respx.MockRouter, token: str, tmp_path: Path
) -> None:
    start = router.post(f"{API}/v1/activity/reports").mock(
        return_value=httpx.Response(
            200, text='{ "status": "pending", "url": null, "token": "<report_token>" }'
        )
    )
    status = status_route(router, pending(), complete())
    host = FileHost(b"a,b\n" * 1000, cuts=[1500])
    serve(router, host)

    await client.export_to_file(
        "case_details", tmp_path / "c.csv", "2019-06-15", "2019-06-30", poll_interval=0.01
    )

    assert start.call_count == 1
    assert start.calls[0].request.headers["auth-api-token"] == token
    for call in status.calls:
        assert call.request.headers["auth-api-token"] == token
        assert call.request.url.params["token"] == "<report_token>"
    assert len(host.requests) == 2  # the first body was cut, the second resumed it
    for request in host.requests:
        assert set(request.headers.keys()) <= FILE_REQUEST_HEADERS, request.headers
        assert token not in str(request.url)
        assert all(token not in value for value in request.headers.values())
    assert host.requests[1].headers["range"] == "bytes=1500-"


@pytest.mark.asyncio
@pytest.mark.usefixtures("quick_polls")
async def test_injected_client_defaults_do_not_reach_the_file_host(
    router: respx.MockRouter, token: str, tmp_path: Path
) -> None:
    http = httpx.AsyncClient(
        headers={"X-Internal-Secret": "hunter2", "Authorization": "Bearer corp-sso"},
        auth=("proxyuser", "proxypass"),
        cookies={"session": "cookie-secret"},
        follow_redirects=True,
    )
    status = status_route(router, complete())
    host = FileHost(b"a,b\n1,2\n")
    serve(router, host)
    async with http, AsyncActivityClient(
        token=token, base_url=API, status_url=STATUS_URL, http_client=http
    ) as client:
        await client.export_job("<report_token>").download(tmp_path / "c.csv")

    api_request = status.calls[0].request
    assert api_request.headers["auth-api-token"] == token
    assert api_request.headers["x-internal-secret"] == "hunter2"  # the API gets them
    (file_request,) = host.requests
    assert set(file_request.headers.keys()) <= FILE_REQUEST_HEADERS, file_request.headers
    assert (tmp_path / "c.csv").read_bytes() == b"a,b\n1,2\n"


@pytest.mark.asyncio
async def test_a_redirect_is_not_followed(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    host = FileHost(b"a\n")
    host.overrides[1] = lambda: httpx.Response(
        302, headers={"Location": "https://elsewhere.test/f"}
    )
    serve(router, host)
    elsewhere = router.get(url__startswith="https://elsewhere.test").mock(
        return_value=httpx.Response(200, text="x")
    )
    with pytest.raises(DownloadError, match=r"302 .*redirects are not followed"):
        await complete_job(client).download(tmp_path / "c.csv")
    assert elsewhere.call_count == 0
    assert listing(tmp_path) == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://files.lexer.test/a.csv", "//files.lexer.test/a"]
)
async def test_only_http_urls_are_downloaded(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path, url: str
) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(200, text="x"))
    job = complete_job(client, url)
    with pytest.raises(DownloadError, match="only http and https"):
        await job.download(tmp_path / "c.csv")
    with pytest.raises(DownloadError, match="only http and https"):
        await collect(job.iter_bytes())
    assert catch_all.call_count == 0
    assert listing(tmp_path) == []


# -- resume ---------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("seed", range(12))
async def test_body_cut_at_random_offsets_resumes_to_identical_bytes(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(rng.randrange(50_000, 300_000))
    cuts = rng.sample(range(1, len(data)), rng.randrange(1, 6))
    host = FileHost(data, cuts=cuts, chunk=rng.choice([1000, 4096, 65536]))
    serve(router, host)

    path = await complete_job(client).download(tmp_path / "c.csv")

    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert len(host.requests) == len(cuts) + 1
    assert "range" not in host.requests[0].headers
    for request, offset in zip(host.requests[1:], sorted(cuts), strict=True):
        assert request.headers["range"] == f"bytes={offset}-"
        assert request.headers["if-range"] == host.etag
    assert all(body.closed for body in host.bodies)


@pytest.mark.asyncio
@pytest.mark.parametrize("seed", range(6))
async def test_iter_bytes_resumes_and_never_repeats_a_byte(
    client: AsyncActivityClient, router: respx.MockRouter, seed: int
) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(100_000)
    cuts = rng.sample(range(1, len(data)), 4)
    host = FileHost(data, cuts=cuts)
    serve(router, host)

    got = await collect(complete_job(client).iter_bytes())

    assert got == data
    assert len(host.requests) == 5


@pytest.mark.asyncio
async def test_no_if_range_without_a_strong_etag(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = os.urandom(20_000)
    host = FileHost(data, etag='W/"weak"', cuts=[7000])
    serve(router, host)
    await complete_job(client).download(tmp_path / "c.csv")
    assert host.requests[1].headers["range"] == "bytes=7000-"
    assert "if-range" not in host.requests[1].headers
    assert (tmp_path / "c.csv").read_bytes() == data


@pytest.mark.asyncio
async def test_server_ignoring_range_restarts_the_file_from_zero(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = os.urandom(50_000)
    host = FileHost(data, cuts=[20_000, 30_000], ignore_range=True)
    serve(router, host)
    progress: list[tuple[int, int | None]] = []

    path = await complete_job(client).download(
        tmp_path / "c.csv", progress=lambda done, total: progress.append((done, total))
    )

    assert path.read_bytes() == data
    assert [r.headers.get("range") for r in host.requests] == [
        None, "bytes=20000-", "bytes=30000-",
    ]
    # bytes_done starts over with each restart; the total is the full file every time.
    assert {total for _, total in progress} == {50_000}
    assert progress[-1] == (50_000, 50_000)


@pytest.mark.asyncio
async def test_iter_bytes_after_a_restart_yields_no_byte_twice(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    data = bytes(range(256)) * 400
    host = FileHost(data, cuts=[10_000, 25_000], ignore_range=True, chunk=3000)
    serve(router, host)

    chunks = [chunk async for chunk in complete_job(client).iter_bytes()]

    assert b"".join(chunks) == data
    assert len(host.requests) == 3


@pytest.mark.asyncio
async def test_a_changed_file_restarts_a_download(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    old, new = os.urandom(30_000), os.urandom(40_000)
    host = FileHost(old, cuts=[12_000])
    serve(router, host)
    job = complete_job(client)

    def swap(done: int, total: int | None) -> None:
        if done >= 12_000:  # the file changes on the server after the cut
            host.data, host.etag = new, md5_etag(new)

    path = await job.download(tmp_path / "c.csv", progress=swap)

    assert path.read_bytes() == new  # If-Range no longer matched: a 200 with the new file
    assert host.requests[1].headers["if-range"] == md5_etag(old)


@pytest.mark.asyncio
async def test_a_changed_file_stops_an_iterator(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    old, new = os.urandom(30_000), os.urandom(40_000)
    host = FileHost(old, cuts=[12_000])
    serve(router, host)
    got = bytearray()

    async def read() -> None:
        async for chunk in complete_job(client).iter_bytes():
            got.extend(chunk)
            host.data, host.etag = new, md5_etag(new)

    with pytest.raises(DownloadError, match="file changed"):
        await read()
    assert bytes(got) == old[:12_000]


def wrong_range() -> httpx.Response:
    # Claims to be the start of the file where the rest was asked for.
    return httpx.Response(
        206, headers={"Content-Range": "bytes 0-19999/30000"}, content=b"EVIL" * 5000
    )


@pytest.mark.asyncio
async def test_a_206_with_the_wrong_content_range_is_never_written(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = os.urandom(30_000)
    host = FileHost(data, cuts=[10_000])
    host.overrides[2] = wrong_range  # the first resume gets the wrong range
    serve(router, host)

    path = await complete_job(client).download(tmp_path / "c.csv")

    assert path.read_bytes() == data
    assert [r.headers.get("range") for r in host.requests] == [
        None, "bytes=10000-", "bytes=10000-",
    ]


@pytest.mark.asyncio
async def test_iter_bytes_skips_a_206_with_the_wrong_content_range(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    data = os.urandom(30_000)
    host = FileHost(data, cuts=[10_000])
    host.overrides[2] = wrong_range
    serve(router, host)
    assert await collect(complete_job(client).iter_bytes()) == data


@pytest.mark.asyncio
async def test_a_206_of_a_different_file_is_refused(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = os.urandom(30_000)
    host = FileHost(data, cuts=[10_000])
    host.overrides[2] = lambda: httpx.Response(  # a server that ignores If-Range
        206,
        headers={"Content-Range": "bytes 10000-29999/30000", "ETag": '"another-version"'},
        content=b"Z" * 20_000,
    )
    serve(router, host)
    with pytest.raises(DownloadError, match="file changed on the server"):
        await complete_job(client).download(tmp_path / "c.csv")
    assert listing(tmp_path) == []


@pytest.mark.asyncio
async def test_a_206_that_never_matches_gives_up_after_max_retries(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path, backoffs: list[int]
) -> None:
    data = os.urandom(30_000)
    host = FileHost(data, cuts=[10_000])
    host.overrides.update(dict.fromkeys(range(2, 10), wrong_range))
    serve(router, host)
    (tmp_path / "c.csv").write_bytes(b"old contents")

    with pytest.raises(DownloadError) as info:
        await complete_job(client).download(tmp_path / "c.csv")

    message = str(info.value)
    assert "3 attempts in a row without progress" in message
    assert "10000 of 30000 bytes received" in message
    assert "a 206 answer for 'bytes 0-19999/30000'" in message
    assert "expected 'bytes 10000-29999/30000'" in message
    assert len(host.requests) == 4  # 1 + max_retries (2) + the one that exceeded it
    assert backoffs == [0, 0, 1]  # after the cut (progress), then after each stall
    assert listing(tmp_path) == ["c.csv"]
    assert (tmp_path / "c.csv").read_bytes() == b"old contents"


@pytest.mark.asyncio
async def test_connection_failures_without_progress_count_toward_max_retries(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path, backoffs: list[int]
) -> None:
    route = router.get(url__startswith=FILE_HOST).mock(
        side_effect=httpx.ConnectError("connection refused")
    )
    with pytest.raises(DownloadError, match=r"3 attempts .* last error: ConnectError"):
        await complete_job(client).download(tmp_path / "c.csv")
    assert route.call_count == 3
    assert backoffs == [0, 1]
    assert listing(tmp_path) == []


@pytest.mark.asyncio
async def test_5xx_from_the_file_host_is_retried(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    host = FileHost(b"a,b\n1,2\n")
    host.overrides[1] = lambda: httpx.Response(503, text="Slow Down")
    host.overrides[2] = lambda: httpx.Response(500)
    serve(router, host)
    path = await complete_job(client).download(tmp_path / "c.csv")
    assert path.read_bytes() == b"a,b\n1,2\n"
    assert len(host.requests) == 3


@pytest.mark.asyncio
async def test_404_from_the_file_host_fails_at_once_without_the_signature(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    host = FileHost(b"x")
    host.overrides[1] = lambda: httpx.Response(404, text="<Error><Code>NoSuchKey</Code></Error>")
    serve(router, host)
    with pytest.raises(DownloadError, match="404") as info:
        await complete_job(client).download(tmp_path / "c.csv")
    assert "s1gnature" not in str(info.value)  # the pre-signed query is a credential
    assert "files.lexer.test/activity_abc123" in str(info.value)
    assert len(host.requests) == 1


class AllThenDrop(httpx.AsyncByteStream):
    """The whole body, then a dropped connection: only the end of the exchange is lost."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data
        raise httpx.ReadError("connection reset by peer")


@pytest.mark.asyncio
async def test_a_drop_after_the_last_byte_needs_no_resume(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = b"a,b\n1,2\n"
    host = FileHost(data)
    host.overrides[1] = lambda: httpx.Response(
        200, headers={"Content-Length": str(len(data)), "ETag": md5_etag(data)},
        stream=AllThenDrop(data),
    )
    serve(router, host)
    assert (await complete_job(client).download(tmp_path / "c.csv")).read_bytes() == data
    assert len(host.requests) == 1


@pytest.mark.asyncio
async def test_a_206_for_the_whole_file_is_accepted_on_the_first_request(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = b"a,b\n1,2\n"
    host = FileHost(data)
    host.overrides[1] = lambda: httpx.Response(
        206, headers={"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}, content=data
    )
    serve(router, host)
    assert (await complete_job(client).download(tmp_path / "c.csv")).read_bytes() == data


@pytest.mark.asyncio
async def test_an_empty_file(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    serve(router, FileHost(b""))
    assert (await complete_job(client).download(tmp_path / "c.csv")).read_bytes() == b""
    assert [row async for row in complete_job(client).iter_rows()] == []


# -- verification ---------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(("declared", "sent"), [(1000, 900), (1000, 1100)])
async def test_content_length_mismatch_is_a_download_error(
    client: AsyncActivityClient,
    router: respx.MockRouter,
    tmp_path: Path,
    declared: int,
    sent: int,
) -> None:
    host = FileHost(b"", etag=None)
    host.overrides[1] = lambda: httpx.Response(
        200, headers={"Content-Length": str(declared)}, stream=Body(b"x" * sent)
    )
    serve(router, host)
    with pytest.raises(DownloadError, match=str(declared)):
        await complete_job(client).download(tmp_path / "c.csv")
    assert listing(tmp_path) == []


@pytest.mark.asyncio
async def test_etag_md5_mismatch_is_a_download_error_and_keeps_the_old_file(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = b"a,b\n1,2\n"
    serve(router, FileHost(data, etag=md5_etag(b"something else")))
    (tmp_path / "c.csv").write_bytes(b"previous export")
    with pytest.raises(DownloadError, match="do not match the file's ETag"):
        await complete_job(client).download(tmp_path / "c.csv")
    assert listing(tmp_path) == ["c.csv"]
    assert (tmp_path / "c.csv").read_bytes() == b"previous export"


@pytest.mark.asyncio
async def test_etag_mismatch_also_fails_iter_bytes_at_the_end(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    serve(router, FileHost(b"a,b\n1,2\n", etag=md5_etag(b"other")))
    with pytest.raises(DownloadError, match="ETag"):
        await collect(complete_job(client).iter_bytes())


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "etag",
    [
        '"9b2cf535f27731c974343645a3985328-12"',  # multipart: not an MD5 of the bytes
        'W/"9b2cf535f27731c974343645a3985328"',  # weak
        '"not-an-md5"',
        None,
    ],
)
async def test_etags_that_are_not_an_md5_are_not_checked(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path, etag: str | None
) -> None:
    serve(router, FileHost(b"a,b\n1,2\n", etag=etag))
    path = await complete_job(client).download(tmp_path / "c.csv")
    assert path.read_bytes() == b"a,b\n1,2\n"


@pytest.mark.asyncio
async def test_unquoted_uppercase_md5_etag_is_checked(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = b"a,b\n1,2\n"
    serve(router, FileHost(data, etag=hashlib.md5(data).hexdigest().upper()))
    assert (await complete_job(client).download(tmp_path / "c.csv")).read_bytes() == data
    serve(router, FileHost(data, etag=hashlib.md5(b"x").hexdigest().upper()))
    with pytest.raises(DownloadError, match="ETag"):
        await complete_job(client).download(tmp_path / "c.csv")


def md5_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lexer-activity-md5"]


@pytest.mark.asyncio
async def test_large_files_are_hashed_in_a_thread_across_resumes_and_restarts(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = random.Random(7).randbytes(5 * 1024 * 1024 + 123)  # several hash batches
    host = FileHost(data, cuts=[1_500_000, 3_000_000], chunk=65536)
    serve(router, host)
    path = await complete_job(client).download(tmp_path / "c.csv")
    assert path.read_bytes() == data

    restarting = FileHost(data, cuts=[2_500_000], ignore_range=True, chunk=65536)
    serve(router, restarting)
    assert await collect(complete_job(client).iter_bytes()) == data

    wrong = FileHost(data, etag=md5_etag(data[:-1]), chunk=65536)
    serve(router, wrong)
    with pytest.raises(DownloadError, match="ETag"):
        await complete_job(client).download(tmp_path / "d.csv")
    assert md5_threads() == []


@pytest.mark.asyncio
async def test_abandoning_a_large_stream_stops_its_hashing_thread(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    serve(router, FileHost(os.urandom(4 * 1024 * 1024), chunk=65536))
    seen = 0
    async with complete_job(client).iter_bytes() as chunks:
        async for chunk in chunks:
            seen += len(chunk)
            if seen > 2 * 1024 * 1024:
                assert len(md5_threads()) == 1
                break
    assert md5_threads() == []


# -- gzip -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_gzip_body_is_decoded_and_counted_raw(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    csv_text = "".join(f"{i},row {i},\"quoted, text\"\n" for i in range(20_000)).encode()
    raw = gzip.compress(csv_text)
    host = FileHost(raw, headers={"Content-Encoding": "gzip"}, cuts=[len(raw) // 3])
    serve(router, host)
    progress: list[tuple[int, int | None]] = []

    path = await complete_job(client).download(
        tmp_path / "c.csv", progress=lambda d, t: progress.append((d, t))
    )

    assert path.read_bytes() == csv_text
    assert host.requests[0].headers["accept-encoding"] == "gzip"
    assert host.requests[1].headers["range"] == f"bytes={len(raw) // 3}-"  # raw offsets
    assert progress[-1] == (len(raw), len(raw))


@pytest.mark.asyncio
async def test_gzip_iter_bytes_after_a_restart_and_multiple_members(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    part1, part2 = b"a,b\n" + b"1,2\n" * 30_000, b"3,4\n" * 30_000
    raw = gzip.compress(part1) + gzip.compress(part2)
    host = FileHost(
        raw, headers={"Content-Encoding": "gzip"}, cuts=[len(raw) // 2], ignore_range=True
    )
    serve(router, host)
    assert await collect(complete_job(client).iter_bytes()) == part1 + part2


@pytest.mark.asyncio
async def test_truncated_or_corrupt_gzip_is_a_download_error(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    raw = gzip.compress(b"a,b\n" * 10_000)
    serve(router, FileHost(raw[:-20], etag=None, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(DownloadError, match="gzip-encoded body ended"):
        await complete_job(client).download(tmp_path / "c.csv")
    serve(router, FileHost(raw[:20] + b"\xff" * 200, etag=None,
                           headers={"Content-Encoding": "gzip"}))
    with pytest.raises(DownloadError, match="corrupt"):
        await complete_job(client).download(tmp_path / "c.csv")
    assert listing(tmp_path) == []


@pytest.mark.asyncio
async def test_unrequested_content_encoding_is_refused(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    serve(router, FileHost(b"xx", headers={"Content-Encoding": "br"}))
    with pytest.raises(DownloadError, match="'br'; only gzip"):
        await complete_job(client).download(tmp_path / "c.csv")


# -- 403: an expired pre-signed URL ---------------------------------------------------------


@pytest.mark.asyncio
async def test_403_on_the_first_request_polls_once_for_a_fresh_url(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = os.urandom(10_000)
    host = FileHost(data)
    host.overrides[1] = lambda: httpx.Response(403, text="<Code>AccessDenied</Code>")
    serve(router, host)
    status = status_route(router, complete(FRESH_URL))

    path = await complete_job(client).download(tmp_path / "c.csv")

    assert path.read_bytes() == data
    assert status.call_count == 1
    assert [str(r.url) for r in host.requests] == [FILE_URL, FRESH_URL]


@pytest.mark.asyncio
async def test_403_mid_download_polls_once_and_resumes_from_the_fresh_url(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = os.urandom(40_000)
    host = FileHost(data, cuts=[16_000])
    host.overrides[2] = lambda: httpx.Response(403, text="Request has expired")
    serve(router, host)
    status = status_route(router, complete(FRESH_URL))

    path = await complete_job(client).download(tmp_path / "c.csv")

    assert path.read_bytes() == data
    urls = [(str(r.url), r.headers.get("range")) for r in host.requests]
    assert urls == [(FILE_URL, None), (FILE_URL, "bytes=16000-"), (FRESH_URL, "bytes=16000-")]
    assert status.call_count == 1


@pytest.mark.asyncio
async def test_a_second_403_is_a_clear_download_error(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    route = router.get(url__startswith=FILE_HOST).mock(
        return_value=httpx.Response(403, text="AccessDenied")
    )
    status = status_route(router, complete(FRESH_URL))
    with pytest.raises(DownloadError, match=r"refused \(403\); it may have expired"):
        await complete_job(client).download(tmp_path / "c.csv")
    assert route.call_count == 2
    assert status.call_count == 1
    assert listing(tmp_path) == []


@pytest.mark.asyncio
async def test_403_and_the_job_is_no_longer_complete(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    router.get(url__startswith=FILE_HOST).mock(return_value=httpx.Response(403))
    status_route(router, pending())
    with pytest.raises(DownloadError, match=r"403.*status 'pending'"):
        await complete_job(client).download(tmp_path / "c.csv")


# -- atomicity and cancellation -------------------------------------------------------------


class Hanging:
    """A file host whose body stops after ``first`` bytes until the test ends."""

    def __init__(self, data: bytes, first: int) -> None:
        self.release = anyio.Event()
        self.data = data
        self.first = first
        self.body: Body | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.body = Body(self.data, cut=self.first, hang=self.release)
        return httpx.Response(200, headers={"Content-Length": str(len(self.data))},
                              stream=self.body)


@pytest.mark.asyncio
async def test_cancel_scope_mid_download_leaves_no_temp_file_and_the_old_file(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    host = Hanging(os.urandom(100_000), first=40_000)
    router.get(url__startswith=FILE_HOST).mock(side_effect=host)
    (tmp_path / "c.csv").write_bytes(b"yesterday's export")
    seen: list[int] = []
    temp_files: list[str] = []

    with anyio.CancelScope() as scope:

        def progress(done: int, total: int | None) -> None:
            seen.append(done)
            if done >= 40_000:
                temp_files.extend(n for n in listing(tmp_path) if n.endswith(".part"))
                scope.cancel()

        await complete_job(client).download(tmp_path / "c.csv", progress=progress)

    assert scope.cancelled_caught
    assert temp_files  # it existed, hidden, beside the destination
    assert temp_files[0].startswith(".c.csv.")
    assert listing(tmp_path) == ["c.csv"]
    assert (tmp_path / "c.csv").read_bytes() == b"yesterday's export"
    assert host.body is not None
    assert host.body.closed
    host.release.set()


@pytest.mark.asyncio
async def test_task_cancel_mid_download_leaves_no_temp_file(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    host = Hanging(os.urandom(100_000), first=40_000)
    router.get(url__startswith=FILE_HOST).mock(side_effect=host)
    (tmp_path / "c.csv").write_bytes(b"old")
    reached = asyncio.Event()

    def progress(done: int, total: int | None) -> None:
        if done >= 40_000:
            reached.set()

    task = asyncio.create_task(
        complete_job(client).download(tmp_path / "c.csv", progress=progress)
    )
    await asyncio.wait_for(reached.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert listing(tmp_path) == ["c.csv"]
    assert (tmp_path / "c.csv").read_bytes() == b"old"
    assert host.body is not None
    assert host.body.closed
    host.release.set()


@pytest.mark.asyncio
async def test_an_exception_in_progress_aborts_cleanly(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    serve(router, FileHost(os.urandom(50_000)))

    def progress(done: int, total: int | None) -> None:
        if done > 10_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await complete_job(client).download(tmp_path / "c.csv", progress=progress)
    assert listing(tmp_path) == []


# -- progress -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_progress_reports_raw_bytes_per_chunk_with_the_total(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    serve(router, FileHost(b"x" * 10_000, chunk=4096, cuts=[5000]))
    calls: list[tuple[int, int | None]] = []
    await complete_job(client).download(tmp_path / "c.csv", progress=lambda *a: calls.append(a))
    assert calls == [(4096, 10_000), (5000, 10_000), (9096, 10_000), (10_000, 10_000)]


@pytest.mark.asyncio
async def test_progress_total_is_none_without_content_length(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    host = FileHost(b"", etag=None)

    async def chunked() -> AsyncIterator[bytes]:
        yield b"a,b\n"
        yield b"1,2\n"

    host.overrides[1] = lambda: httpx.Response(200, content=chunked())
    serve(router, host)
    calls: list[tuple[int, int | None]] = []
    path = await complete_job(client).download(
        tmp_path / "c.csv", progress=lambda *a: calls.append(a)
    )
    assert path.read_bytes() == b"a,b\n1,2\n"
    assert calls == [(4, None), (8, None)]


# -- bad arguments: nothing is sent ---------------------------------------------------------


@pytest.mark.asyncio
async def test_bad_paths_raise_before_any_request(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    job = client.export_job("<report_token>")  # pending: a download would have to poll

    with pytest.raises(FileNotFoundError, match=r"directory .*missing.* does not exist"):
        await job.download(tmp_path / "missing" / "c.csv")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        await job.download(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a directory"):
        await job.download(tmp_path / "file" / "c.csv")
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike, not int"):
        await job.download(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not bytes"):
        await job.download(os.fsencode(tmp_path / "c.csv"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must not be empty"):
        await job.download("")
    with pytest.raises(TypeError, match="progress must be callable"):
        await job.download(tmp_path / "c.csv", progress=3)  # type: ignore[arg-type]

    async def async_progress(done: int, total: int | None) -> None:
        pass

    with pytest.raises(TypeError, match="progress must be a plain function"):
        await job.download(tmp_path / "c.csv", progress=async_progress)
    with pytest.raises(FileNotFoundError):
        await client.export_to_file(
            "case_details", tmp_path / "missing" / "c.csv", "2019-06-15", "2019-06-30"
        )
    with pytest.raises(TypeError, match="progress must be a plain function"):
        await client.export_to_file(
            "case_details", tmp_path / "c.csv", "2019-06-15", "2019-06-30",
            progress=async_progress,
        )
    with pytest.raises(TypeError, match="fsync must be a bool"):
        await job.download(tmp_path / "c.csv", fsync="yes")  # type: ignore[arg-type]
    assert catch_all.call_count == 0
    assert listing(tmp_path) == ["file"]


# -- streams close their connection ---------------------------------------------------------


class LoopbackFileServer:
    """A real HTTP/1.1 server on 127.0.0.1 that serves one large CSV at any path."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/activity_abc.csv"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n"
                writer.write(head % len(self.body))
                writer.write(self.body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


BIG_CSV = b"id,text\n" + b"".join(b'%d,"row, number %d"\n' % (i, i) for i in range(300_000))


@contextlib.asynccontextmanager
async def one_connection_client(
    token: str, router: respx.MockRouter
) -> AsyncIterator[tuple[AsyncActivityClient, httpx.AsyncClient, str]]:
    router.route(host="127.0.0.1").pass_through()
    http = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=1), timeout=httpx.Timeout(10.0, pool=0.5)
    )
    async with LoopbackFileServer(BIG_CSV) as url, http, AsyncActivityClient(
        token=token, base_url=API, status_url=STATUS_URL, http_client=http
    ) as client:
        yield client, http, url


@pytest.mark.asyncio
async def test_break_out_of_iter_rows_releases_the_only_connection(
    router: respx.MockRouter, token: str
) -> None:
    async with one_connection_client(token, router) as (client, http, url):
        job = complete_job(client, url)
        async for row in job.iter_rows():
            assert row == {"id": "0", "text": "row, number 0"}
            break
        # With one connection and a 0.5 s pool timeout, this fails unless the break closed
        # the abandoned stream.
        response = await http.get(url)
        assert response.content == BIG_CSV


@pytest.mark.asyncio
async def test_an_open_iterator_holds_the_connection_until_closed(
    router: respx.MockRouter, token: str
) -> None:
    # The control for the test above: the pool timeout does catch a leaked stream.
    async with one_connection_client(token, router) as (client, http, url):
        rows = complete_job(client, url).iter_rows()
        assert (await rows.__anext__())["id"] == "0"
        with pytest.raises(httpx.PoolTimeout):
            await http.get(url)
        await rows.aclose()
        assert (await http.get(url)).status_code == 200


@pytest.mark.asyncio
async def test_async_with_closes_iter_rows_and_iter_bytes(
    router: respx.MockRouter, token: str
) -> None:
    async with one_connection_client(token, router) as (client, http, url):
        job = complete_job(client, url)
        async with job.iter_rows() as rows:
            async for row in rows:
                assert row["id"] == "0"
                break
        assert (await http.get(url)).status_code == 200
        async with job.iter_bytes() as chunks:
            async for chunk in chunks:
                assert BIG_CSV.startswith(chunk)
                break
        assert (await http.get(url)).status_code == 200


@pytest.mark.asyncio
async def test_cancelling_an_iterator_releases_the_connection(
    router: respx.MockRouter, token: str
) -> None:
    async with one_connection_client(token, router) as (client, http, url):
        job = complete_job(client, url)
        with anyio.CancelScope() as scope:
            async with job.iter_rows() as rows:
                async for _ in rows:
                    scope.cancel()
                    await anyio.sleep(1)  # cancelled here, inside the block
        assert scope.cancelled_caught
        assert (await http.get(url)).status_code == 200


@pytest.mark.asyncio
async def test_iter_rows_reads_the_whole_file(router: respx.MockRouter, token: str) -> None:
    async with one_connection_client(token, router) as (client, _, url):
        count = 0
        async with complete_job(client, url).iter_rows() as rows:
            async for row in rows:
                assert row["text"] == f"row, number {count}"
                count += 1
        assert count == 300_000


def test_redact_url_drops_query_and_user_info() -> None:
    assert _download.redact_url("https://u:p@h.test:8443/a/b?X-Amz-Signature=s#f") == (
        "https://h.test:8443/a/b"
    )


def test_check_download_url_messages() -> None:
    with pytest.raises(DownloadError, match="refusing to download: there is no download url"):
        _download.check_download_url(None)
    with pytest.raises(DownloadError, match="scheme 'file'"):
        _download.check_download_url("file:///etc/passwd")
    assert _download.check_download_url(FILE_URL) == FILE_URL


def test_fixture_helpers_are_sane() -> None:
    # The FileHost honours Range and cuts as the tests assume.
    host = FileHost(b"0123456789", cuts=[4])
    answer: Any = host(httpx.Request("GET", FILE_URL, headers={"Range": "bytes=2-"}))
    assert answer.status_code == 206
    assert answer.headers["content-range"] == "bytes 2-9/10"
    assert json.dumps(sorted(host.cuts)) == "[]"



def test_temp_name_fits_a_long_multibyte_destination(tmp_path: Path) -> None:
    dest = tmp_path / ("\N{GRINNING FACE}" * 62 + ".csv")  # 252 bytes: a legal name
    temp, handle = _download._open_temp(dest)
    handle.close()
    assert len(temp.name.encode()) <= 255
    assert temp.parent == tmp_path
    temp.unlink()
