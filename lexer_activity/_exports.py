"""Export jobs: poll until complete, then download, or stream the bytes or the CSV rows.

A job is started by ``AsyncActivityClient.start_export`` with exactly one POST. Nothing in
this module starts another: polls are GETs of the status URL, downloads are GETs of the file.
The file's bytes come from ``_download.FileStream`` (resumed, verified, with no credentials
sent to the file host); the rows from ``_csv_rows.iter_csv_rows``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import anyio

from ._constants import (
    DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_POLL_INTERVAL,
    POLL_GROWTH,
    POLL_MAX_INTERVAL,
)
from ._convert import excerpt
from ._csv_rows import iter_csv_rows
from ._download import (
    FileStream,
    ProgressCallback,
    check_download_args,
    download_to_path,
    url_problem,
)
from ._errors import DownloadError, ExportFailedError, ExportTimeoutError, ResponseValidationError
from ._requester import Requester
from ._validate import check_positive

__all__ = ["EXPORT_TYPES", "ExportJob", "ExportStream", "ProgressCallback"]

EXPORT_TYPES = frozenset({"case_details", "nps_submissions", "mention_sla_export"})

T = TypeVar("T")

# The wait loop reads the time and sleeps through these names so that a test can run the
# poll schedule on a fake clock.
_now = anyio.current_time
_sleep = anyio.sleep


class ExportStream(AsyncIterator[T]):
    """What ``iter_bytes()`` and ``iter_rows()`` return: an async iterator over the export.

    ``async with job.iter_rows() as rows: async for row in rows: ...`` is the deterministic
    way to use it: leaving the block, by ``break``, an exception or a cancellation, closes
    the HTTP stream at once. A plain ``async for ... : break`` also releases the connection
    promptly on CPython (the abandoned generator is finalized as soon as its last reference
    goes, and the event loop closes it), but other interpreters may wait for the garbage
    collector. ``aclose()`` closes it explicitly. The stream is single-use.
    """

    __slots__ = ("_agen",)

    def __init__(self, agen: AsyncGenerator[T, None]) -> None:
        self._agen = agen

    def __aiter__(self) -> ExportStream[T]:
        return self

    def __anext__(self) -> Awaitable[T]:
        return self._agen.__anext__()

    async def aclose(self) -> None:
        """Stop reading and release the HTTP connection (idempotent)."""
        # Shielded: a cancelled task must still give its connection back to the pool.
        with anyio.CancelScope(shield=True):
            await self._agen.aclose()

    async def __aenter__(self) -> ExportStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ExportJob:
    """One export job on the server, known by its token.

    ``token`` is the job's token from the start answer (not the API token, which no job
    attribute, repr or message ever contains). ``status`` is the last status seen:
    ``pending``, ``complete``, or whatever else the server reported. ``url`` is the CSV's
    location once complete; it is a pre-signed URL, so treat it as a secret, and it is not
    shown in the repr.
    """

    def __init__(
        self,
        requester: Requester,
        *,
        token: str,
        report_type: str,
        status_url: str,
        status: str = "pending",
        url: str | None = None,
    ) -> None:
        self._requester = requester
        self.token = token
        self.report_type = report_type
        self.status_url = status_url
        self.status = status
        self.url = url

    def __repr__(self) -> str:
        return (
            f"ExportJob(report_type={self.report_type!r}, token={self.token!r}, "
            f"status={self.status!r})"
        )

    @classmethod
    def from_answer(
        cls,
        requester: Requester,
        data: Any,
        *,
        body: bytes,
        report_type: str,
        status_url: str,
    ) -> ExportJob:
        """The job described by the start answer ``{"status": "pending", "url": null,
        "token": "..."}``.

        Raises ``ResponseValidationError`` (naming the report type) when the answer is not an
        object or has no token, and ``ExportFailedError`` when its status is neither
        ``pending`` nor ``complete`` (or ``complete`` without a usable URL).
        """
        if not isinstance(data, Mapping):
            raise ResponseValidationError(
                "the export start answer is not a JSON object",
                endpoint=report_type,
                excerpt=excerpt(body),
            )
        token = data.get("token")
        if not isinstance(token, str) or not token.strip():
            raise ResponseValidationError(
                "the export start answer carries no job token",
                endpoint=report_type,
                excerpt=excerpt(body),
            )
        job = cls(requester, token=token, report_type=report_type, status_url=status_url)
        job._apply(data, body)
        return job

    def _ready(self) -> bool:
        return self.status == "complete" and self.url is not None

    def _apply(self, data: Any, body: bytes) -> None:
        """Take the status (and url) from a start or status answer."""
        endpoint = f"{self.report_type} status"
        if not isinstance(data, Mapping):
            raise ResponseValidationError(
                "the export status is not a JSON object",
                endpoint=endpoint,
                excerpt=excerpt(body),
            )
        status = data.get("status")
        if not isinstance(status, str):
            raise ResponseValidationError(
                "the export status answer has no 'status' string",
                endpoint=endpoint,
                excerpt=excerpt(body),
            )
        self.status = status
        if status == "pending":
            self.url = None
            return
        if status == "complete":
            url = data.get("url")
            problem = url_problem(url)
            if problem is not None:
                self.url = None
                raise ExportFailedError(
                    f"export job {self.token!r} ({self.report_type}) is complete but {problem}",
                    status=status,
                    job_token=self.token,
                )
            self.url = url
            return
        # Only pending and complete are documented (api-notes): anything else is a failure.
        self.url = None
        raise ExportFailedError(
            f"export job {self.token!r} ({self.report_type}) reported status {status!r}; "
            "only 'pending' and 'complete' are documented",
            status=status,
            job_token=self.token,
        )

    async def _poll(self) -> None:
        # Through request_json: the token's shared rate window, and its retries on 429/5xx.
        data, body = await self._requester.request_json(
            "GET",
            self.status_url,
            endpoint=f"{self.report_type} status",
            params={"token": self.token},
        )
        self._apply(data, body)

    async def wait(
        self,
        timeout: float = DEFAULT_EXPORT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> ExportJob:
        """Poll the job until it is complete, and return it with ``url`` set.

        Schedule: the first poll ``poll_interval`` seconds after the call, then intervals
        growing by ``POLL_GROWTH``: interval k (k = 0, 1, ...) is
        ``min(poll_interval * 1.5**k, max(30, poll_interval))`` seconds (``POLL_MAX_INTERVAL``
        is 30 s). With the defaults, ``timeout=600`` and ``poll_interval=1``, the polls come
        1, 2.5, 4.75, 8.1, 13.2, 20.8, 32.2, 49.3 and 74.9 s after the call, then every 30 s:
        27 polls in 10 minutes. A sleep never runs past the deadline: the last one is cut
        short, the job is polled once more at the deadline, and if it is still pending
        ``ExportTimeoutError`` is raised. A job already complete returns at once, with no
        request.

        Each poll is one ``GET status_url?token=<job token>`` sent like every API request:
        through the token's shared rate window (polls count toward the 100 requests per 5
        minutes) and with its retries on 408/429/5xx. The deadline is checked between polls,
        so a poll that is being retried can end up to one poll's duration past it.

        The timeout bounds the wait, not the job: after ``ExportTimeoutError`` the job keeps
        running on the server. Keep ``job.token`` and resume with
        ``client.export_job(token, report_type)``; never start a second export to "retry".

        Raises:
            ExportFailedError: the job reported a status other than ``pending``/``complete``,
                or ``complete`` without an http(s) ``url``.
            ExportTimeoutError: still pending when ``timeout`` seconds had passed.
            TypeError, ValueError: ``timeout`` or ``poll_interval`` is not a finite number
                above 0. Nothing is sent.
        """
        timeout = check_positive(timeout, "timeout")
        poll_interval = check_positive(poll_interval, "poll_interval")
        if self._ready():
            return self
        started = _now()
        deadline = started + timeout
        interval = poll_interval
        cap = max(POLL_MAX_INTERVAL, poll_interval)
        while True:
            await _sleep(max(0.0, min(interval, deadline - _now())))
            await self._poll()
            if self._ready():
                return self
            now = _now()
            if now >= deadline:
                raise ExportTimeoutError(
                    f"export job {self.token!r} ({self.report_type}) was still "
                    f"{self.status} after {now - started:.1f} s (timeout={timeout:g} s). The "
                    f"job keeps running on the server: resume with client.export_job("
                    f"{self.token!r}, report_type={self.report_type!r})",
                    job_token=self.token,
                    waited=now - started,
                )
            interval = min(interval * POLL_GROWTH, cap)

    async def _file_url(self, refresh: bool) -> str:
        """The CSV's URL for ``FileStream``: waits with the defaults if the job is pending."""
        if refresh:
            # The file host refused the URL (403): a pre-signed URL expires, so ask once more.
            await self._poll()
            if not self._ready():
                raise DownloadError(
                    "the download URL was refused (403); it may have expired, and the job "
                    f"now reports status {self.status!r}"
                )
        elif not self._ready():
            await self.wait()
        assert self.url is not None
        return self.url

    def _stream(self, progress: ProgressCallback | None = None) -> FileStream:
        return FileStream(
            self._requester.http,
            self._file_url,
            timeout=self._requester.timeout,
            max_retries=self._requester.max_retries,
            progress=progress,
        )

    async def download(
        self,
        path: str | PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        fsync: bool = False,
    ) -> Path:
        """Download the CSV to ``path``, atomically and verified; return ``path`` as a Path.

        ``path`` is checked before anything is sent: a ``str`` or ``os.PathLike[str]`` whose
        directory exists, that is not a directory itself. If the job is not complete yet this
        first calls ``wait()`` with its defaults (600 s, polls from 1 s); call ``wait()``
        yourself for another timeout.

        The bytes go to a hidden temporary file beside ``path``
        (``.<name>.<random>.part``), which replaces ``path`` (``os.replace``) only once the
        download is whole and verified; see ``FileStream`` in ``_download.py`` for the
        resume, restart, 403-refresh and verification rules. On any failure or cancellation
        the temporary file is removed and an existing ``path`` is left untouched.

        The rename makes the download atomic against a crash of the process. With
        ``fsync=True`` the file and its directory are also flushed to disk, so it is atomic
        against a power loss too (at the cost of waiting for the disk).

        ``progress(bytes_done, bytes_total)`` is called for each chunk received, with raw
        byte counts (``bytes_total`` is the full ``Content-Length``, or None); keep it cheap.
        No credential is sent to the file host.

        Raises:
            DownloadError: the file could not be fetched whole and verified.
            ExportFailedError, ExportTimeoutError: from the wait.
            TypeError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
                PermissionError: a bad ``path`` (nothing sent).
        """
        dest = check_download_args(path, progress, fsync)
        if not self._ready():
            await self.wait()
        return await download_to_path(
            self._requester.http,
            self._file_url,
            dest,
            timeout=self._requester.timeout,
            max_retries=self._requester.max_retries,
            progress=progress,
            fsync=fsync,
        )

    def iter_bytes(self) -> ExportStream[bytes]:
        """The CSV's bytes (decoded if sent gzip-encoded), as they arrive.

        Waits for the job first if needed (``wait()`` defaults). The stream resumes after a
        dropped connection and never yields a byte twice; it is verified like ``download()``,
        so a ``DownloadError`` can come after the last chunk: discard what you read if so.
        Use ``async with job.iter_bytes() as chunks:`` to close it deterministically.
        """
        return ExportStream(self._stream().chunks())

    def iter_rows(self) -> ExportStream[dict[str, str]]:
        """One ``dict[str, str]`` per CSV record, keyed by the file's own header row.

        Same stream as ``iter_bytes()``, parsed by ``iter_csv_rows`` (quoted commas and line
        breaks, CRLF, a BOM and multi-byte characters split across chunks are all handled;
        malformed CSV or bad UTF-8 raises ``ExportFormatError``). Use
        ``async with job.iter_rows() as rows:`` to close it deterministically.
        """
        return ExportStream(self._rows())

    async def _rows(self) -> AsyncGenerator[dict[str, str], None]:
        # Closing this generator must close both below it: an async generator only closes
        # an inner one it explicitly acloses, so each level is closed in a finally.
        chunks = self._stream().chunks()
        try:
            rows = iter_csv_rows(chunks)
            try:
                async for row in rows:
                    yield row
            finally:
                aclose = getattr(rows, "aclose", None)
                if aclose is not None:
                    await aclose()
        finally:
            await chunks.aclose()
