"""What every benchmark shares: the result row, interleaved timing, the sandbox processes."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "HERE",
    "MiB",
    "ROOT",
    "Result",
    "SandboxProcess",
    "Sizes",
    "Timings",
    "arm_export_status",
    "interleaved",
    "machine_info",
    "sandbox_process",
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MiB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    """Everything --quick shrinks."""

    quick: bool
    download_bytes: int  # download_throughput and download_vs_curl
    rss_bytes: int  # download_peak_rss
    rows_bytes: int  # iter_rows_*
    repeats: int  # trials of each side of a timed pair
    report_calls: int  # report_overhead
    report_repeats: int  # trials of each side of report_overhead (cheap, and noise-prone)
    fanout_calls: int  # fanout_concurrency
    rate_period: float  # rate_window_*: the scaled window P, in seconds
    rate_requests: int  # rate_window_*: requests sent (3 windows' worth)
    import_repeats: int

    @classmethod
    def for_run(cls, quick: bool) -> Sizes:
        if quick:
            return cls(
                quick=True,
                download_bytes=16 * MiB,
                rss_bytes=64 * MiB,
                rows_bytes=4 * MiB,
                repeats=3,
                report_calls=200,
                report_repeats=5,
                fanout_calls=50,
                rate_period=1.0,
                rate_requests=300,
                import_repeats=5,
            )
        return cls(
            quick=False,
            download_bytes=256 * MiB,
            rss_bytes=1024 * MiB,
            rows_bytes=64 * MiB,
            repeats=9,
            report_calls=200,
            report_repeats=15,
            fanout_calls=50,
            rate_period=10.0,
            rate_requests=300,
            import_repeats=15,
        )


@dataclass
class Result:
    """One row of the table.

    ``ratio`` is what the goal is stated in; ``higher_is_better`` says which way it points.
    ``goal`` is None for a row that only reports.
    """

    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float
    goal: float | None
    higher_is_better: bool = True
    goal_on_value: bool = False  # the goal bounds `value` (peak RSS), not `ratio`
    extra_check: bool = True  # a second condition of the goal (zero 429s), already checked
    what: str = ""  # what `ratio` is, for the notes
    notes: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)  # extra figures for the JSON

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        measured = self.value if self.goal_on_value else self.ratio
        if not math.isfinite(measured):
            return False
        ok = measured >= self.goal if self.higher_is_better else measured < self.goal
        return ok and self.extra_check

    @property
    def goal_text(self) -> str:
        if self.goal is None:
            return "report"
        op = ">=" if self.higher_is_better else ("<" if self.goal_on_value else "<=")
        subject = f"{self.unit} " if self.goal_on_value else ""
        return f"{subject}{op} {self.goal:g}"

    def to_json(self) -> dict[str, Any]:
        return {
            "ratio": self.ratio,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "goal": self.goal_text,
            # A row without a goal has nothing to miss.
            "met": True if self.met is None else self.met,
            "what": self.what,
            "notes": self.notes,
            **self.detail,
        }


@dataclass
class Timings:
    """Seconds per trial for one side of a comparison."""

    label: str
    seconds: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self, scale: float = 1.0, unit: str = "s") -> str:
        values = sorted(s * scale for s in self.seconds)
        return (
            f"{self.label}: best {values[0]:.3g} / median {statistics.median(values):.3g} / "
            f"worst {values[-1]:.3g} {unit} (n={len(values)})"
        )


async def interleaved(
    sides: Sequence[tuple[str, Callable[[], Awaitable[float]]]], repeats: int
) -> list[Timings]:
    """Run each side once per round, ``repeats`` rounds, rotating who goes first.

    Each side returns its own elapsed seconds, so setup and checks stay out of the timing.
    The machine is shared: interleaving spreads any slow patch over every side alike.
    """
    results = [Timings(label) for label, _ in sides]
    for round_ in range(repeats):
        order = list(range(len(sides)))
        shift = round_ % len(sides)
        order = order[shift:] + order[:shift]
        for index in order:
            results[index].seconds.append(await sides[index][1]())
    return results


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM, Python, httpx and OS, for the table's header."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib: float | None = None
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        ram_gib = round(pages * page_size / (1 << 30), 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "load_1min": _load(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "httpx": httpx.__version__,
        "os": f"{platform.system()} {platform.release()}",
    }


@dataclass
class SandboxProcess:
    """A sandbox serving in a child process; ``urls`` are the published files' URLs."""

    base_url: str
    status_url: str
    urls: list[str]
    tokens: list[str]
    pid: int


def _read_announcement(
    proc: subprocess.Popen[str], want: dict[str, int]
) -> dict[str, list[str]]:
    """Read ``name: value`` lines until each name in ``want`` was seen that many times."""
    assert proc.stdout is not None
    lines: dict[str, list[str]] = {}
    while any(len(lines.get(key, [])) < count for key, count in want.items()):
        line = proc.stdout.readline()  # the child announces itself or exits: no hang
        if not line:
            raise RuntimeError(f"the sandbox process exited early (code {proc.wait()})")
        key, _, value = line.strip().partition(": ")
        lines.setdefault(key, []).append(value)
    return lines


@contextmanager
def sandbox_process(
    *,
    publish: Sequence[Path] = (),
    tokens: Sequence[str] = (),
    rate_limit: int = 1_000_000,
    rate_window: float = 300.0,
    latency: float = 0.0,
) -> Iterator[SandboxProcess]:
    """A sandbox in its own process, stopped on exit.

    With files to publish it runs ``benchmarks/_file_server.py`` (see there for why);
    otherwise ``python -m lexer_activity.sandbox`` itself.
    """
    token_args = [arg for token in tokens for arg in ("--token", token)]
    common = [
        "--port", "0", "--rate-limit", str(rate_limit), "--rate-window", str(rate_window),
        "--latency", str(latency), *token_args,
    ]
    if publish:
        publish_args = [arg for path in publish for arg in ("--publish", str(path))]
        argv = [sys.executable, str(HERE / "_file_server.py"), *common, *publish_args]
    else:
        argv = [sys.executable, "-m", "lexer_activity.sandbox", *common, "--export-delay", "0"]
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        want = {"base_url": 1, "status_url": 1}
        want.update({"url": len(publish)} if publish else {"token": max(len(tokens), 1)})
        lines = _read_announcement(proc, want)
        yield SandboxProcess(
            base_url=lines["base_url"][0],
            status_url=lines["status_url"][0],
            urls=lines.get("url", []),
            tokens=lines.get("token", list(tokens)),
            pid=proc.pid,
        )
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the file server stops when its stdin closes
        try:
            proc.wait(timeout=5 if publish else 0.01)
        except subprocess.TimeoutExpired:
            proc.terminate()  # SIGTERM: uvicorn shuts down cleanly
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def arm_export_status(http: httpx.AsyncClient, base_url: str, url: str) -> None:
    """Make the sandbox's next status poll answer ``complete`` with ``url``.

    The ``export_status`` fault is how another process points an export job at a file it
    published; the job itself is then driven only through the public API.
    """
    response = await http.post(
        f"{base_url}/_sandbox/faults",
        json={"target": "status", "kind": "export_status", "url": url},
    )
    response.raise_for_status()
