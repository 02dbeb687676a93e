"""Serving the sandbox over real loopback HTTP: SandboxServer (a thread) and serve_forever."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import anyio.to_thread
import uvicorn
from starlette.applications import Starlette

from ._app import create_app
from ._config import STATUS_PATH, SandboxConfig
from ._sandbox import Sandbox

# uvicorn polls its exit flag every 0.1 s; a wake-up event makes stop() immediate instead.
_TICK = 0.1
_JOIN_TIMEOUT = 10.0


class _Uvicorn(uvicorn.Server):
    """uvicorn.Server that starts and stops fast and lets the app reach its sockets."""

    def __init__(self, config: uvicorn.Config, sandbox: Sandbox) -> None:
        super().__init__(config)
        self._sandbox = sandbox
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets)
        # The drop and short faults cut a connection; only the server can reach its socket.
        self._sandbox.wire.transport_for = self._transport_for
        self.ready.set()

    def _transport_for(self, client: Any) -> asyncio.Transport | None:
        for connection in self.server_state.connections:
            if getattr(connection, "client", None) == client:
                transport: asyncio.Transport | None = getattr(connection, "transport", None)
                return transport
        return None

    async def main_loop(self) -> None:
        assert self._wake is not None
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _TICK)

    def request_exit(self) -> None:
        """Ask the server to stop; safe from any thread."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._sandbox.wire.stop()
        # Answers still in flight (a trickle, a client that stopped reading a big file)
        # are cut, so stopping never waits on a client.
        for connection in list(self.server_state.connections):
            cycle = getattr(connection, "cycle", None)
            if cycle is not None and not cycle.response_complete:
                connection.transport.abort()
        await super().shutdown(sockets)


def _uvicorn_config(app: Starlette) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http="h11",  # deterministic connection handling, and what the drop/short faults expect
        ws="none",
        loop="asyncio",
        lifespan="on",
        log_config=None,  # leave the host program's logging alone
        access_log=False,
        timeout_graceful_shutdown=2,
    )


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _origin(host: str, port: int) -> str:
    # A wildcard address is where the server listens, not where a client should go.
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class SandboxServer:
    """The sandbox on a loopback port, served by uvicorn in a background thread.

    Use as ``with`` or ``async with`` (the async form starts and stops the server in a
    worker thread, so the caller's event loop never blocks). ``port=0`` picks a free port.
    Stopping cuts any answer still in flight, joins the thread and closes the sandbox;
    ``sandbox`` stays readable afterwards for its stats.
    """

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        self.host = host
        self.port = port
        self.app = create_app(self.config)
        self.sandbox: Sandbox = self.app.state.sandbox
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """What a client passes as base_url, e.g. ``http://127.0.0.1:54321``."""
        return _origin(self.host, self.port)

    @property
    def status_url(self) -> str:
        """The export status endpoint on this server."""
        return self.base_url + STATUS_PATH

    def start(self) -> SandboxServer:
        """Bind, start the server thread, and return once requests are accepted."""
        if self._thread is not None:
            raise RuntimeError("SandboxServer is already started")
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        server = _Uvicorn(_uvicorn_config(self.app), self.sandbox)
        thread = threading.Thread(
            target=self._run, args=(server, sock), name=f"sandbox-server-{self.port}", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        server.ready.wait()
        if not server.started:
            self.stop()
            raise RuntimeError(f"the sandbox server did not start: {self._error!r}")
        self.sandbox.base_url = self.base_url
        return self

    def _run(self, server: _Uvicorn, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as error:  # uvicorn reports a failed startup with SystemExit
            self._error = error
        finally:
            server.ready.set()

    def stop(self) -> None:
        """Stop serving, join the thread, close the socket and the sandbox. Idempotent."""
        server, thread, sock = self._server, self._thread, self._socket
        if server is not None:
            server.request_exit()
        if thread is not None:
            thread.join(_JOIN_TIMEOUT)
            if thread.is_alive():
                raise RuntimeError("the sandbox server thread did not stop")
        if sock is not None:
            sock.close()
        self._server = self._thread = self._socket = None
        self.sandbox.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)


def serve_forever(
    config: SandboxConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the sandbox in this thread until SIGINT or SIGTERM.

    ``on_ready`` is called with the base URL once requests are accepted. Run it from the
    main thread: that is where uvicorn installs its signal handlers. After a SIGINT,
    uvicorn re-raises it, so expect KeyboardInterrupt once the server has stopped.
    """
    app = create_app(config)
    sandbox: Sandbox = app.state.sandbox
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    server = _Uvicorn(_uvicorn_config(app), sandbox)
    base_url = _origin(host, actual_port)
    sandbox.base_url = base_url

    def announce() -> None:
        server.ready.wait()
        if server.started and on_ready is not None:
            on_ready(base_url)

    # The callback runs on a helper thread so it cannot delay the server's event loop.
    announcer = threading.Thread(target=announce, name="sandbox-announce", daemon=True)
    announcer.start()
    try:
        server.run(sockets=[sock])
    finally:
        server.ready.set()
        announcer.join()
        sock.close()
        sandbox.close()
