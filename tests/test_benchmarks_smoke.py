"""The benchmarks must keep running: ``benchmarks/run.py --quick`` in a subprocess.

This checks that every benchmark still runs and reports a numeric ratio, not that any goal
is met (the machine running the tests is shared; see benchmarks/README.md for the figures).
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NAMES = [
    "download_throughput",
    "download_vs_curl",
    "download_peak_rss",
    "iter_rows_throughput",
    "iter_rows_vs_disk",
    "report_overhead",
    "fanout_concurrency",
    "rate_window_utilisation",
    "import_time",
]
# Only measured where aiolimiter (the [bench] extra) is installed.
if importlib.util.find_spec("aiolimiter") is not None:
    NAMES.append("rate_window_aiolimiter")


@pytest.mark.slow
def test_quick_run_reports_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # the quick run takes about 25 s on two cores
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    assert isinstance(results.get("machine"), dict)
    for name in NAMES:
        assert name in results, f"{name} missing from the JSON:\n{done.stdout}"
        row = results[name]
        assert type(row["ratio"]) in (int, float), (name, row)
        assert math.isfinite(row["ratio"]), (name, row)
        assert isinstance(row["met"], bool), (name, row)
        assert {"value", "unit", "goal"} <= row.keys(), (name, row)
    for name in NAMES:
        assert name in done.stdout, f"{name} missing from the printed table"
