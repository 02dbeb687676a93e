"""Export jobs: pending then complete, a URL on another host, and the CSV files."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from lexer_activity.sandbox import SandboxConfig, SandboxServer
from lexer_activity.sandbox._csv import SLA_COLUMNS

AUTH = {"Auth-Api-Token": "sandbox-token"}
STATUS = "/api/public/v1/activity/reports/status"
APRIL = {"date_from": "2018-04-01T00:00:00+11:00", "date_to": "2018-04-30T23:59:59+11:00"}


async def start(http: httpx.AsyncClient, export_type: str, **extra: Any) -> str:
    body = {"type": export_type, **APRIL, **extra}
    answer = await http.post("/v1/activity/reports", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


async def wait_complete(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    for _ in range(1000):
        answer = (await http.get(STATUS, params={"token": token}, headers=AUTH)).json()
        if answer["status"] != "pending":
            return dict(answer)
        await asyncio.sleep(0.01)
    pytest.fail("export stayed pending")


@pytest.fixture(scope="module")
def sla_csv() -> bytes:
    """A month of responses, exported once for the module's file checks."""
    with SandboxServer(SandboxConfig(export_delay=0.0)) as server, httpx.Client(
        base_url=server.base_url
    ) as http:
        body = {"type": "mention_sla_export", **APRIL}
        token = http.post("/v1/activity/reports", json=body, headers=AUTH).json()["token"]
        for _ in range(1000):
            answer = http.get(STATUS, params={"token": token}, headers=AUTH).json()
            if answer["status"] == "complete":
                return http.get(answer["url"]).content
            time.sleep(0.01)
    pytest.fail("export stayed pending")


@pytest.mark.asyncio
async def test_pending_for_the_delay_then_complete(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    async with asgi(make_app(export_delay=0.3, volume_scale=0.05)) as http:
        started = time.monotonic()
        token = await start(http, "case_details")
        first = (await http.get(STATUS, params={"token": token}, headers=AUTH)).json()
        assert first == {"status": "pending", "url": None, "token": token}
        answer = await wait_complete(http, token)
        assert time.monotonic() - started >= 0.3
    assert answer["status"] == "complete"
    assert answer["token"] == token
    assert urlsplit(answer["url"]).hostname == "files.api.test"


@pytest.mark.asyncio
async def test_loopback_download_host_swaps_ip_and_name() -> None:
    async with SandboxServer(SandboxConfig(export_delay=0.0, volume_scale=0.05)) as server:
        port = urlsplit(server.base_url).port
        for api_host, file_host in (("127.0.0.1", "localhost"), ("localhost", "127.0.0.1")):
            async with httpx.AsyncClient(base_url=f"http://{api_host}:{port}") as http:
                answer = await wait_complete(http, await start(http, "case_details"))
                url = urlsplit(answer["url"])
                assert (url.hostname, url.port) == (file_host, port)
                assert (await http.get(answer["url"])).status_code == 200


@pytest.mark.asyncio
async def test_download_base_url_overrides(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    app = make_app(download_base_url="https://bucket.s3.example.com/", volume_scale=0.05)
    async with asgi(app) as http:
        answer = await wait_complete(http, await start(http, "case_details"))
    assert answer["url"].startswith("https://bucket.s3.example.com/downloads/activity_")


def test_sla_export_columns_and_encoding(sla_csv: bytes) -> None:
    assert not sla_csv.startswith(b"\xef\xbb\xbf")
    header, _, _ = sla_csv.partition(b"\r\n")
    assert header.decode() == ",".join(SLA_COLUMNS)
    assert "Agent Reponse Date (UTC)" in SLA_COLUMNS  # the vendor's typo, kept
    assert sla_csv.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(sla_csv.decode("utf-8"), newline="")))
    assert all(len(row) == len(SLA_COLUMNS) for row in rows)
    assert len(rows) > 5000


def test_sla_export_fields_are_messy(sla_csv: bytes) -> None:
    rows = list(csv.reader(io.StringIO(sla_csv.decode("utf-8"), newline="")))[1:]
    fields = [field for row in rows for field in row]
    text = "\n".join(fields)
    assert any("," in f for f in fields)
    assert any('"' in f for f in fields)
    assert any("\r\n" in f for f in fields)
    assert any("\n" in f.replace("\r\n", "") for f in fields)
    assert any(f == "" for f in fields)
    assert max(len(f) for f in fields) > 2000
    for sample in ("😡", "注文", "مرحبا", "Здравствуйте", "👩\u200d💻"):
        assert sample in text
    message = SLA_COLUMNS.index("Customer Message")
    assert any(row[message] == "" for row in rows)


@pytest.mark.asyncio
async def test_case_and_nps_exports_parse(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    async with asgi(make_app(volume_scale=0.2)) as http:
        forms = (await http.get("/v1/forms", headers=AUTH)).json()
        form = next(f["id"] for f in forms if f["nps"])
        for export_type, extra, column in (
            ("case_details", {}, "Case ID"),
            ("nps_submissions", {"form": form, "nps_category": "all"}, "Score"),
        ):
            answer = await wait_complete(http, await start(http, export_type, **extra))
            content = (await http.get(answer["url"])).content
            rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
            assert column in rows[0]
            assert len(rows) > 10
            assert all(len(row) == len(rows[0]) for row in rows)


@pytest.mark.asyncio
async def test_a_crashed_writer_reports_failed(
    make_app: Callable[..., Any],
    asgi: Callable[..., httpx.AsyncClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lexer_activity.sandbox import _csv

    def explode(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(_csv, "rows", explode)
    async with asgi(make_app()) as http:
        answer = await wait_complete(http, await start(http, "case_details"))
    assert answer == {"status": "failed", "url": None, "token": answer["token"]}


def test_closing_stops_a_long_export_quickly() -> None:
    with SandboxServer(SandboxConfig(export_delay=0.0)) as server:
        year = {"date_from": "2017-01-01T00:00:00Z", "date_to": "2018-01-01T00:00:00Z"}
        body = {"type": "mention_sla_export", **year}
        answer = httpx.post(server.base_url + "/v1/activity/reports", json=body, headers=AUTH)
        assert answer.json()["status"] == "pending"
        time.sleep(0.2)  # let the writer get going
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 2.0
    assert not [t for t in threading.enumerate() if t.name.startswith("sandbox-")]
