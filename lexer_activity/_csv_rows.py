"""Stream CSV records out of an async stream of raw byte chunks.

``iter_csv_rows`` turns an HTTP body (chunks of any size, split anywhere) into one
``dict[str, str]`` per record, keyed by the file's own header row. The exports it reads are
hundreds of MB of customer messages full of commas, quotes, line breaks and emoji, so it
must be exact, bounded in memory and about as fast as ``csv.DictReader`` over the whole text.

Design
------
The work for each chunk is three C-speed passes and no per-character Python:

1. **Strict incremental UTF-8 decode** with ``codecs.utf_8_decode(data, "strict", False)``.
   We keep the undecoded tail (at most 3 bytes of a split multi-byte character) ourselves
   rather than use ``codecs.getincrementaldecoder`` so that we always know the absolute byte
   offset of an invalid byte for the error message. Bytes are never replaced: a bad or a
   truncated sequence raises ``ExportFormatError`` naming the byte offset.

2. **Find the last record boundary in the new text only.** In CSV where every ``"`` opens or
   closes a quoted field or is half of a doubled ``""`` escape (RFC 4180, and what
   ``csv.writer`` writes), a ``\\n`` or ``\\r`` ends a record exactly when the number of
   ``"`` before it is even. The buffer we hold always starts at a record boundary, and we
   remember only the parity of its quote count, so each chunk is searched backwards with
   ``str.rfind``/``str.count`` from its end to its last even-parity newline (see
   ``_last_boundary``). The held text is never rescanned, which keeps a huge field that
   arrives in thousands of small chunks linear, not quadratic.

3. **Parse each complete batch** with ``csv.reader(io.StringIO(batch, newline=""))``. The
   ``newline=""`` reader splits lines only at ``\\r``, ``\\n`` and ``\\r\\n``, exactly like
   the csv module itself; ``str.splitlines`` (and httpx's ``aiter_lines``) would also split at
   U+2028, U+0085, ``\\x0b``, ``\\x0c`` and friends and corrupt fields that contain them.
   Dicts are built with ``map(dict, map(zip, repeat(header), rows))`` and the field count
   is checked with one ``set(map(len, rows))``, so the per-record cost is all C.

A chunk that ends with ``\\r`` is split after it; if the next chunk starts with the ``\\n`` of
a CRLF, the csv module reads that as a blank line, which is skipped like every blank line.

Memory is the held text, at most the largest record plus one chunk, plus the rows of one
chunk. The async generator buffers nothing beyond that.

Why ``strict=True``
-------------------
A ``"`` inside an *unquoted* field (``ab"c``) is outside RFC 4180 and flips the quote
parity, so a batch could end where the csv module thinks a quoted field is still open. With
the default ``strict=False`` the csv module would silently close that field at the batch end
and the record would come out wrong. With ``strict=True`` it raises instead, and so does
``"ab"c`` (text after a closing quote). The result for any chunking is therefore either
exactly ``csv.reader(io.StringIO(text, newline=""), strict=True)`` over the whole text (minus
blank rows) or an ``ExportFormatError``; never a silently wrong record. Well-formed CSV
always gives the former. For the same malformed input, memory can grow until the parity
evens out again.

The csv module's field size limit (131072 characters by default) is process-wide. We raise
it, only when a batch is longer than the current limit and only to that batch's length,
because a single customer message can legitimately be megabytes long.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from itertools import repeat

from ._errors import ExportFormatError

__all__ = ["iter_csv_rows"]


async def iter_csv_rows(chunks: AsyncIterable[bytes]) -> AsyncIterator[dict[str, str]]:
    """Yield one dict per CSV record from an async stream of raw UTF-8 byte chunks.

    Chunks may have any size and be split anywhere: inside a multi-byte character, inside a
    ``""`` escape, between the ``\\r`` and ``\\n`` of a CRLF.

    - Keys come from the first non-blank row (the header). A UTF-8 byte order mark at the
      start of the stream is dropped and never becomes part of the first column name.
    - Duplicate header names keep every column; later duplicates are renamed pandas-style:
      ``Name``, ``Name.1``, ``Name.2``. A generated name that already exists anywhere in the
      header (or was generated earlier) is skipped, so ``["a", "a", "a.1"]`` gives
      ``a``, ``a.2``, ``a.1``.
    - Values are the exact source text: quoted fields keep their commas, quotes (``""``
      becomes ``"``), LF and CRLF line breaks, and characters such as U+2028 or ``\\x0c``.
      Records may end with CRLF, LF or a lone CR. Blank lines are skipped.
    - An empty stream, or one with only a header, yields nothing.

    Raises:
        ExportFormatError: bytes that are not valid UTF-8 (including a multi-byte character
            cut off by the end of the stream), naming the 0-based byte offset; a record whose
            field count differs from the header's, naming the record number (1-based, header
            and blank lines not counted) and both counts; a quoted field still open at the
            end of the stream; other malformed CSV (see the module docstring).

    Closing the generator early (``break``, ``aclose()``) is fine; ``aclose()`` also closes
    the iterator it took from ``chunks``, e.g. an ``httpx`` ``aiter_bytes()`` generator.
    """
    decoder = _CSVRowDecoder()
    source = chunks.__aiter__()
    try:
        async for chunk in source:
            for row in decoder.feed(chunk):
                yield row
        for row in decoder.close():
            yield row
    finally:
        # We own the iteration we started; closing it releases the HTTP stream promptly
        # instead of whenever the garbage collector finalizes the source generator.
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


class _CSVRowDecoder:
    """The synchronous core of ``iter_csv_rows``: bytes in, record dicts out.

    Call ``feed`` with each chunk and ``close`` once at the end of the stream; each returns
    the records completed so far. The instance is single-use.
    """

    __slots__ = (
        "_closed",
        "_header",
        "_held",
        "_odd",
        "_offset",
        "_records",
        "_started",
        "_tail",
    )

    def __init__(self) -> None:
        self._tail = b""  # undecoded bytes: the start of a split multi-byte character
        self._offset = 0  # stream offset of self._tail[0], for error messages
        self._started = False  # False until the first character, which may be a BOM
        self._held: list[str] = []  # text after the last record boundary, in pieces
        self._odd = 0  # parity of the '"' count in self._held
        self._header: tuple[str, ...] | None = None
        self._records = 0  # records returned so far (header and blank lines excluded)
        self._closed = False

    @property
    def buffered_chars(self) -> int:
        """Characters held back because their record is not complete yet."""
        return sum(map(len, self._held))

    def feed(self, chunk: bytes) -> list[dict[str, str]]:
        """Take the next chunk; return the records it completes."""
        if self._closed:
            raise RuntimeError("feed() called after close()")
        text = self._decode(chunk, final=False)
        if not text:
            return []
        # Quotes in text[:b] sum to an even count with the held text, so the parity of the
        # remainder text[b:] is the parity of the whole, wherever the boundary b falls.
        odd_end = self._odd ^ (text.count('"') & 1)
        self._odd = odd_end
        b = _last_boundary(text, odd_end)
        if not b:
            self._held.append(text)
            return []
        held = self._held
        if held:
            held.append(text[:b])
            batch = "".join(held)
        else:
            batch = text if b == len(text) else text[:b]
        self._held = [text[b:]] if b < len(text) else []
        return self._parse(batch, final=False)

    def close(self) -> list[dict[str, str]]:
        """End of stream: return the last records.

        An unterminated last record is fine; a quoted field or a multi-byte character cut off
        by the end of the stream raises ``ExportFormatError``.
        """
        if self._closed:
            return []
        self._closed = True
        self._decode(b"", final=True)
        batch = "".join(self._held)
        self._held = []
        # An unterminated last record is fine; csv decides whether a quoted field is open.
        return self._parse(batch, final=True) if batch else []

    def _decode(self, chunk: bytes, *, final: bool) -> str:
        data = self._tail + chunk if self._tail else chunk
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            raise ExportFormatError(
                f"the CSV is not valid UTF-8: byte offset {self._offset + exc.start}: {exc.reason}"
            ) from exc
        self._tail = data[used:]
        self._offset += used
        if not self._started and text:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        return text

    def _parse(self, batch: str, *, final: bool) -> list[dict[str, str]]:
        """Parse text that ends at a record boundary (or at the end of the stream)."""
        if len(batch) > csv.field_size_limit():
            csv.field_size_limit(len(batch))
        try:
            rows = list(csv.reader(io.StringIO(batch, newline=""), strict=True))
        except csv.Error as exc:
            raise self._malformed(batch, exc, final=final) from exc

        header = self._header
        if header is None:
            start = 0
            while start < len(rows) and not rows[start]:
                start += 1
            if start == len(rows):
                return []
            header = self._header = _dedupe_header(rows[start])
            del rows[: start + 1]

        width = len(header)
        lengths = set(map(len, rows))
        if lengths != {width}:
            if 0 in lengths:
                rows = [row for row in rows if row]
                lengths.discard(0)
            if lengths - {width}:
                raise self._bad_width(rows, width)
        self._records += len(rows)
        return list(map(dict, map(zip, repeat(header), rows)))

    def _bad_width(self, rows: list[list[str]], width: int) -> ExportFormatError:
        for number, row in enumerate(rows, self._records + 1):
            if len(row) != width:
                return ExportFormatError(
                    f"CSV record {number} has {len(row)} fields; the header has {width}"
                )
        raise AssertionError("unreachable: a row of the wrong width was seen")

    def _malformed(self, batch: str, exc: csv.Error, *, final: bool) -> ExportFormatError:
        # Error path only: re-parse row by row to name the record the csv module rejected.
        number = self._records if self._header is not None else -1  # -1: header unread
        try:
            for row in csv.reader(io.StringIO(batch, newline=""), strict=True):
                if row:
                    number += 1
        except csv.Error:
            pass
        where = f"CSV record {number + 1}" if number >= 0 else "the CSV header row"
        if final and self._odd:
            return ExportFormatError(f"{where}: a quoted field is still open at end of stream")
        return ExportFormatError(
            f"{where} is malformed ({exc}): text after a closing quote, "
            "or a '\"' inside an unquoted field"
        )


def _last_boundary(text: str, odd_end: int) -> int:
    """Index just past the last record-ending newline in ``text``, or 0 if there is none.

    ``odd_end`` is the parity of the '"' count from the start of the held text through the
    end of ``text``. A newline ends a record iff the '"' count before it is even. Walking
    backwards, a newline with odd parity lies inside a quoted field, so the search jumps to
    just before that field's opening quote (the last '"' before the newline); each step
    covers new ground, so the whole search is linear in ``len(text)`` and never touches the
    held text.
    """
    end = len(text)
    odd = odd_end  # parity of the '"' count before index `end`
    lf = text.rfind("\n")
    cr = text.rfind("\r")
    while True:
        # A cached position below `end` is still the last one below `end`.
        if lf >= end:
            lf = text.rfind("\n", 0, end)
        if cr >= end:
            cr = text.rfind("\r", 0, end)
        newline = lf if lf > cr else cr
        if newline < 0:
            return 0
        odd ^= text.count('"', newline, end) & 1
        if not odd:
            return newline + 1
        opening = text.rfind('"', 0, newline)
        if opening < 0:
            return 0  # the open quoted field started in the held text
        # The quote at `opening` is the only one in [opening, newline), so one fewer flips
        # the odd parity at `newline` to even at `opening`.
        end = opening
        odd = 0


def _dedupe_header(names: Sequence[str]) -> tuple[str, ...]:
    """Keep every column; rename later duplicates ``name.1``, ``name.2``, ... pandas-style.

    Every original name is reserved first, so a generated name never collides with a column
    that appears later in the header, nor with one generated earlier.
    """
    taken = set(names)
    if len(taken) == len(names):
        return tuple(names)
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}
    result: list[str] = []
    for name in names:
        if name not in seen:
            seen.add(name)
            result.append(name)
            continue
        suffix = next_suffix.get(name, 1)
        while f"{name}.{suffix}" in taken:
            suffix += 1
        new = f"{name}.{suffix}"
        next_suffix[name] = suffix + 1
        taken.add(new)
        seen.add(new)
        result.append(new)
    return tuple(result)
