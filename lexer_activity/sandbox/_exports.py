"""Export jobs: pending while the CSV is written to disk in the background, then complete."""

from __future__ import annotations

import csv
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from . import _csv
from ._files import Blob, FileStore, HashingWriter
from ._query import ReportQuery
from ._world import World

logger = logging.getLogger("lexer_activity.sandbox")


class ExportCancelled(Exception):
    """The sandbox closed while the export was being written."""


@dataclass
class ExportJob:
    """One export: its report token, query, start time and the future of its file."""

    token: str
    query: ReportQuery
    started: float  # time.monotonic()
    file: Future[Blob]


class Exports:
    """Starts export jobs and reports their status.

    A job is ``pending`` until ``delay`` seconds have passed AND its file is fully written,
    then ``complete``. Files are written by at most two worker threads, row by row through
    csv.writer (QUOTE_MINIMAL, CRLF, UTF-8 without BOM), hashing as they go, so memory
    stays flat whatever the export's size. A job whose writer crashed is ``failed``.
    """

    def __init__(
        self, world: World, files: FileStore, delay: float, now: Callable[[], float]
    ) -> None:
        self._world = world
        self._files = files
        self._delay = delay
        self._now = now
        self._jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._pool: ThreadPoolExecutor | None = None

    def start(self, query: ReportQuery) -> str:
        """Queue the export of ``query``; return its report token."""
        token = secrets.token_hex(16)
        with self._lock:
            if self._cancel.is_set():
                raise RuntimeError("the sandbox is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(2, thread_name_prefix="sandbox-export")
            future = self._pool.submit(self._write, token, query, self._now())
            self._jobs[token] = ExportJob(token, query, time.monotonic(), future)
        return token

    def status(self, token: str) -> tuple[str, Blob | None] | None:
        """``(status, file)`` of the job, or None for an unknown token."""
        with self._lock:
            job = self._jobs.get(token)
        if job is None:
            return None
        if time.monotonic() - job.started < self._delay or not job.file.done():
            return "pending", None
        if job.file.cancelled() or job.file.exception() is not None:
            return "failed", None
        return "complete", job.file.result()

    def close(self) -> None:
        """Stop writing, wait for the writers to notice, and forget the pool."""
        with self._lock:
            self._cancel.set()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _write(self, token: str, query: ReportQuery, now: float) -> Blob:
        name = self._files.unique_name(f"activity_{token}.csv")
        path = self._files.directory / name
        sink = HashingWriter(path)
        try:
            writer = csv.writer(sink, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            for count, row in enumerate(_csv.rows(self._world, query, now)):
                if count % 512 == 0 and self._cancel.is_set():
                    raise ExportCancelled(token)
                writer.writerow(row)
        except BaseException:
            sink.close()
            path.unlink(missing_ok=True)
            if not self._cancel.is_set():
                logger.exception("export %s (%s) failed", token, query.type)
            raise
        blob = Blob(name, path, sink.size, sink.close())
        self._files.add(blob)
        return blob
