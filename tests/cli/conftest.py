"""Fixtures for the CLI tests: a loopback sandbox and a CliRunner with a clean environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest
from click.testing import CliRunner, Result

from lexer_activity.cli import cli
from lexer_activity.sandbox import SandboxConfig, SandboxServer

TOKEN = "cli-test-token-7f3e9b"

# Anything that could leak in from the developer's shell and change what the CLI does.
CLEAN_ENV: dict[str, str | None] = {
    "LEXER_API_TOKEN": None,
    "LEXER_BASE_URL": None,
    "LEXER_STATUS_URL": None,
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "COLUMNS": None,
}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """One sandbox per module; a high rate limit, since every test spends from one budget."""
    config = SandboxConfig(tokens=(TOKEN,), export_delay=0.2, rate_limit=100_000)
    with SandboxServer(config, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=CLEAN_ENV)


@pytest.fixture
def invoke(runner: CliRunner, server: SandboxServer) -> Callable[..., Result]:
    """Run the CLI against the module's sandbox with the right token."""

    def run(*args: str, token: str = TOKEN, extra: Sequence[str] = ()) -> Result:
        argv = [
            "--base-url", server.base_url,
            "--status-url", server.status_url,
            "--token", token,
            *extra,
            *args,
        ]
        return runner.invoke(cli, argv, catch_exceptions=False)

    return run
