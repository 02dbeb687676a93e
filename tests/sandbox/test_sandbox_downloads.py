"""The download route as an S3 pre-signed URL: headers, ranges, refusals, streaming."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from lexer_activity.sandbox import SandboxServer
from lexer_activity.sandbox._files import RangeNotSatisfiable, parse_range

CONTENT = bytes(range(256)) * 40  # 10 240 bytes
MD5 = hashlib.md5(CONTENT).hexdigest()


@pytest.fixture
def url(server: SandboxServer) -> str:
    return server.sandbox.publish_file(CONTENT, "sample.csv")


@pytest.mark.asyncio
async def test_headers_and_etag(loopback: httpx.AsyncClient, url: str) -> None:
    response = await loopback.get(url)
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["etag"] == f'"{MD5}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "text/csv"
    head = await loopback.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(CONTENT))
    assert head.headers["etag"] == f'"{MD5}"'


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=100-", 100, 10_239), ("bytes=100-199", 100, 199), ("bytes=-10", 10_230, 10_239),
     ("bytes=10000-99999", 10_000, 10_239), ("bytes=0-0", 0, 0)],
)
@pytest.mark.asyncio
async def test_ranges(
    loopback: httpx.AsyncClient, url: str, header: str, start: int, end: int
) -> None:
    response = await loopback.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == CONTENT[start : end + 1]
    assert response.headers["etag"] == f'"{MD5}"'  # the whole object's, as S3 sends


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
@pytest.mark.asyncio
async def test_unsatisfiable_range(loopback: httpx.AsyncClient, url: str, header: str) -> None:
    response = await loopback.get(url, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(CONTENT)}"
    assert b"<Code>InvalidRange</Code>" in response.content


@pytest.mark.parametrize("header", ["bytes=5-1", "bytes=0-1,5-9", "items=0-5", "bytes=x-"])
@pytest.mark.asyncio
async def test_unusable_range_serves_everything(
    loopback: httpx.AsyncClient, url: str, header: str
) -> None:
    response = await loopback.get(url, headers={"Range": header})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_parse_range_of_an_empty_file() -> None:
    assert parse_range(None, 0) is None
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)


@pytest.mark.parametrize(
    "headers", [{"Auth-Api-Token": "sandbox-token"}, {"Authorization": "Bearer x"}]
)
@pytest.mark.asyncio
async def test_a_second_credential_is_refused(
    loopback: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> None:
    response = await loopback.get(url, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/xml"
    assert b"<Code>InvalidArgument</Code>" in response.content


@pytest.mark.asyncio
async def test_a_bad_signature_is_forbidden(loopback: httpx.AsyncClient, url: str) -> None:
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    response = await loopback.get(tampered)
    assert response.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in response.content
    other_name = url.replace("sample.csv", "other.csv")
    assert (await loopback.get(other_name)).status_code == 403
    assert (await loopback.get(url.split("?")[0])).status_code == 403


@pytest.mark.asyncio
async def test_an_unknown_name_with_a_good_signature_is_no_such_key(
    server: SandboxServer, loopback: httpx.AsyncClient
) -> None:
    url = server.sandbox.file_url("missing.csv", server.base_url)
    response = await loopback.get(url)
    assert response.status_code == 404
    assert b"<Code>NoSuchKey</Code>" in response.content


@pytest.mark.asyncio
async def test_an_old_url_has_expired(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    clock = [datetime(2020, 1, 1, tzinfo=timezone.utc)]
    app = make_app(now=lambda: clock[0])
    url = app.state.sandbox.publish_file(CONTENT, "old.csv")
    async with asgi(app) as http:
        clock[0] += timedelta(seconds=3600)
        assert (await http.get(url)).status_code == 200
        clock[0] += timedelta(seconds=1)
        response = await http.get(url)
    assert response.status_code == 403
    assert b"<Message>Request has expired</Message>" in response.content


@pytest.mark.asyncio
async def test_downloads_need_no_token_and_skip_the_rate_window(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    app = make_app(rate_limit=1, rate_window=60)
    url = app.state.sandbox.publish_file(CONTENT, "free.csv")
    async with asgi(app) as http:
        for _ in range(5):
            assert (await http.get(url)).status_code == 200
        assert (await http.get(url, headers={"Range": "bytes=0-9"})).status_code == 206
        assert (await http.get("/v1/groups", headers={"Auth-Api-Token": "sandbox-token"})).is_success
    stats = app.state.sandbox.stats
    assert stats.downloads == 6
    assert stats.bytes_sent == 5 * len(CONTENT) + 10
    assert stats.requests == {"download": 6, "groups": 1}
    assert stats.admitted["sandbox-token"]
    assert len(stats.admitted["sandbox-token"]) == 1


@pytest.mark.asyncio
async def test_a_published_path_is_streamed_in_place(
    server: SandboxServer, loopback: httpx.AsyncClient, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        for _ in range(48):
            handle.write(os.urandom(65_536 + 17))
    url = server.sandbox.publish_file(big)
    assert urlsplit(url).path == "/downloads/big.bin"
    assert urlsplit(url).hostname == "localhost"  # the server is on 127.0.0.1
    digest = hashlib.md5()
    pieces = 0
    async with loopback.stream("GET", url) as response:
        async for piece in response.aiter_raw():
            digest.update(piece)
            pieces += 1
    assert response.headers["etag"] == f'"{digest.hexdigest()}"'
    assert response.headers["content-length"] == str(big.stat().st_size)
    assert pieces > 1


def test_publish_needs_an_existing_file(server: SandboxServer, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        server.sandbox.publish_file(tmp_path / "nope.bin")


def test_published_names_stay_unique(server: SandboxServer) -> None:
    first = server.sandbox.publish_file(b"a", "same name.csv")
    second = server.sandbox.publish_file(b"b", "same name.csv")
    assert urlsplit(first).path == "/downloads/same_name.csv"
    assert urlsplit(second).path != urlsplit(first).path
