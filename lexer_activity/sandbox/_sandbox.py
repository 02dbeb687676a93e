"""Sandbox: the state behind one fake API (data, faults, rate window, files, stats)."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

from ._config import SandboxConfig
from ._delivery import Wire
from ._exports import Exports
from ._faults import Fault, FaultQueue
from ._files import FileStore
from ._ratewindow import RateWindow
from ._stats import SandboxStats, StatsRecorder
from ._world import World

T = TypeVar("T")

# Where published files say they live when no server address is known (RFC 2606 name).
_FALLBACK_FILE_ORIGIN = "http://files.sandbox.test"


def file_origin(scheme: str, netloc: str) -> str:
    """The file host for an API host: 127.0.0.1 <-> localhost, any other H -> files.H.

    The real export URL points at another host (S3); a different name for the same
    server lets tests catch a client that sends its API token there.
    """
    host, port = netloc, ""
    if netloc.startswith("["):
        end = netloc.find("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ""
    elif netloc.count(":") == 1:
        host, port = netloc.split(":")
    if host in ("127.0.0.1", "[::1]"):
        other = "localhost"
    elif host == "localhost":
        other = "127.0.0.1"
    else:
        other = f"files.{host}"
    return f"{scheme}://{other}{':' + port if port else ''}"


class Sandbox:
    """Everything one fake API knows; reach it as ``app.state.sandbox``.

    Thread-safe where tests need it: faults, stats and published files may be used from
    any thread while a server thread answers requests.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.world = World(config.seed, config.volume_scale, self.now().date())
        self.faults = FaultQueue()
        self.window = RateWindow(config.rate_limit, config.rate_window)
        self.recorder = StatsRecorder(self.window)
        self.files = FileStore(config.work_dir, secrets.token_bytes(32))
        self.exports = Exports(
            self.world, self.files, config.export_delay, lambda: self.now().timestamp()
        )
        self.wire = Wire()
        # The server's own address, once one serves this sandbox (used by publish_file).
        self.base_url: str | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    def now(self) -> datetime:
        """The sandbox's clock: ``config.now`` if set, else the real time (UTC)."""
        return self.config.current_time()

    # Faults and stats.

    def add_fault(self, fault: Fault) -> None:
        """Queue ``fault`` behind those already queued."""
        self.faults.add(fault)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self.faults.clear()

    @property
    def stats(self) -> SandboxStats:
        """A snapshot of the counters (see SandboxStats)."""
        return self.recorder.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters and empty the rate window."""
        self.recorder.reset()

    # Files.

    def publish_file(
        self, source: bytes | str | os.PathLike[str], name: str | None = None
    ) -> str:
        """Serve ``source`` on the download route; return its pre-signed URL.

        Bytes are written to the work dir; a path is served in place, never copied, so a
        file of GBs costs nothing to publish. Its MD5 (the ETag, which must precede the
        body) starts at once on a worker thread; a download asked for sooner waits for it.
        The URL names the file host of the running SandboxServer, so publish after start();
        without a server it is ``config.download_base_url`` or ``http://files.sandbox.test``.
        """
        blob = self.files.publish(source, name)
        if not blob.has_md5:
            self._submit(blob.md5)
        return self.file_url(blob.name, self.download_origin())

    def download_origin(self, scheme: str = "http", api_netloc: str | None = None) -> str:
        """Scheme and host that download URLs carry, for a request to ``api_netloc``."""
        if self.config.download_base_url:
            return self.config.download_base_url.rstrip("/")
        if api_netloc is None and self.base_url is not None:
            parts = urlsplit(self.base_url)
            scheme, api_netloc = parts.scheme, parts.netloc
        if api_netloc is None:
            return _FALLBACK_FILE_ORIGIN
        return file_origin(scheme, api_netloc)

    def file_url(self, name: str, origin: str) -> str:
        """A freshly signed URL for the stored file ``name``."""
        return origin + self.files.signed_path(name, self.now())

    # Blocking work, off the event loop.

    def _submit(self, func: Callable[[], T]) -> Future[T]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the sandbox is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(2, thread_name_prefix="sandbox-worker")
            return self._pool.submit(func)

    async def run_blocking(self, func: Callable[[], T]) -> T:
        """Run ``func`` on the sandbox's worker threads (joined on close)."""
        return await asyncio.wrap_future(self._submit(func))

    def close(self) -> None:
        """Stop streams and sleeps, join worker threads, delete temporary files."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pool, self._pool = self._pool, None
        self.wire.stop()
        self.exports.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.files.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
