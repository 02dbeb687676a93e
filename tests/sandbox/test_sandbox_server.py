"""SandboxServer's lifecycle, the lifespan, and the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from lexer_activity.sandbox import (
    Fault,
    Sandbox,
    SandboxConfig,
    SandboxServer,
    create_app,
)
from lexer_activity.sandbox.__main__ import build_parser, config_from_args

AUTH = {"Auth-Api-Token": "sandbox-token"}


def sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sandbox-")]


def test_starts_and_stops_fast_and_leaves_nothing_behind() -> None:
    started = time.monotonic()
    server = SandboxServer(SandboxConfig(), port=0).start()
    startup = time.monotonic() - started
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.status_url == server.base_url + "/api/public/v1/activity/reports/status"
        assert httpx.get(server.base_url + "/v1/groups", headers=AUTH).status_code == 200
        server.sandbox.publish_file(b"x,y\r\n", "tiny.csv")  # makes a temporary directory
        work_dir = server.sandbox.files.directory
    finally:
        stopping = time.monotonic()
        server.stop()
    shutdown = time.monotonic() - stopping
    assert startup < 0.5
    assert shutdown < 0.5
    assert sandbox_threads() == []
    assert not work_dir.exists()
    assert server.sandbox.closed
    assert server.sandbox.stats.requests == {"groups": 1}  # still readable
    port = int(server.base_url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # the port is free again
    server.stop()  # idempotent


@pytest.mark.asyncio
async def test_async_with_does_not_block_the_event_loop() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    ticker = asyncio.create_task(tick())
    try:
        async with SandboxServer(SandboxConfig()) as server:
            during_start = ticks
            async with httpx.AsyncClient() as http:
                assert (await http.get(server.base_url + "/v1/forms", headers=AUTH)).is_success
            before_stop = ticks
        during_stop = ticks - before_stop
    finally:
        ticker.cancel()
    assert during_start > 0
    assert during_stop > 0
    assert sandbox_threads() == []


def test_stopping_cuts_answers_still_in_flight() -> None:
    server = SandboxServer(SandboxConfig()).start()
    server.sandbox.add_fault(Fault("users", "trickle", chunk=1, delay=0.5))
    errors: list[BaseException] = []

    def slow_reader() -> None:
        try:
            httpx.get(server.base_url + "/v1/users", headers=AUTH, timeout=10)
        except httpx.HTTPError as error:
            errors.append(error)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    time.sleep(0.2)
    stopping = time.monotonic()
    server.stop()
    assert time.monotonic() - stopping < 1.0
    reader.join(5)
    assert len(errors) == 1


def test_two_servers_side_by_side() -> None:
    with SandboxServer() as first, SandboxServer() as second:
        assert first.base_url != second.base_url
        first.sandbox.add_fault(Fault("groups", "status", status_code=500))
        assert httpx.get(second.base_url + "/v1/groups", headers=AUTH).status_code == 200
        assert httpx.get(first.base_url + "/v1/groups", headers=AUTH).status_code == 500


def test_a_busy_port_fails_loudly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            SandboxServer(port=taken.getsockname()[1]).start()


def test_work_dir_is_used_and_kept(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(work_dir=tmp_path)) as server:
        server.sandbox.publish_file(b"a,b\r\n", "kept.csv")
    assert (tmp_path / "kept.csv").read_bytes() == b"a,b\r\n"


@pytest.mark.asyncio
async def test_the_lifespan_closes_the_sandbox() -> None:
    app = create_app(SandboxConfig())
    sandbox: Sandbox = app.state.sandbox
    async with app.router.lifespan_context(app):
        assert not sandbox.closed
    assert sandbox.closed


def test_config_validation() -> None:
    with pytest.raises(TypeError):
        SandboxConfig(tokens="sandbox-token")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rate_limit"):
        SandboxConfig(rate_limit=0)
    with pytest.raises(ValueError, match="latency"):
        SandboxConfig(latency=-1)


def test_command_line_options() -> None:
    args = build_parser().parse_args(
        ["--port", "0", "--token", "a", "--token", "b", "--export-delay", "0",
         "--latency", "0.05", "--rate-limit", "10", "--rate-window", "1.5"]
    )
    config = config_from_args(args)
    assert (args.host, args.port) == ("127.0.0.1", 0)
    assert config.tokens == ("a", "b")
    assert (config.export_delay, config.latency) == (0.0, 0.05)
    assert (config.rate_limit, config.rate_window) == (10, 1.5)
    assert config_from_args(build_parser().parse_args([])).tokens == ("sandbox-token",)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_python_dash_m_serves_until_signalled(stop_signal: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "lexer_activity.sandbox", "--port", "0", "--token", "t1",
         "--latency", "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = dict(process.stdout.readline().strip().split(": ", 1) for _ in range(3))
        base_url = lines["base_url"]
        assert lines["status_url"] == base_url + "/api/public/v1/activity/reports/status"
        assert lines["token"] == "t1"
        answer = httpx.get(base_url + "/v1/groups", headers={"Auth-Api-Token": "t1"})
        assert answer.status_code == 200
        process.send_signal(stop_signal)
        code = process.wait(5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()
        process.stderr.close()
    assert code == 0
