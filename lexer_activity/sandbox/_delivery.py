"""Putting an answer on the wire, including the faults that spoil delivery.

Every answer of the sandbox, JSON or file, goes through ``Answer``, so the delivery faults
(slow, trickle, drop, short) behave the same on every route.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._faults import Fault

TransportLookup = Callable[[Any], "asyncio.Transport | None"]

# How long a cut waits for already-written bytes to leave the process, and for the server
# to notice the closed connection. Both take microseconds on loopback.
_FLUSH_TIMEOUT = 2.0
_DISCONNECT_TIMEOUT = 1.0


class Wire:
    """Shared delivery state: the stop flag and the way to reach a connection's socket.

    ``transport_for`` is set by the server that runs the app (see ``_server``); it maps an
    ASGI ``client`` address to its transport. Without it (in-process ASGI tests) a cut
    connection can only be imitated by raising ``ConnectionResetError``.
    """

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self.transport_for: TransportLookup | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Make every pending sleep return and every stream end, for a quick shutdown."""
        self._stopping.set()

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the server is stopping."""
        # Polled in short slices: a threading flag works whichever event loop is running.
        deadline = time.monotonic() + seconds
        while not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await anyio.sleep(min(remaining, 0.05))

    async def cut(self, scope: Scope, abort: bool) -> bool:
        """Close the request's connection: a reset if ``abort``, else a clean FIN.

        Returns False when the connection cannot be reached (no server hook).
        """
        lookup = self.transport_for
        transport = lookup(scope.get("client")) if lookup is not None else None
        if transport is None:
            return False
        # The fault promises the bytes written so far arrive; a reset discards unsent data.
        deadline = time.monotonic() + _FLUSH_TIMEOUT
        # Polled: a transport offers no event for "write buffer empty" to wait on.
        while (  # noqa: ASYNC110
            transport.get_write_buffer_size()
            and not transport.is_closing()
            and time.monotonic() < deadline
        ):
            await anyio.sleep(0.001)
        if abort:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # Linger 0 turns close() into a TCP reset, as a crashed peer would send.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        return True


class Answer(Response):
    """An HTTP answer whose body is an iterator of byte pieces, delivered fault-aware.

    ``length`` is what Content-Length announces; the drop and short faults send less than
    that on purpose. ``on_sent`` is told the size of every body piece that went out.
    """

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        body: Iterable[bytes],
        length: int | None,
        *,
        wire: Wire,
        fault: Fault | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        all_headers = dict(headers)
        if length is not None:
            all_headers["content-length"] = str(length)
        super().__init__(None, status_code, all_headers)
        self.pieces = body
        self.length = length
        self.wire = wire
        self.fault = fault
        self.on_sent = on_sent

    @classmethod
    def of_bytes(
        cls,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        *,
        wire: Wire,
        fault: Fault | None = None,
    ) -> Answer:
        """An answer with a body already in memory."""
        return cls(status_code, headers, (content,), len(content), wire=wire, fault=fault)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cut_failed = False
        try:
            async with anyio.create_task_group() as group:

                async def watch_disconnect() -> None:
                    # A client that goes away ends the stream at once, and the wait after a cut.
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(watch_disconnect)
                cut_failed = not await self._deliver(scope, send)
                group.cancel_scope.cancel()
        finally:
            # A file stream left unfinished closes its file now, not whenever it is collected.
            close = getattr(self.pieces, "close", None)
            if close is not None:
                close()
        if cut_failed:
            # In-process there is no socket to cut; an exception is the nearest imitation.
            raise ConnectionResetError("sandbox fault: connection cut before the body ended")

    async def _deliver(self, scope: Scope, send: Send) -> bool:
        fault = self.fault
        kind = fault.kind if fault is not None else None
        if fault is not None and kind == "slow":
            await self.wire.sleep(fault["delay"])
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        limit: int | None = None
        if fault is not None and kind == "drop":
            limit = fault["after_bytes"]
        elif fault is not None and kind == "short":
            limit = fault["after_bytes"]
            if limit is None:
                limit = (self.length or 0) // 2
        sent = 0
        for piece in self._pieces():
            if self.wire.stopping:
                return await self._cut(scope, abort=True)
            if limit is not None and sent + len(piece) > limit:
                piece = piece[: limit - sent]
            if sent and fault is not None and kind == "trickle":
                await self.wire.sleep(fault["delay"])
            if piece:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                sent += len(piece)
                if self.on_sent is not None:
                    self.on_sent(len(piece))
            if limit is not None and sent >= limit:
                break
        if limit is not None:
            return await self._cut(scope, abort=kind == "drop")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True

    def _pieces(self) -> Iterator[bytes]:
        fault = self.fault
        if fault is None or fault.kind != "trickle":
            yield from self.pieces
            return
        size = fault["chunk"]
        for piece in self.pieces:
            for offset in range(0, len(piece), size):
                yield piece[offset : offset + size]

    async def _cut(self, scope: Scope, abort: bool) -> bool:
        if not await self.wire.cut(scope, abort):
            return False
        # The disconnect watcher cancels this sleep as soon as the server sees the close,
        # so the server never finds a half-sent answer from a live connection.
        await anyio.sleep(_DISCONNECT_TIMEOUT)
        return True
