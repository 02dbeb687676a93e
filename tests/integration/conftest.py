"""One sandbox on a loopback port for the integration tests of this directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from lexer_activity import AsyncActivityClient
from lexer_activity.sandbox import DEFAULT_TOKEN, SandboxConfig, SandboxServer


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    config = SandboxConfig(export_delay=0.05, rate_limit=1000, rate_window=1.0)
    with SandboxServer(config, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
async def client(server: SandboxServer) -> AsyncIterator[AsyncActivityClient]:
    server.sandbox.clear_faults()
    server.sandbox.reset_stats()
    async with AsyncActivityClient(
        token=DEFAULT_TOKEN,
        base_url=server.base_url,
        status_url=server.status_url,
        rate_limit=(1000, 1.0),
    ) as c:
        yield c
