"""The file host: stored files, S3-style pre-signed URLs, ranges and S3 error bodies."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import os
import re
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from ._config import CHUNK_SIZE, URL_EXPIRES

DOWNLOAD_PREFIX = "/downloads/"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Blob:
    """One stored file. Size is known at once; the MD5 (the ETag) is computed on demand."""

    def __init__(self, name: str, path: Path, size: int, md5: str | None = None) -> None:
        self.name = name
        self.path = path
        self.size = size
        self._md5 = md5
        self._lock = threading.Lock()
        self._gzipped: Blob | None = None

    @property
    def has_md5(self) -> bool:
        """Whether the MD5 is known already (md5() will not read the file)."""
        return self._md5 is not None

    def md5(self) -> str:
        """Hex MD5 of the stored bytes; blocking, so call it off the event loop."""
        with self._lock:
            if self._md5 is None:
                digest = hashlib.md5()
                with self.path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        digest.update(chunk)
                self._md5 = digest.hexdigest()
            return self._md5

    def gzipped(self, directory: Path) -> Blob:
        """The gzip-encoded variant, made once in ``directory``; blocking."""
        with self._lock:
            if self._gzipped is None:
                # Never beside a published file: that directory belongs to the caller.
                target = directory / f"{self.name}.gz"
                # mtime=0 keeps the compressed bytes, hence the ETag, reproducible.
                with (
                    self.path.open("rb") as source,
                    target.open("wb") as raw,
                    gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed,
                ):
                    shutil.copyfileobj(source, packed, CHUNK_SIZE)
                self._gzipped = Blob(self.name, target, target.stat().st_size)
            return self._gzipped

    def read(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` inclusive, in CHUNK_SIZE pieces, straight from disk.

        The reads are blocking but each is one page-cache copy of 64 KiB, cheaper than a
        thread hop per piece; memory stays at one piece whatever the file's size.
        """
        with self.path.open("rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                piece = handle.read(min(CHUNK_SIZE, remaining))
                if not piece:
                    return
                remaining -= len(piece)
                yield piece


class HashingWriter:
    """A text sink for csv.writer that writes UTF-8 to disk and hashes as it goes."""

    def __init__(self, path: Path) -> None:
        self._handle = path.open("wb", buffering=1 << 20)
        self._digest = hashlib.md5()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._digest.update(data)
        self._handle.write(data)
        self.size += len(data)
        return len(text)

    def close(self) -> str:
        """Close the file; return the hex MD5 of everything written."""
        self._handle.close()
        return self._digest.hexdigest()


class FileStore:
    """Files served by the download route, in ``work_dir`` or a private temporary dir."""

    def __init__(self, work_dir: str | os.PathLike[str] | None, secret: bytes) -> None:
        self._given = Path(work_dir) if work_dir is not None else None
        self._made: Path | None = None
        self._cleanup: weakref.finalize | None = None  # type: ignore[type-arg]
        self._secret = secret
        self._lock = threading.Lock()
        self._blobs: dict[str, Blob] = {}
        self._counter = 0

    @property
    def directory(self) -> Path:
        """Where new files go; a temporary directory is made on first use only."""
        with self._lock:
            if self._given is not None:
                self._given.mkdir(parents=True, exist_ok=True)
                return self._given
            if self._made is None:
                self._made = Path(tempfile.mkdtemp(prefix="lexer-sandbox-"))
                # Removed on close(), or when the store is collected, or at exit at the latest.
                self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._made), True)
            return self._made

    def unique_name(self, wanted: str) -> str:
        """A URL-safe name no stored file uses yet."""
        base = _SAFE_NAME.sub("_", wanted).strip("._") or "file"
        with self._lock:
            name = base
            while name in self._blobs:
                self._counter += 1
                name = f"{self._counter}-{base}"
            return name

    def add(self, blob: Blob) -> None:
        with self._lock:
            self._blobs[blob.name] = blob

    def get(self, name: str) -> Blob | None:
        with self._lock:
            return self._blobs.get(name)

    def publish(self, source: bytes | str | os.PathLike[str], name: str | None) -> Blob:
        """Serve ``source``: bytes are written to the work dir, a path is served in place."""
        if isinstance(source, bytes | bytearray | memoryview):
            name = self.unique_name(name or "published.bin")
            path = self.directory / name
            path.write_bytes(bytes(source))
            blob = Blob(name, path, path.stat().st_size, hashlib.md5(bytes(source)).hexdigest())
        else:
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"no such file: {path}")
            name = self.unique_name(name or path.name)
            blob = Blob(name, path, path.stat().st_size)
        self.add(blob)
        return blob

    def close(self) -> None:
        """Delete the temporary directory, if one was made. Files in work_dir stay."""
        if self._cleanup is not None:
            self._cleanup()

    # Pre-signed URLs, after S3's query-string authentication.

    def _signature(self, name: str, amz_date: str, expires: str) -> str:
        message = f"{name}\n{amz_date}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def signed_path(self, name: str, now: datetime, expires: int = URL_EXPIRES) -> str:
        """Path and query of a URL for ``name``, valid ``expires`` seconds from ``now``."""
        amz_date = now.astimezone(timezone.utc).strftime(_AMZ_DATE)
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": self._signature(name, amz_date, str(expires)),
        }
        return f"{DOWNLOAD_PREFIX}{quote(name)}?{urlencode(query)}"

    def check_signature(self, name: str, params: Mapping[str, str], now: datetime) -> str | None:
        """None if the URL is valid now; else the key of the S3 error to answer with."""
        amz_date = params.get("X-Amz-Date", "")
        expires = params.get("X-Amz-Expires", "")
        signature = params.get("X-Amz-Signature", "")
        if not (amz_date and expires and signature):
            return "missing"
        expected = self._signature(name, amz_date, expires)
        if not hmac.compare_digest(expected, signature):
            return "signature"
        try:
            signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=timezone.utc)
            lifetime = int(expires)
        except ValueError:
            return "signature"
        if now > signed_at + timedelta(seconds=lifetime):
            return "expired"
        return None


class RangeNotSatisfiable(Exception):
    """The Range header asks for bytes past the end of the file."""


_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range asked for, or None to serve the whole file.

    Like S3: one range only (a list, or anything malformed, is ignored and the whole file
    sent), ``N-``, ``N-M`` and ``-N`` (the last N bytes) are honoured, an end past the file
    is clamped, and a start at or past the end raises RangeNotSatisfiable.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # syntactically invalid: ignored, per RFC 9110
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(int(last), size - 1) if last else size - 1


# S3's own codes and messages, so a client's error report reads as it would against S3.
_S3_MESSAGES = {
    "missing": (
        "AccessDenied",
        "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
        "parameters",
    ),
    "signature": (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "expired": ("AccessDenied", "Request has expired"),
    "two_auth": (
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
        "Signature query string parameter or the Authorization header should be specified",
    ),
    "no_key": ("NoSuchKey", "The specified key does not exist."),
    "range": ("InvalidRange", "The requested range is not satisfiable"),
}


def s3_error(problem: str, **details: str) -> bytes:
    """An S3-style XML error document for ``problem`` (a key of the table above)."""
    code, message = _S3_MESSAGES[problem]
    extra = "".join(f"<{key}>{escape(value)}</{key}>" for key, value in details.items())
    request_id = hashlib.sha1(f"{problem}{details}".encode()).hexdigest()[:16].upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId><HostId>sandbox</HostId></Error>"
    ).encode()
