"""import_time: ``import lexer_activity`` against ``import httpx``, each in a fresh process."""

from __future__ import annotations

import re
import subprocess
import sys

from ._common import ROOT, Result, Sizes, Timings

__all__ = ["import_benchmark"]

_TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _once(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _TIMED.format(module=module)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return float(done.stdout.strip())


def _heaviest_imports(module: str, count: int = 5) -> list[tuple[str, float]]:
    """Self time per top-level package while importing ``module`` (one ``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    totals: dict[str, float] = {}
    pattern = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)")
    for line in done.stderr.splitlines():
        match = pattern.match(line)
        if match:
            name = match.group(2).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(match.group(1)) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])[:count]


def import_benchmark(sizes: Sizes) -> Result:
    """Best of N fresh-process imports of each, interleaved."""
    ours, theirs = Timings("import lexer_activity"), Timings("import httpx")
    for _ in range(sizes.import_repeats):
        ours.seconds.append(_once("lexer_activity"))
        theirs.seconds.append(_once("httpx"))
    heavy = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in
                      _heaviest_imports("lexer_activity"))
    return Result(
        name="import_time",
        value=ours.best * 1000,
        unit="ms",
        baseline=theirs.best * 1000,
        ratio=ours.best / theirs.best,
        goal=None,
        higher_is_better=False,
        what="import lexer_activity / import httpx, fresh process, best of "
        f"{sizes.import_repeats}",
        notes=[ours.spread(1000, "ms"), theirs.spread(1000, "ms"),
               f"self time by package, one -X importtime run: {heavy}"],
    )
