"""File-host misbehaviours that the sandbox cannot produce, built with respx: a body that
does not match its ETag, more bytes than Content-Length announced, a redirect to another
host, an encoding nobody asked for, a corrupt gzip body, a body with no length at all.

Every request respx answers is recorded for the token-hygiene test: the API token must reach
the API hosts and nothing else.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import respx

from lexer_activity import AsyncActivityClient, DownloadError

from ._support import (
    FILE_OPS,
    MAX_RETRIES,
    TOKEN,
    Op,
    Source,
    assert_old_file_intact,
    assert_same_as_source,
    csv_rows,
    new_http_client,
    note_respx_request,
    raises,
    run_file,
    sha256,
)

API = "https://api.lexer.test"
STATUS_URL = "https://clients.lexer.test/api/public/v1/activity/reports/status"
FILE_URL = "https://files.lexer.test/activity_x.csv?X-Amz-Signature=s1gned"
DATA = (
    "Case ID,Subject,Message\r\n"
    + "".join(f'{i},"Subject {i}","line one, with a comma\r\nline two ✓ {i}"\r\n' for i in range(3000))
).encode()
SOURCE = Source("job-token-x", DATA, sha256(DATA), csv_rows(DATA))


class Chunks(httpx.AsyncByteStream):
    """A body sent in pieces, with whatever headers the case chose (even wrong ones)."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


Answer = Callable[[httpx.Request, int], httpx.Response]


def whole(headers: dict[str, str] | None = None, body: bytes = DATA) -> Answer:
    def answer(request: httpx.Request, attempt: int) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(len(body)), **(headers or {})},
                              content=body)

    return answer


@dataclass(frozen=True)
class Case:
    label: str
    answers: list[Answer]  # one per request to the file host; the last repeats
    error: type[Exception] | None
    requests: int

    def __str__(self) -> str:
        return self.label


_GZ = gzip.compress(DATA, mtime=0)
CASES = [
    Case("clean-with-md5-etag", [whole({"ETag": md5_etag(DATA)})], None, 1),
    Case("no-content-length-no-etag",
         [lambda r, n: httpx.Response(200, stream=Chunks(DATA[:5000], DATA[5000:]))], None, 1),
    Case("etag-md5-mismatch", [whole({"ETag": md5_etag(b"other bytes")})], DownloadError, 1),
    Case("more-bytes-than-content-length",
         [lambda r, n: httpx.Response(200, headers={"Content-Length": "100"},
                                      stream=Chunks(DATA[:5000], DATA[5000:]))],
         DownloadError, 1),
    Case("redirect-to-another-host",
         [lambda r, n: httpx.Response(302, headers={"Location": "https://evil.test/x.csv"})],
         DownloadError, 1),
    Case("content-encoding-br", [whole({"Content-Encoding": "br"})], DownloadError, 1),
    Case("gzip-encoded", [whole({"Content-Encoding": "gzip", "ETag": md5_etag(_GZ)}, _GZ)], None, 1),
    Case("gzip-truncated", [whole({"Content-Encoding": "gzip"}, _GZ[: len(_GZ) // 2])],
         DownloadError, 1),
    Case("404-no-such-key", [lambda r, n: httpx.Response(404, text="<Error>NoSuchKey</Error>")],
         DownloadError, 1),
    Case("503-then-clean", [lambda r, n: httpx.Response(503), whole()], None, 2),
    Case("503-forever", [lambda r, n: httpx.Response(503)], DownloadError, MAX_RETRIES + 1),
]


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.mark.matrix
@pytest.mark.parametrize("op", FILE_OPS, ids=str)
@pytest.mark.parametrize("fault", CASES, ids=str)
async def test_file_host_answer(
    op: Op, fault: Case, router: respx.MockRouter, directory: Path
) -> None:
    file_requests: list[httpx.Request] = []

    def status(request: httpx.Request) -> httpx.Response:
        note_respx_request(request)
        assert request.headers["auth-api-token"] == TOKEN
        return httpx.Response(200, json={"status": "complete", "url": FILE_URL, "token": "x"})

    def file_host(request: httpx.Request) -> httpx.Response:
        note_respx_request(request)
        file_requests.append(request)
        answer = fault.answers[min(len(file_requests), len(fault.answers)) - 1]
        return answer(request, len(file_requests))

    router.get(STATUS_URL).mock(side_effect=status)
    router.get(url__startswith="https://files.lexer.test/").mock(side_effect=file_host)
    others = router.route().mock(side_effect=lambda request: (
        note_respx_request(request), httpx.Response(599))[1])

    async with new_http_client() as http:
        client = AsyncActivityClient(
            token=TOKEN, base_url=API, status_url=STATUS_URL, http_client=http,
            max_retries=MAX_RETRIES,
        )
        if fault.error is None:
            result = await run_file(op, client, SOURCE, directory)
            assert_same_as_source(op, result, SOURCE, directory, f"respx-{fault}/{op}")
        else:
            with raises(fault.error):
                await run_file(op, client, SOURCE, directory)
            assert_old_file_intact(op, directory)
    assert len(file_requests) == fault.requests
    assert others.call_count == 0  # the redirect was not followed
    for request in file_requests:
        assert "auth-api-token" not in request.headers
        assert set(request.headers) <= {"host", "accept-encoding", "range", "if-range"}


