"""download_throughput, download_vs_curl and download_peak_rss.

The file is a generated messy CSV published by a sandbox in its own process
(``_file_server.py``), so the server and the client never share a GIL; curl against the
same URL shows how fast the server can go.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx

from lexer_activity import AsyncActivityClient, ExportJob

from ._common import HERE, MiB, Result, Sizes, arm_export_status, interleaved, sandbox_process
from ._data import write_messy_csv

__all__ = ["download_benchmarks", "peak_rss_benchmark"]

CURL = shutil.which("curl") or "/usr/bin/curl"


def _check(path: Path, size: int, who: str) -> None:
    actual = path.stat().st_size
    if actual != size:
        raise RuntimeError(f"{who} wrote {actual} bytes, expected {size}")
    path.unlink()


async def _ready_job(client: AsyncActivityClient, http: httpx.AsyncClient, base_url: str,
                     url: str) -> ExportJob:
    """An export job of the published file, through the public API: one status poll."""
    await arm_export_status(http, base_url, url)
    return await client.export_job("benchmark-download").wait(poll_interval=0.001)


async def download_benchmarks(sizes: Sizes, work: Path) -> list[Result]:
    """Time job.download() against raw httpx and curl, interleaved; two rows."""
    source = work / "download.csv"
    write_messy_csv(source, sizes.download_bytes)
    size = source.stat().st_size
    mib = size / MiB
    with sandbox_process(publish=[source]) as server:
        url = server.urls[0]
        async with httpx.AsyncClient(timeout=60) as http, AsyncActivityClient(
            "sandbox-token", base_url=server.base_url, status_url=server.status_url
        ) as client:
            job = await _ready_job(client, http, server.base_url, url)

            async def sdk() -> float:
                dest = work / "sdk.csv"
                started = time.perf_counter()
                await job.download(dest)
                elapsed = time.perf_counter() - started
                _check(dest, size, "job.download()")
                return elapsed

            async def raw() -> float:
                dest = work / "raw.csv"
                started = time.perf_counter()
                async with http.stream("GET", url) as response:
                    response.raise_for_status()
                    with dest.open("wb") as out:
                        async for chunk in response.aiter_raw():
                            out.write(chunk)
                elapsed = time.perf_counter() - started
                _check(dest, size, "raw httpx")
                return elapsed

            async def curl() -> float:
                # curl's own transfer time: its process start-up is not the download.
                dest = work / "curl.csv"
                done = await anyio.run_process(
                    [CURL, "-s", "-S", "-f", "-o", str(dest), "-w", "%{time_total}", url]
                )
                _check(dest, size, "curl")
                return float(done.stdout.decode().strip())

            # Warm-up: the server hashes the file on its first request (the ETag), and the
            # page cache takes the file in.
            for side in (curl, raw, sdk):
                await side()
            sdk_t, raw_t, curl_t = await interleaved(
                [("job.download()", sdk), ("raw httpx", raw), ("curl", curl)], sizes.repeats
            )
    spreads = [t.spread(scale=1.0) for t in (sdk_t, raw_t, curl_t)]
    sdk_rate, raw_rate, curl_rate = (mib / t.best for t in (sdk_t, raw_t, curl_t))
    server_note = (
        f"server check: curl {curl_rate:.0f} MiB/s vs raw httpx {raw_rate:.0f} MiB/s: "
        + ("curl is faster, so the server is not the bottleneck"
           if curl_rate > raw_rate else "curl is NOT faster: the server may be the bottleneck")
    )
    throughput = Result(
        name="download_throughput",
        value=sdk_rate,
        unit="MiB/s",
        baseline=raw_rate,
        ratio=sdk_rate / raw_rate,
        goal=0.9,
        what=f"job.download() / raw httpx aiter_raw + write, {mib:.0f} MiB file, best of "
        f"{sizes.repeats}",
        notes=[*spreads, server_note],
    )
    versus_curl = Result(
        name="download_vs_curl",
        value=sdk_rate,
        unit="MiB/s",
        baseline=curl_rate,
        ratio=sdk_rate / curl_rate,
        goal=None,
        what=f"job.download() / curl -o (raw httpx / curl = {raw_rate / curl_rate:.2f})",
        notes=[server_note],
    )
    return [throughput, versus_curl]


def _rss_child(mode: str, base_url: str, status_url: str, url: str, dest: Path) -> dict[str, float]:
    argv = [sys.executable, str(HERE / "_rss_child.py"), mode, base_url, status_url, url,
            str(dest)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def peak_rss_benchmark(sizes: Sizes, work: Path) -> Result:
    """Peak RSS growth of a download in a fresh process, job.download() and raw httpx."""
    source = work / "rss.csv"
    write_messy_csv(source, sizes.rss_bytes)
    size = source.stat().st_size
    with sandbox_process(publish=[source]) as server:
        url = server.urls[0]
        # Warm-up: the server's MD5 of the file, and the page cache.
        await anyio.run_process([CURL, "-s", "-S", "-f", "-o", "/dev/null", url])
        runs: dict[str, dict[str, float]] = {}
        for mode in ("sdk", "httpx"):
            dest = work / f"rss-{mode}.csv"
            runs[mode] = _rss_child(mode, server.base_url, server.status_url, url, dest)
            _check(dest, size, f"{mode} (peak RSS)")
    source.unlink()
    sdk, raw = runs["sdk"], runs["httpx"]
    return Result(
        name="download_peak_rss",
        value=sdk["growth_mib"],
        unit="MiB",
        baseline=raw["growth_mib"],
        ratio=sdk["growth_mib"] / max(raw["growth_mib"], 1.0),
        goal=32.0,
        higher_is_better=False,
        goal_on_value=True,
        what=f"peak RSS growth of job.download() / raw httpx (floor 1 MiB), {size / MiB:.0f} "
        "MiB file, fresh process each",
        notes=[
            f"job.download(): {sdk['after_import_kib'] / 1024:.1f} MiB after import, peak "
            f"{sdk['peak_kib'] / 1024:.1f} MiB (+{sdk['growth_mib']:.1f}), "
            f"{size / MiB / sdk['seconds']:.0f} MiB/s",
            f"raw httpx: {raw['after_import_kib'] / 1024:.1f} MiB after import, peak "
            f"{raw['peak_kib'] / 1024:.1f} MiB (+{raw['growth_mib']:.1f}), "
            f"{size / MiB / raw['seconds']:.0f} MiB/s",
            "peak = VmHWM after a reset at the starting point"
            if sdk["peak_reset"] else "peak = VmHWM since process start (no reset available)",
        ],
    )
