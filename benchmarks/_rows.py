"""iter_rows_throughput and iter_rows_vs_disk.

The same published messy CSV is read three ways: ``job.iter_rows()``; a hand-written raw
httpx stream (incremental UTF-8 decode, cut at the last newline with an even quote count,
``csv.DictReader`` per batch); and ``csv.DictReader`` over the file on disk. All three must
produce the same number of rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import time
from pathlib import Path

import httpx

from lexer_activity import AsyncActivityClient

from ._common import MiB, Result, Sizes, arm_export_status, interleaved, sandbox_process
from ._data import write_messy_csv

__all__ = ["rows_benchmarks"]


async def _raw_rows(http: httpx.AsyncClient, url: str) -> int:
    """The hand-written baseline: what a careful user would write without the SDK."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    header: list[str] | None = None
    count = 0
    async with http.stream("GET", url) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            pending += decoder.decode(chunk)
            cut = pending.rfind("\n") + 1
            # A newline inside a quoted field is not a record end: wait for more text.
            if not cut or pending.count('"', 0, cut) % 2:
                continue
            batch, pending = pending[:cut], pending[cut:]
            reader = csv.DictReader(io.StringIO(batch, newline=""), fieldnames=header)
            for _row in reader:
                count += 1
            header = list(reader.fieldnames or ())
        pending += decoder.decode(b"", final=True)
        if pending:
            reader = csv.DictReader(io.StringIO(pending, newline=""), fieldnames=header)
            for _row in reader:
                count += 1
    return count


def _disk_rows(path: Path) -> int:
    count = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for _row in csv.DictReader(handle):
            count += 1
    return count


async def rows_benchmarks(sizes: Sizes, work: Path) -> list[Result]:
    """Time job.iter_rows() against the raw-httpx baseline and the file on disk."""
    source = work / "rows.csv"
    expected = write_messy_csv(source, sizes.rows_bytes)
    mib = source.stat().st_size / MiB
    with sandbox_process(publish=[source]) as server:
        url = server.urls[0]
        async with httpx.AsyncClient(timeout=60) as http, AsyncActivityClient(
            "sandbox-token", base_url=server.base_url, status_url=server.status_url
        ) as client:
            await arm_export_status(http, server.base_url, url)
            job = await client.export_job("benchmark-rows").wait(poll_interval=0.001)

            def checked(who: str, count: int) -> None:
                if count != expected:
                    raise RuntimeError(f"{who} read {count} rows, expected {expected}")

            async def sdk() -> float:
                count = 0
                started = time.perf_counter()
                async with job.iter_rows() as rows:
                    async for _row in rows:
                        count += 1
                elapsed = time.perf_counter() - started
                checked("job.iter_rows()", count)
                return elapsed

            async def raw() -> float:
                started = time.perf_counter()
                count = await _raw_rows(http, url)
                elapsed = time.perf_counter() - started
                checked("raw httpx + DictReader", count)
                return elapsed

            async def disk() -> float:
                started = time.perf_counter()
                count = _disk_rows(source)
                elapsed = time.perf_counter() - started
                checked("DictReader on disk", count)
                return elapsed

            await raw()  # warm-up: the server's ETag hash and the page cache
            sdk_t, raw_t, disk_t = await interleaved(
                [("job.iter_rows()", sdk), ("raw httpx + DictReader", raw),
                 ("DictReader on disk", disk)],
                sizes.repeats,
            )
    source.unlink()
    sdk_rate, raw_rate, disk_rate = (mib / t.best for t in (sdk_t, raw_t, disk_t))
    spreads = [t.spread() for t in (sdk_t, raw_t, disk_t)]
    rows_note = f"{expected} rows, {mib:.0f} MiB; {expected / sdk_t.best:,.0f} rows/s via iter_rows"
    return [
        Result(
            name="iter_rows_throughput",
            value=sdk_rate,
            unit="MiB/s",
            baseline=raw_rate,
            ratio=sdk_rate / raw_rate,
            goal=0.9,
            what=f"job.iter_rows() / raw httpx + incremental decode + csv.DictReader, best of "
            f"{sizes.repeats}",
            notes=[*spreads, rows_note],
        ),
        Result(
            name="iter_rows_vs_disk",
            value=sdk_rate,
            unit="MiB/s",
            baseline=disk_rate,
            ratio=sdk_rate / disk_rate,
            goal=None,
            what="job.iter_rows() / csv.DictReader over the finished file on disk",
            notes=[rows_note],
        ),
    ]
