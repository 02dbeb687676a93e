"""Every fault kind, the queue's rules, and the admin routes that set them remotely."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lexer_activity.sandbox import Fault, SandboxServer

AUTH = {"Auth-Api-Token": "sandbox-token"}
CONTENT = b"id,name\r\n" + b"".join(b"%d,row %d\r\n" % (i, i) for i in range(2000))
STATUS = "/api/public/v1/activity/reports/status"


@pytest.fixture
async def app_http(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> Any:
    app = make_app(volume_scale=0.05)
    async with asgi(app) as http:
        yield app.state.sandbox, http


# The queue.


@pytest.mark.parametrize(
    ("args", "params", "message"),
    [
        (("user", "status"), {"status_code": 500}, "unknown fault target"),
        (("users", "explode"), {}, "unknown fault kind"),
        (("users", "status"), {}, "needs the parameter 'status_code'"),
        (("users", "status"), {"status_code": 1000}, "bad value"),
        (("users", "status"), {"status_code": 500, "colour": "red"}, "unknown parameter"),
        (("users", "slow"), {"delay": "soon"}, "bad value"),
        (("users", "gzip"), {}, "download target only"),
        (("download", "export_status"), {}, "status target only"),
        (("users", "malformed"), {"body": "xml"}, "bad value"),
    ],
)
def test_bad_faults_fail_at_once(args: tuple[str, str], params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(*args, **params)


def test_times_must_be_positive_or_none() -> None:
    with pytest.raises(ValueError, match="times"):
        Fault("users", "status", times=0, status_code=500)
    assert Fault("users", "status", times=None, status_code=500).times is None


def test_faults_round_trip_through_json() -> None:
    fault = Fault("download", "drop", times=3, after_bytes=7)
    assert Fault.from_json(json.loads(json.dumps(fault.to_json()))) == fault
    assert fault.to_json() == {"target": "download", "kind": "drop", "times": 3, "after_bytes": 7}


@pytest.mark.asyncio
async def test_times_and_first_match(app_http: tuple[Any, httpx.AsyncClient]) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("groups", "status", times=2, status_code=502))
    sandbox.add_fault(Fault("*", "status", status_code=503))
    codes = [(await http.get("/v1/groups", headers=AUTH)).status_code for _ in range(4)]
    assert codes == [502, 502, 503, 200]
    sandbox.add_fault(Fault("users", "status", times=None, status_code=500))
    for _ in range(3):
        assert (await http.get("/v1/users", headers=AUTH)).status_code == 500
    assert (await http.get("/v1/forms", headers=AUTH)).status_code == 200
    sandbox.clear_faults()
    assert (await http.get("/v1/users", headers=AUTH)).status_code == 200
    assert sandbox.stats.faults == {"status": 6}


@pytest.mark.asyncio
async def test_star_is_every_api_route_but_not_the_file_host(
    app_http: tuple[Any, httpx.AsyncClient],
) -> None:
    sandbox, http = app_http
    url = sandbox.publish_file(CONTENT, "f.csv")
    sandbox.add_fault(Fault("*", "status", times=None, status_code=504))
    assert (await http.get(url)).status_code == 200
    assert (await http.post("/v1/activity/reports", json={}, headers=AUTH)).status_code == 504
    assert (await http.get(STATUS, params={"token": "x"}, headers=AUTH)).status_code == 504


def test_the_queue_keeps_its_own_copy(server: SandboxServer) -> None:
    fault = Fault("users", "status", times=1, status_code=500)
    server.sandbox.add_fault(fault)
    httpx.get(server.base_url + "/v1/users", headers=AUTH)
    assert fault.times == 1
    assert server.sandbox.faults.pending() == []


# Replacing kinds.


@pytest.mark.asyncio
async def test_status(app_http: tuple[Any, httpx.AsyncClient]) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("users", "status", status_code=503))
    sandbox.add_fault(Fault("users", "status", status_code=500, body={"error": "boom"},
                            headers={"X-Trace": "abc"}))
    sandbox.add_fault(Fault("users", "status", status_code=408, body="<h1>timeout</h1>",
                            headers={"Content-Type": "text/html"}))
    first = await http.get("/v1/users")
    assert (first.status_code, first.text) == (503, "Service Unavailable")
    second = await http.get("/v1/users")
    assert second.json() == {"error": "boom"}
    assert second.headers["x-trace"] == "abc"
    third = await http.get("/v1/users")
    assert third.headers["content-type"] == "text/html"
    assert third.text == "<h1>timeout</h1>"


@pytest.mark.parametrize(
    "retry_after",
    ["2", "0.25", "Fri, 31 Dec 9999 23:59:59 GMT", "-1", "soon", "86400", None],
)
@pytest.mark.asyncio
async def test_rate_limit(app_http: tuple[Any, httpx.AsyncClient], retry_after: str | None) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("reports", "rate_limit", retry_after=retry_after))
    response = await http.post("/v1/activity/reports", json={}, headers=AUTH)
    assert response.status_code == 429
    assert response.json() == {"error": "Rate limited exceeded"}
    assert response.headers.get("retry-after") == retry_after
    stats = sandbox.stats
    assert stats.rate_limited == 1
    assert stats.admitted == {}  # a gateway answered: the window never saw it


@pytest.mark.parametrize(
    ("body", "extra", "content_type", "check"),
    [
        ("invalid_json", {}, "application/json", lambda r: r.content.startswith(b"{")),
        ("html", {}, "text/html", lambda r: b"<html>" in r.content),
        ("empty", {}, "application/json", lambda r: r.content == b""),
        ("json", {"json": {"surprise": [1, 2]}}, "application/json",
         lambda r: r.json() == {"surprise": [1, 2]}),
        ("json", {"json": None}, "application/json", lambda r: r.content == b"null"),
    ],
)
@pytest.mark.asyncio
async def test_malformed(
    app_http: tuple[Any, httpx.AsyncClient],
    body: str,
    extra: dict[str, Any],
    content_type: str,
    check: Callable[[httpx.Response], bool],
) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("groups", "malformed", body=body, **extra))
    response = await http.get("/v1/groups", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert check(response)
    if body == "invalid_json":
        with pytest.raises(json.JSONDecodeError):
            response.json()


@pytest.mark.asyncio
async def test_malformed_with_a_status(app_http: tuple[Any, httpx.AsyncClient]) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("users", "malformed", body="html", status_code=502))
    response = await http.get("/v1/users")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "failed"}, {"status": "failed"}),
        ({"status": "exploded", "url": None}, {"status": "exploded", "url": None}),
        ({}, {"status": "complete"}),
        ({"url": None}, {"status": "complete", "url": None}),
        ({"url": "file:///etc/passwd"}, {"status": "complete", "url": "file:///etc/passwd"}),
        ({"url": "ftp://x/y"}, {"status": "complete", "url": "ftp://x/y"}),
    ],
)
@pytest.mark.asyncio
async def test_export_status(
    app_http: tuple[Any, httpx.AsyncClient], params: dict[str, Any], expected: dict[str, Any]
) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("status", "export_status", **params))
    response = await http.get(STATUS, params={"token": "tok"}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {**expected, "token": "tok"}


@pytest.mark.asyncio
async def test_expired(app_http: tuple[Any, httpx.AsyncClient]) -> None:
    sandbox, http = app_http
    url = sandbox.publish_file(CONTENT, "f.csv")
    sandbox.add_fault(Fault("download", "expired"))
    response = await http.get(url)
    assert response.status_code == 403
    assert b"Request has expired" in response.content
    assert (await http.get(url)).status_code == 200


# Delivery kinds.


@pytest.mark.asyncio
async def test_slow(app_http: tuple[Any, httpx.AsyncClient]) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("forms", "slow", delay=0.3))
    started = time.monotonic()
    response = await http.get("/v1/forms", headers=AUTH)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.asyncio
async def test_trickle(server: SandboxServer, loopback: httpx.AsyncClient) -> None:
    server.sandbox.add_fault(Fault("groups", "trickle", chunk=64, delay=0.02))
    started = time.monotonic()
    pieces: list[bytes] = []
    async with loopback.stream("GET", "/v1/groups", headers=AUTH) as response:
        async for piece in response.aiter_raw():
            pieces.append(piece)
    body = b"".join(pieces)
    assert len(json.loads(body)) == 4
    assert len(pieces) >= len(body) // 64 // 2  # loopback may merge a few pieces
    assert time.monotonic() - started >= (len(body) // 64) * 0.02 * 0.9


async def incomplete(http: httpx.AsyncClient, url: str, **headers: str) -> tuple[int, bytes]:
    """Read ``url`` expecting the body to break; return the announced length and the bytes."""
    received = bytearray()

    async def read_all(response: httpx.Response) -> None:
        async for piece in response.aiter_raw():
            received.extend(piece)

    async with http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        announced = int(response.headers["content-length"])
        with pytest.raises(httpx.TransportError):
            await read_all(response)
    return announced, bytes(received)


@pytest.mark.parametrize("where", ["groups", "download"])
@pytest.mark.asyncio
async def test_drop_after_some_bytes(
    server: SandboxServer, loopback: httpx.AsyncClient, where: str
) -> None:
    if where == "download":
        url, headers, full = server.sandbox.publish_file(CONTENT, "drop.csv"), {}, CONTENT
    else:
        url, headers = "/v1/groups", AUTH
        full = (await loopback.get(url, headers=headers)).content
    for after in (0, 1, len(full) // 2, len(full) - 1):
        server.sandbox.add_fault(Fault(where, "drop", after_bytes=after))
        announced, received = await incomplete(loopback, url, **headers)
        assert announced == len(full)
        assert received == full[:after]
    assert (await loopback.get(url, headers=headers)).content == full


@pytest.mark.asyncio
async def test_short_closes_cleanly_before_the_end(
    server: SandboxServer, loopback: httpx.AsyncClient
) -> None:
    url = server.sandbox.publish_file(CONTENT, "short.csv")
    server.sandbox.add_fault(Fault("download", "short"))
    server.sandbox.add_fault(Fault("download", "short", after_bytes=100))
    for expected in (len(CONTENT) // 2, 100):
        announced, received = await incomplete(loopback, url)
        assert announced == len(CONTENT)
        assert received == CONTENT[:expected]
    server.sandbox.add_fault(Fault("users", "short", after_bytes=3))
    with pytest.raises(httpx.RemoteProtocolError, match="received 3 bytes"):
        await loopback.get("/v1/users", headers=AUTH)


@pytest.mark.asyncio
async def test_drop_in_process_raises_connection_reset(
    app_http: tuple[Any, httpx.AsyncClient],
) -> None:
    sandbox, http = app_http
    sandbox.add_fault(Fault("users", "drop", after_bytes=5))
    with pytest.raises(ConnectionResetError):
        await http.get("/v1/users", headers=AUTH)


# File-host kinds.


@pytest.mark.asyncio
async def test_ignore_range(app_http: tuple[Any, httpx.AsyncClient]) -> None:
    sandbox, http = app_http
    url = sandbox.publish_file(CONTENT, "f.csv")
    sandbox.add_fault(Fault("download", "ignore_range"))
    response = await http.get(url, headers={"Range": "bytes=100-"})
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.content == CONTENT


@pytest.mark.asyncio
async def test_bad_content_range(app_http: tuple[Any, httpx.AsyncClient]) -> None:
    sandbox, http = app_http
    url = sandbox.publish_file(CONTENT, "f.csv")
    total = len(CONTENT)
    sandbox.add_fault(Fault("download", "bad_content_range"))
    sandbox.add_fault(Fault("download", "bad_content_range", content_range="bytes 0-9/10"))
    first = await http.get(url, headers={"Range": "bytes=100-"})
    assert first.status_code == 206
    assert first.headers["content-range"] != f"bytes 100-{total - 1}/{total}"
    second = await http.get(url, headers={"Range": "bytes=100-"})
    assert second.headers["content-range"] == "bytes 0-9/10"


@pytest.mark.asyncio
async def test_gzip(
    server: SandboxServer, loopback: httpx.AsyncClient, tmp_path: Path
) -> None:
    source = tmp_path / "zipped.csv"
    source.write_bytes(CONTENT)
    url = server.sandbox.publish_file(source)
    server.sandbox.add_fault(Fault("download", "gzip", times=2))
    async with loopback.stream("GET", url) as response:
        raw = b"".join([piece async for piece in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == CONTENT
    assert response.headers["content-length"] == str(len(raw))
    assert response.headers["etag"] == f'"{hashlib.md5(raw).hexdigest()}"'
    async with loopback.stream("GET", url, headers={"Range": "bytes=10-"}) as ranged:
        tail = b"".join([piece async for piece in ranged.aiter_raw()])
    assert ranged.headers["content-range"] == f"bytes 10-{len(raw) - 1}/{len(raw)}"
    assert tail == raw[10:]
    assert os.listdir(tmp_path) == ["zipped.csv"]  # the compressed copy is in the work dir


# Remote control.


@pytest.mark.asyncio
async def test_admin_routes(server: SandboxServer, loopback: httpx.AsyncClient) -> None:
    faults = [
        {"target": "users", "kind": "status", "status_code": 500},
        {"target": "groups", "kind": "rate_limit", "retry_after": 2, "times": None},
    ]
    listed = (await loopback.post("/_sandbox/faults", json=faults)).json()["faults"]
    assert [f["kind"] for f in listed] == ["status", "rate_limit"]
    assert listed[1]["retry_after"] == "2"
    assert (await loopback.get("/v1/users", headers=AUTH)).status_code == 500
    assert (await loopback.get("/v1/groups", headers=AUTH)).headers["retry-after"] == "2"
    single = {"target": "forms", "kind": "slow", "delay": 0.01}
    assert len((await loopback.post("/_sandbox/faults", json=single)).json()["faults"]) == 2
    assert (await loopback.get("/_sandbox/faults")).json()["faults"][0]["kind"] == "rate_limit"
    assert (await loopback.delete("/_sandbox/faults")).json() == {"faults": []}
    assert (await loopback.get("/v1/groups", headers=AUTH)).status_code == 200
    bad = await loopback.post("/_sandbox/faults", json={"target": "users", "kind": "nope"})
    assert bad.status_code == 400
    assert "unknown fault kind" in bad.json()["error"]
    assert (await loopback.post("/_sandbox/faults", content=b"{")).status_code == 400
    stats = (await loopback.get("/_sandbox/stats")).json()
    assert stats["requests"]["users"] == 1
    assert stats["requests"]["groups"] == 2
    assert stats["rate_limited"] == 1
    assert stats["faults"] == {"status": 1, "rate_limit": 1}
    assert stats["max_in_any_window"] == {"sandbox-token": 1}
    assert set(stats) == {"requests", "rate_limited", "admitted", "max_in_any_window",
                          "downloads", "bytes_sent", "report_types", "faults"}
    cleared = (await loopback.delete("/_sandbox/stats")).json()
    assert cleared["requests"] == {}
    assert cleared["admitted"] == {}
