"""Fixtures for the sandbox's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lexer_activity.sandbox import DEFAULT_TOKEN, Sandbox, SandboxConfig, SandboxServer, create_app

AUTH = {"Auth-Api-Token": DEFAULT_TOKEN}
APRIL = {"date_from": "2018-04-01T00:00:00+11:00", "date_to": "2018-04-30T23:59:59+11:00"}
# Plenty of budget: tests that are not about the rate window must never meet it.
ROOMY = SandboxConfig(export_delay=0.0, rate_limit=1_000_000)

MakeApp = Callable[..., Starlette]


@pytest.fixture
def make_app() -> Iterator[MakeApp]:
    """Build apps from SandboxConfig keywords; every sandbox is closed afterwards."""
    sandboxes: list[Sandbox] = []

    def make(**settings: Any) -> Starlette:
        base = {"export_delay": 0.0, "rate_limit": 1_000_000}
        app = create_app(SandboxConfig(**{**base, **settings}))
        sandboxes.append(app.state.sandbox)
        return app

    yield make
    for sandbox in sandboxes:
        sandbox.close()


@pytest.fixture(scope="module")
def shared_app() -> Iterator[Starlette]:
    """One roomy app per module, for tests that only read."""
    app = create_app(ROOMY)
    yield app
    app.state.sandbox.close()


def _asgi_client(app: Starlette, base_url: str = "http://api.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
def asgi() -> Callable[..., httpx.AsyncClient]:
    """``asgi(app, base_url="http://api.test")``: an httpx client talking to app in-process."""
    return _asgi_client


@pytest.fixture
async def client(shared_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the module's shared app."""
    async with _asgi_client(shared_app) as http:
        yield http


@pytest.fixture(scope="module")
def module_server() -> Iterator[SandboxServer]:
    with SandboxServer(ROOMY) as running:
        yield running


@pytest.fixture
def server(module_server: SandboxServer) -> SandboxServer:
    """A roomy sandbox on a loopback port, shared by a module, with no faults or stats."""
    module_server.sandbox.clear_faults()
    module_server.sandbox.reset_stats()
    return module_server


@pytest.fixture
async def loopback(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for ``server`` over real TCP."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5.0) as http:
        yield http


async def _report(http: httpx.AsyncClient, report_type: str, **body: Any) -> httpx.Response:
    payload = {"type": report_type, **APRIL, **body}
    return await http.post("/v1/activity/reports", json=payload, headers=AUTH)


@pytest.fixture
def report() -> Callable[..., Any]:
    """``await report(http, type, **body)``: POST a report (April 2018, +11:00, by default)."""
    return _report
