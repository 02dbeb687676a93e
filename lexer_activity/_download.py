"""The bytes of a finished export: one resumable, verifying stream, and the atomic file writer.

``ExportJob.download()``, ``iter_bytes()`` and ``iter_rows()`` all read the file through
``FileStream.chunks()``, so all three resume, restart and verify the same way.

**No credentials reach the file host.** The status answer's ``url`` is a pre-signed URL that
carries its own credentials, and S3 refuses a request that carries a second one (api-notes).
Each request is built here with only ``Accept-Encoding``, ``Range`` and ``If-Range`` and sent
with ``auth=None`` and ``follow_redirects=False``: neither the ``Auth-Api-Token`` header nor an
injected client's default headers, cookies or auth are sent, while its transport, mounts and
proxies still apply. Redirects are not followed because httpx rebuilds a redirected request
with the client's cookies; the vendor's own instruction (``curl <CSV File Location>``) does
not follow them either.

**Raw bytes are what is counted.** The body is read raw (see ``_raw_body``). ``Content-Length``,
``Range``, ``Content-Range`` and an S3 ETag all describe the bytes as sent, so a body with
``Content-Encoding: gzip`` is counted and hashed raw and decoded here with zlib, in pieces of
at most ``DOWNLOAD_DECODE_LIMIT`` bytes.

**Writes are plain blocking writes, batched.** Measured: offloading every 64 KiB write to a
thread (``anyio.open_file``, aiofiles) roughly halves throughput, and
``aiter_bytes(chunk_size=1 MiB)`` is ~30% slower than the transport's own chunks. A
``BufferedWriter`` of ``DOWNLOAD_WRITE_BATCH`` (1 MiB) bytes turns the 64 KiB chunks into one
``write(2)`` per MiB, which blocks the event loop for well under a millisecond each.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import os
import queue
import re
import secrets
import threading
import zlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import anyio
import httpx

from ._constants import (
    DOWNLOAD_DECODE_LIMIT,
    DOWNLOAD_HASH_BACKLOG,
    DOWNLOAD_HASH_BATCH,
    DOWNLOAD_WRITE_BATCH,
)
from ._errors import DownloadError
from ._retry import backoff_delay, is_retryable_status

__all__ = [
    "FileStream",
    "GetUrl",
    "ProgressCallback",
    "check_destination",
    "check_download_args",
    "check_download_url",
    "download_to_path",
    "redact_url",
]

log = logging.getLogger("lexer_activity")

ProgressCallback = Callable[[int, "int | None"], object]
"""``progress(bytes_done, bytes_total)``: raw bytes of the file received, and the file's full
``Content-Length`` (``None`` when the server did not send one)."""

GetUrl = Callable[[bool], Awaitable[str]]
"""``get_url(refresh)``: the file's URL, waiting for the job if needed; with ``refresh=True``,
a fresh one from one status poll (after a 403)."""

# A connection that failed mid-way: resume from the last byte received. Other transport
# errors (UnsupportedProtocol, LocalProtocolError, ProxyError) are not transient.
_RESUMABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
# An S3 ETag is the MD5 of the object unless it was a multipart upload ("<md5>-<parts>") or
# encrypted with SSE-KMS; only a bare 32-hex-digit ETag is taken as an MD5 of the bytes.
_MD5_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class _Retryable(Exception):
    """An answer that may be tried again: a 408/429/5xx, or a 206 that does not continue."""


_FAILED_ATTEMPT = (_Retryable, *_RESUMABLE)


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, _Retryable) else f"{type(exc).__name__}: {exc}"


def redact_url(url: str) -> str:
    """``url`` without its query and user info, for messages and logs.

    A pre-signed URL's query is a credential (``X-Amz-Signature``...): never print it.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else "<not a URL>"


def url_problem(url: object, what: str = "the download url") -> str | None:
    """Why ``url`` (named ``what`` in the answer) cannot be fetched, or None if it can.

    Only absolute http(s) URLs with a host (and a valid port) pass; anything httpx would
    choke on later is refused here, so it surfaces as an export error, not an httpx one.
    The URL itself is never quoted: a pre-signed URL's query is a credential.
    """
    if url is None:
        return f"there is no {what.removeprefix('the ')}"
    if not isinstance(url, str):
        return f"{what} is a {type(url).__name__}, not a string"
    if not url.strip():
        return f"{what} is empty"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url) or not url.isascii():
        return f"{what} contains spaces, control or non-ASCII characters"
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError, TypeError, UnicodeError, OverflowError):
        return f"{what} is not a valid URL"
    if parsed.scheme not in ("http", "https"):
        why = f"has the scheme {parsed.scheme!r}" if parsed.scheme else "is not absolute"
        return f"{what} {why}; only http and https URLs are fetched"
    if not parsed.host:
        return f"{what} has no host"
    if port is not None and not 0 < port < 65536:
        return f"{what} has an invalid port"
    return None


def check_download_url(url: object) -> str:
    """``url`` if it can be downloaded (see ``url_problem``); else ``DownloadError``."""
    problem = url_problem(url)
    if problem is not None:
        raise DownloadError(f"refusing to download: {problem}")
    assert isinstance(url, str)
    return url


def check_destination(path: object) -> Path:
    """The destination file of a download, checked before anything is sent.

    ``path`` is a ``str`` or ``os.PathLike[str]``; its directory must exist and be
    writable; it must not be a directory itself. An existing file is replaced only once the
    new one has been downloaded and verified.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    raw = os.fspath(path)
    if not isinstance(raw, str):
        raise TypeError("path must be a str path, not bytes")
    if not raw.strip():
        raise ValueError("path must not be empty")
    dest = Path(raw)
    if dest.is_dir():
        raise IsADirectoryError(
            f"path {raw!r} is a directory; pass a file path such as "
            f"{str(dest / 'export.csv')!r}"
        )
    parent = dest.parent
    if not parent.exists():
        raise FileNotFoundError(
            f"cannot write {raw!r}: its directory {str(parent)!r} does not exist"
        )
    if not parent.is_dir():
        raise NotADirectoryError(f"cannot write {raw!r}: {str(parent)!r} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {raw!r}: the directory {str(parent)!r} is read-only")
    return dest


def check_download_args(path: object, progress: object, fsync: object) -> Path:
    """``check_destination(path)``, plus ``progress`` (a plain callable or None) and ``fsync``."""
    dest = check_destination(path)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable or None, not {type(progress).__name__}")
    if inspect.iscoroutinefunction(progress):
        # It is called synchronously per chunk; a coroutine would never run.
        raise TypeError("progress must be a plain function, not an async one")
    if not isinstance(fsync, bool):
        raise TypeError(f"fsync must be a bool, not {type(fsync).__name__}")
    return dest


def _strong_etag(value: str | None) -> str | None:
    # A weak ETag (W/"...") may not be used in If-Range (RFC 9110 13.1.5) and says nothing
    # about the bytes, so it is ignored entirely.
    if value is None:
        return None
    value = value.strip()
    if not value or value.startswith("W/"):
        return None
    return value


def _md5_of(etag: str | None) -> str | None:
    match = _MD5_ETAG.match(etag) if etag else None
    return match.group(1).lower() if match else None


def _length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _gzipped(headers: httpx.Headers) -> bool:
    value = headers.get("content-encoding", "").strip().lower()
    if value in ("", "identity"):
        return False
    if value in ("gzip", "x-gzip"):
        return True
    # We ask for gzip only (Accept-Encoding), so anything else is the server's error.
    raise DownloadError(f"the file host sent Content-Encoding {value!r}; only gzip is supported")


class _Gunzip:
    """Decodes a gzip body, one member or several, in pieces of bounded size."""

    __slots__ = ("_fed", "_z")

    def __init__(self) -> None:
        self._z = zlib.decompressobj(_GZIP_WBITS)
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = True
        try:
            while data:
                if self._z.eof:
                    # Concatenated members are one valid gzip stream (RFC 1952 2.2).
                    self._z = zlib.decompressobj(_GZIP_WBITS)
                z = self._z
                out = z.decompress(data, DOWNLOAD_DECODE_LIMIT)
                if out:
                    yield out
                data = z.unused_data if z.eof else z.unconsumed_tail
        except zlib.error as exc:
            raise DownloadError(f"the gzip-encoded body is corrupt: {exc}") from None

    def finish(self) -> bytes:
        if not self._fed:
            return b""
        try:
            tail = self._z.flush()
        except zlib.error as exc:
            raise DownloadError(f"the gzip-encoded body is corrupt: {exc}") from None
        if not self._z.eof:
            raise DownloadError("the gzip-encoded body ended before its end marker")
        return tail


class _BackgroundMD5:
    """The MD5 of the raw bytes, computed by one worker thread while the event loop reads on.

    MD5 runs at ~0.8 GB/s on one core, about the speed of the whole download on loopback, so
    hashing inline on the event loop made a verified 1 GiB download ~0.55x as fast as an
    unverified one. hashlib releases the GIL while it hashes, so a thread overlaps hashing
    with reading (~0.85x in the best runs on a 2-vCPU VM that also ran the server). The
    chunks (not copies) go to the thread in batches of ``DOWNLOAD_HASH_BATCH`` (1 MiB), each
    joined and hashed in one call so that the GIL changes hands twice per batch, not per
    chunk. When ``DOWNLOAD_HASH_BACKLOG`` (4) batches are waiting, ``update`` blocks until
    the thread catches up: never slower than hashing inline, and at most ~7 MiB held. A file
    smaller than one batch is hashed inline and starts no thread.
    """

    __slots__ = ("_batch", "_error", "_md5", "_queue", "_size", "_thread")

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._batch: list[bytes] = []
        self._size = 0
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(DOWNLOAD_HASH_BACKLOG)
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None

    def update(self, data: bytes) -> None:
        self._batch.append(data)
        self._size += len(data)
        if self._size >= DOWNLOAD_HASH_BATCH:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lexer-activity-md5", daemon=True
                )
                self._thread.start()
            self._queue.put(self._batch)
            self._batch = []
            self._size = 0

    def _run(self) -> None:
        update = self._md5.update
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep draining: a blocked put() would freeze the event loop
            try:
                # One call per batch: hashlib drops the GIL for the whole MiB, not per chunk.
                update(b"".join(batch))
            except Exception as exc:  # pragma: no cover - MemoryError, in practice
                self._error = exc

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        """The digest of everything updated; waits for the thread (a few MiB of hashing)."""
        self._stop()
        if self._error is not None:  # pragma: no cover
            raise DownloadError(f"could not hash the download: {self._error!r}")
        for piece in self._batch:
            self._md5.update(piece)
        self._batch = []
        return self._md5.hexdigest()

    def close(self) -> None:
        """Stop the thread without a digest (the stream failed or was abandoned)."""
        self._batch = []
        self._stop()


async def _close(response: httpx.Response) -> None:
    """Close a response so that its connection goes back to the pool, even when cancelled.

    An anyio shield stops anyio cancel scopes but not a plain asyncio ``Task.cancel()``,
    which would interrupt httpcore halfway through releasing the connection and leave it
    busy for good. On asyncio the close therefore runs as its own task, which a cancel of
    this one cannot interrupt.
    """
    with anyio.CancelScope(shield=True):
        if _on_asyncio():
            await asyncio.shield(response.aclose())
        else:  # pragma: no cover - trio
            await response.aclose()


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _raw_body(response: httpx.Response) -> httpx.AsyncByteStream:
    """The raw body, without ``aiter_raw()``'s own close at its end.

    ``aiter_raw()`` closes the response when the body ends, and that close awaits a lock in
    httpcore: a cancellation that lands there leaves the pooled connection marked busy
    forever, and the response marked closed, so no later close can free it. Reading the
    stream itself leaves the one close to ``_close``, which shields it.
    """
    stream = response.stream
    if not isinstance(stream, httpx.AsyncByteStream):  # pragma: no cover - sync transport
        raise TypeError("the HTTP client's transport returned a synchronous stream")
    return stream


class FileStream:
    """One pass over the export file: resumed, restarted and verified as needed.

    ``chunks()`` yields the file's decoded bytes, each byte exactly once, and raises
    ``DownloadError`` when they cannot all be fetched and verified.

    - **Resume.** When the connection fails mid-body (a timeout, a network error, a
      ``RemoteProtocolError``), the next request asks for ``Range: bytes=N-`` (with
      ``If-Range: <ETag>`` when the first answer had a strong ETag), where N is the raw bytes
      received so far. Only a 206 whose ``Content-Range`` is ``bytes N-(total-1)/total`` for
      the same total (and the same ETag and encoding) is read; any other 206 is a failed
      attempt and its body is never used.
    - **Restart.** A 200 to a ranged request (the server ignored ``Range``, or the file
      changed and ``If-Range`` said so) is the whole file again. With ``on_restart`` (the
      file writer) the consumer is told to start over; without it (the iterators) the bytes
      the consumer already has are read and discarded, so none is yielded twice. An iterator
      whose file changed (a different ETag) cannot start over and raises.
    - **Retries.** Attempts that fail without receiving a new byte (beyond the furthest point
      reached so far) count; after ``max_retries`` of them in a row the stream raises. Before
      every new attempt it waits ``backoff_delay(k)`` (0.25-0.5 s, 0.5-1 s, ... with the
      defaults; ``k`` the number of such failures in a row, minus one). 408, 429 and 5xx
      answers are failed attempts too; other error statuses raise at once.
    - **Expired URL.** A 403 polls the job status once (``get_url(True)``) for a fresh URL;
      a second 403 before any byte arrives from the fresh URL raises.
    - **Verification** at the end: the raw byte count equals ``Content-Length`` (when sent);
      the MD5 of the raw bytes equals the ETag when the ETag is a plain MD5; a gzip body
      reached its end marker.

    ``progress(bytes_done, bytes_total)`` is called once per chunk received, with raw byte
    counts; after a restart ``bytes_done`` starts again from 0.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        get_url: GetUrl,
        *,
        timeout: httpx.Timeout,
        max_retries: int,
        progress: ProgressCallback | None = None,
        on_restart: Callable[[], object] | None = None,
    ) -> None:
        self._http = http
        self._get_url = get_url
        self._timeout = timeout.as_dict()
        self._max_retries = max_retries
        self._progress = progress
        self._on_restart = on_restart
        self.offset = 0  # raw bytes of the file accepted so far
        self.total: int | None = None  # the file's full raw size, when announced
        self.etag: str | None = None  # the file's strong ETag, from the first answer
        self._gzip = False
        self._started = False  # an answer with the file's first byte has been accepted
        self._md5: _BackgroundMD5 | None = None
        self._expected_md5: str | None = None
        self._decoder: _Gunzip | None = None
        self._delivered = 0  # decoded bytes the consumer already has
        self._position = 0  # decoded bytes produced by the current pass over the file

    def _received(self) -> str:
        total = "an unknown number of" if self.total is None else str(self.total)
        return f"{self.offset} of {total} bytes received"

    async def _send(self, url: str) -> httpx.Response:
        headers = {"Accept-Encoding": "gzip"}
        if self.offset:
            headers["Range"] = f"bytes={self.offset}-"
            if self.etag is not None:
                headers["If-Range"] = self.etag
        request = httpx.Request("GET", url, headers=headers, extensions={"timeout": self._timeout})
        return await self._http.send(request, stream=True, auth=None, follow_redirects=False)

    def _begin(self, response: httpx.Response, total: int | None, etag: str | None) -> None:
        """Accept an answer that starts at the file's first byte."""
        changed = self.etag is not None and etag is not None and etag != self.etag
        if changed and self._on_restart is None and self._delivered:
            raise DownloadError(
                f"the file changed on the server while it was read (ETag {self.etag} "
                f"became {etag}); an iterator cannot start over without repeating data"
            )
        if self.offset:
            log.warning(
                "download: the file host answered %s to a ranged request (%s); starting over",
                response.status_code,
                "the file changed" if changed else "Range ignored",
            )
        self._started = True
        self.offset = 0
        self.total = total
        self.etag = etag
        self._gzip = _gzipped(response.headers)
        self._decoder = _Gunzip() if self._gzip else None
        self._expected_md5 = _md5_of(etag)
        if self._md5 is not None:
            self._md5.close()
        self._md5 = _BackgroundMD5() if self._expected_md5 else None
        self._position = 0
        if self._delivered and self._on_restart is not None:
            self._on_restart()
            self._delivered = 0

    def _accept(self, response: httpx.Response) -> None:
        """Check an answer's status and headers before any of its body is read."""
        status = response.status_code
        headers = response.headers
        if status not in (200, 206):
            if is_retryable_status(status):
                raise _Retryable(f"the file host answered {status} {response.reason_phrase}")
            if 300 <= status < 400:
                raise DownloadError(
                    f"the file host answered {status} (a redirect); redirects are not followed "
                    "because the redirected request could carry the HTTP client's cookies"
                )
            raise DownloadError(
                f"the file host answered {status} {response.reason_phrase} for "
                f"{redact_url(str(response.url))} ({self._received()})"
            )
        etag = _strong_etag(headers.get("etag"))
        if status == 200:
            self._begin(response, _length(headers), etag)
            return
        match = _CONTENT_RANGE.match(headers.get("content-range", ""))
        expected = f"bytes {self.offset}-{'' if self.total is None else self.total - 1}/"
        expected += "<total>" if self.total is None else str(self.total)
        if match is None or match.group(3) == "*":
            raise _Retryable(
                f"a 206 answer with Content-Range {headers.get('content-range')!r}, "
                f"expected {expected!r}"
            )
        first, last, total = (int(match.group(i)) for i in (1, 2, 3))
        length = _length(headers)
        if (
            first != self.offset
            or last != total - 1
            or (self.total is not None and total != self.total)
            or (length is not None and length != total - first)
        ):
            raise _Retryable(
                f"a 206 answer for {headers['content-range']!r} (Content-Length "
                f"{length}), expected {expected!r}"
            )
        if not self._started:
            # A 206 to a request without Range, covering the whole file.
            self._begin(response, total, etag)
            return
        if self.etag is not None and etag is not None and etag != self.etag:
            raise DownloadError(
                f"the file changed on the server during the download (ETag {self.etag}, "
                f"then {etag}); the server ignored If-Range ({self._received()})"
            )
        if _gzipped(headers) != self._gzip:
            raise DownloadError(
                "the file host changed the Content-Encoding between requests, so its bytes "
                f"cannot be joined ({self._received()})"
            )
        self.total = total

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The file's decoded bytes, each exactly once; see the class docstring."""
        url = check_download_url(await self._get_url(False))
        progress = self._progress
        high_water = 0  # the furthest raw offset any attempt reached
        stalls = 0  # attempts in a row that failed without passing high_water
        refreshed = False  # url came from a 403 refresh and has delivered nothing yet
        try:
            while True:
                response: httpx.Response | None = None
                try:
                    response = await self._send(url)
                    if response.status_code == 403:
                        await _close(response)
                        response = None
                        if refreshed:
                            raise DownloadError(
                                "the download URL was refused (403); it may have expired, and "
                                "the fresh URL from the job status was refused too "
                                f"({self._received()})"
                            )
                        log.warning("download: 403 from the file host; asking for a fresh URL")
                        url = check_download_url(await self._get_url(True))
                        refreshed = True
                        continue
                    self._accept(response)
                    total = self.total
                    md5 = self._md5
                    decoder = self._decoder
                    async for raw in _raw_body(response):
                        end = self.offset + len(raw)
                        if total is not None and end > total:
                            raise DownloadError(
                                f"the file host sent more than the {total} bytes it announced"
                            )
                        if md5 is not None:
                            md5.update(raw)
                        self.offset = end
                        refreshed = False
                        if progress is not None:
                            progress(end, total)
                        for piece in (raw,) if decoder is None else decoder.feed(raw):
                            stop = self._position + len(piece)
                            if stop > self._delivered:
                                if self._position < self._delivered:
                                    # Restarted without on_restart: drop what was yielded before.
                                    piece = piece[self._delivered - self._position :]
                                self._position = self._delivered = stop
                                yield piece
                            else:
                                self._position = stop
                    break
                except _FAILED_ATTEMPT as exc:
                    if (
                        not isinstance(exc, _Retryable)
                        and self.total is not None
                        and self.offset == self.total
                    ):
                        break  # every byte arrived; only the end of the exchange was lost
                    if self.offset > high_water:
                        high_water = self.offset
                        stalls = 0
                    else:
                        stalls += 1
                        if stalls > self._max_retries:
                            raise DownloadError(
                                f"download failed after {stalls} attempts in a row without "
                                f"progress ({self._received()}); last error: {_describe(exc)}"
                            ) from exc
                    delay = backoff_delay(max(stalls - 1, 0))
                    log.warning(
                        "download: %s (%s); resuming in %.2f s",
                        _describe(exc), self._received(), delay,
                    )
                    await anyio.sleep(delay)
                finally:
                    if response is not None:
                        await _close(response)
            for piece in self._finish():
                yield piece
        finally:
            # The hashing thread must not outlive a stream that failed or was abandoned.
            if self._md5 is not None:
                self._md5.close()

    def _finish(self) -> Iterator[bytes]:
        if self.total is not None and self.offset != self.total:
            raise DownloadError(
                f"the download ended after {self.offset} bytes, but Content-Length announced "
                f"{self.total}"
            )
        if self._md5 is not None:
            digest = self._md5.hexdigest()
            if digest != self._expected_md5:
                raise DownloadError(
                    f"the downloaded bytes do not match the file's ETag: MD5 {digest}, "
                    f"expected {self._expected_md5}"
                )
        if self._decoder is not None:
            tail = self._decoder.finish()
            if tail:
                stop = self._position + len(tail)
                if stop > self._delivered:
                    tail = tail[max(self._delivered - self._position, 0) :]
                    self._position = self._delivered = stop
                    yield tail


def _open_temp(dest: Path) -> tuple[Path, BinaryIO]:
    # O_EXCL with a random name: never reuse or clobber another download's file. Mode 0o666
    # before the umask gives the finished file the permissions of any new file (mkstemp's
    # 0o600 would survive the rename).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    # File names are limited in bytes (255 on most systems), not characters: cut the stem to
    # 100 bytes of UTF-8 without splitting a character.
    stem = dest.name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore")
    for _ in range(100):
        temp = dest.with_name(f".{stem}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        return temp, open(fd, "wb", buffering=DOWNLOAD_WRITE_BATCH)
    raise FileExistsError(f"could not create a temporary file beside {str(dest)!r}")


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def download_to_path(
    http: httpx.AsyncClient,
    get_url: GetUrl,
    dest: Path,
    *,
    timeout: httpx.Timeout,
    max_retries: int,
    progress: ProgressCallback | None = None,
    fsync: bool = False,
) -> Path:
    """Stream the file into a hidden temporary file beside ``dest``, then rename it there.

    The temporary file (``.<name>.<random>.part``) is renamed over ``dest`` with
    ``os.replace`` only after every check of ``FileStream`` passed. On any failure or
    cancellation it is removed and ``dest`` is left as it was. ``fsync=True`` flushes the
    file and its directory to disk, so the rename survives a power loss too.
    """
    temp, file = _open_temp(dest)

    def restart() -> None:
        file.seek(0)
        file.truncate()

    stream = FileStream(
        http,
        get_url,
        timeout=timeout,
        max_retries=max_retries,
        progress=progress,
        on_restart=restart,
    )
    try:
        chunks = stream.chunks()
        try:
            write = file.write
            async for chunk in chunks:
                write(chunk)
        finally:
            await chunks.aclose()
        file.flush()
        if fsync:
            os.fsync(file.fileno())
        file.close()
        os.replace(temp, dest)
    except BaseException:
        file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if fsync:
        _fsync_directory(dest.parent)
    return dest
