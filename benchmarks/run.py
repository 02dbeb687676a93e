"""Run every benchmark of lexer-activity and print (and optionally save) the results.

    python benchmarks/run.py [--quick] [--json PATH]

Prints one table row per benchmark (value, baseline, ratio, goal, met?), the machine it ran
on, what each ratio compares with its spread over the interleaved trials, and the rate-window
comparison with aiolimiter. ``--quick`` uses small sizes (well under a minute on two cores).
The exit status is 0 even when a goal is missed; it is 1 only if a benchmark crashed.
See benchmarks/README.md for what each benchmark measures and the latest full run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import math
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script: make `benchmarks` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import Result, Sizes, machine_info
from benchmarks._downloads import download_benchmarks, peak_rss_benchmark
from benchmarks._imports import import_benchmark
from benchmarks._ratewindow import LimiterRun, rate_window_benchmarks
from benchmarks._reports import fanout_benchmark, report_overhead_benchmark
from benchmarks._rows import rows_benchmarks

NAMES = (
    "download_throughput",
    "download_vs_curl",
    "download_peak_rss",
    "iter_rows_throughput",
    "iter_rows_vs_disk",
    "report_overhead",
    "fanout_concurrency",
    "rate_window_utilisation",
    "rate_window_aiolimiter",
    "import_time",
)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(results: Sequence[Result]) -> str:
    header = ("name", "value", "unit", "baseline", "ratio", "goal", "met?")
    rows = [header]
    for result in results:
        met = result.met
        rows.append((
            result.name,
            _number(result.value),
            result.unit,
            _number(result.baseline),
            _number(result.ratio),
            result.goal_text,
            "-" if met is None else ("yes" if met else "NO"),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if column in (0, 2, 5) else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_machine(machine: dict[str, Any]) -> str:
    return (
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM, "
        f"Python {machine['python']}, httpx {machine['httpx']}, {machine['os']}\n"
        f"load average (1 min) before the run: {machine['load_1min']} (the cores are shared; "
        "well above 0 means other work ran alongside and the timings are noisier)"
    )


def format_notes(results: Sequence[Result]) -> str:
    lines = []
    for result in results:
        lines.append(f"{result.name}: ratio = {result.what}")
        lines.extend(f"    {note}" for note in result.notes)
    return "\n".join(lines)


def format_limiters(runs: Sequence[LimiterRun], requests: int) -> str:
    if not runs:
        return ""
    period = runs[0].period
    header = ("limiter", "time (s)", "utilisation", "429s", "max starts/window (client)")
    rows = [header]
    for run in runs:
        rows.append((
            run.label,
            f"{run.elapsed:.2f}",
            f"{run.utilisation:.2f}",
            str(run.rate_limited),
            # The SDK's calls wait inside users(): no client-side start times to count.
            "-" if run.label.startswith("SDK") else str(run.max_client_window),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        f"Rate window: {requests} requests, limit 100 per {period:g} s, enforced by the "
        f"sandbox (minimum time 2P = {2 * period:g} s)",
    ]
    for index, row in enumerate(rows):
        lines.append("  " + "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip())
        if index == 0:
            lines.append("  " + "  ".join("-" * width for width in widths))
    return "\n".join(lines)


async def run_all(sizes: Sizes, work: Path) -> tuple[list[Result], list[LimiterRun], list[str]]:
    """Every benchmark in turn; a crash is recorded and the rest still run."""
    results: list[Result] = []
    limiter_runs: list[LimiterRun] = []
    crashed: list[str] = []

    async def rate_window() -> list[Result]:
        found, runs = await rate_window_benchmarks(sizes)
        limiter_runs.extend(runs)
        return found

    async def single(make: Callable[[], Awaitable[Result]]) -> list[Result]:
        return [await make()]

    async def imports() -> list[Result]:
        return [import_benchmark(sizes)]

    steps: list[tuple[str, Callable[[], Awaitable[list[Result]]]]] = [
        ("import_time", imports),
        ("report_overhead", lambda: single(lambda: report_overhead_benchmark(sizes))),
        ("fanout_concurrency", lambda: single(lambda: fanout_benchmark(sizes))),
        ("rate_window", rate_window),
        ("downloads", lambda: download_benchmarks(sizes, work)),
        ("iter_rows", lambda: rows_benchmarks(sizes, work)),
        ("download_peak_rss", lambda: single(lambda: peak_rss_benchmark(sizes, work))),
    ]
    for label, step in steps:
        started = time.perf_counter()
        print(f"running {label} ...", file=sys.stderr, flush=True)
        try:
            results.extend(await step())
        except Exception:
            crashed.append(label)
            traceback.print_exc()
        print(f"  {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    order = {name: index for index, name in enumerate(NAMES)}
    results.sort(key=lambda result: order.get(result.name, len(order)))
    return results, limiter_runs, crashed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the lexer-activity benchmarks.")
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    args = parser.parse_args(argv)
    # The SDK logs each 429 it retries; the rate-window rows count them from the server.
    logging.getLogger("lexer_activity").setLevel(logging.ERROR)
    sizes = Sizes.for_run(args.quick)
    machine = machine_info()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lexer-bench-") as work:
        results, limiter_runs, crashed = asyncio.run(run_all(sizes, Path(work)))
    elapsed = time.perf_counter() - started

    print(f"lexer-activity benchmarks ({'quick' if sizes.quick else 'full'} run, "
          f"{elapsed:.0f} s)")
    print(format_machine(machine))
    print()
    print(format_table(results))
    print()
    print(format_notes(results))
    limiters = format_limiters(limiter_runs, sizes.rate_requests)
    if limiters:
        print()
        print(limiters)
    if importlib.util.find_spec("aiolimiter") is None:
        print("\nrate_window_aiolimiter: skipped, aiolimiter is not installed "
              "(pip install -e '.[bench]')")
    if crashed:
        print(f"\nCRASHED: {', '.join(crashed)} (tracebacks above, on stderr)")

    if args.json is not None:
        payload: dict[str, Any] = {result.name: result.to_json() for result in results}
        payload["machine"] = {**machine, "quick": sizes.quick, "seconds": round(elapsed, 1)}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
