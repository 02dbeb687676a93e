"""Peak memory of one download, measured in a fresh process.

``python benchmarks/_rss_child.py sdk|httpx BASE_URL STATUS_URL URL DEST`` imports the client side
(``lexer_activity``, or only ``httpx`` for the reference), reads VmRSS from
/proc/self/status, resets the high-water mark (``5`` to /proc/self/clear_refs, when the
kernel allows it), downloads URL to DEST, and prints one JSON line: the RSS after import,
the peak (VmHWM, or ``ru_maxrss`` where /proc has no VmHWM), their difference, and the
seconds the download took.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_kib() -> int:
    hwm = _status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _sdk(base_url: str, status_url: str, url: str, dest: Path) -> float:
    import httpx

    from lexer_activity import AsyncActivityClient

    async with httpx.AsyncClient() as admin:
        response = await admin.post(
            f"{base_url}/_sandbox/faults",
            json={"target": "status", "kind": "export_status", "url": url},
        )
        response.raise_for_status()
    async with AsyncActivityClient(
        "sandbox-token", base_url=base_url, status_url=status_url
    ) as client:
        job = await client.export_job("rss-benchmark").wait(poll_interval=0.001)
        started = time.perf_counter()
        await job.download(dest)
        return time.perf_counter() - started


async def _httpx(url: str, dest: Path) -> float:
    import httpx

    async with httpx.AsyncClient() as http:
        started = time.perf_counter()
        async with http.stream("GET", url) as response:
            response.raise_for_status()
            with dest.open("wb") as out:
                async for chunk in response.aiter_raw():
                    out.write(chunk)
        return time.perf_counter() - started


def main(argv: list[str]) -> int:
    mode, base_url, status_url, url, dest = argv
    if mode == "sdk":
        import lexer_activity  # noqa: F401  (the import whose RSS is the starting point)
    else:
        import httpx  # noqa: F401
    after_import = _status_kib("VmRSS") or 0
    reset = _reset_peak()
    if mode == "sdk":
        seconds = asyncio.run(_sdk(base_url, status_url, url, Path(dest)))
    else:
        seconds = asyncio.run(_httpx(url, Path(dest)))
    peak = _peak_kib()
    print(
        json.dumps(
            {
                "after_import_kib": after_import,
                "peak_kib": peak,
                "growth_mib": (peak - after_import) / 1024,
                "peak_reset": reset,
                "seconds": seconds,
                "bytes": Path(dest).stat().st_size,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
