"""`lexer-activity demo` end to end: embedded sandbox, every report, three exports."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lexer_activity.cli import cli
from lexer_activity.cli._calls import REPORT_TYPES

from .conftest import CLEAN_ENV


def _summary_rows(stdout: str) -> dict[str, list[str]]:
    """name -> [kind, rows, bytes, seconds] from the summary table's body lines."""
    rows: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) == 5 and cells[0] in ("list", "report", "export"):
            rows[cells[1]] = [cells[0], *cells[2:]]
    return rows


def _count(value: str) -> int:
    return int(value.replace(",", ""))


def _csv_records(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as file:
        return sum(1 for _ in csv.DictReader(file))


def test_demo_runs_every_report_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env=CLEAN_ENV).invoke(cli, ["demo", "--days", "3"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    rows = _summary_rows(result.stdout)
    for name in ("users", "groups", "forms", *REPORT_TYPES):
        assert name in rows, f"{name} missing from the summary:\n{result.stdout}"
        assert _count(rows[name][1]) >= 1
    assert re.search(r"^total wall time: \d+\.\d+ s$", result.stdout, re.MULTILINE)

    for kind in ("cases", "nps", "responses"):
        path = Path("lexer-exports") / f"{kind}.csv"
        name = str(path)
        assert name in rows, f"{name} missing from the summary:\n{result.stdout}"
        assert path.stat().st_size > 0
        assert _count(rows[name][2]) == path.stat().st_size
        assert _count(rows[name][1]) == _csv_records(path) > 0
        # Not a terminal: one plain line per file on stderr instead of a bar.
        assert re.search(rf"^{kind}\.csv: [\d,]+ bytes in [\d.]+ s \(", result.stderr, re.MULTILINE)


def test_demo_out_dir_option(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "exports"
    result = CliRunner(env=CLEAN_ENV).invoke(
        cli, ["demo", "--days", "1", "--out-dir", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["cases.csv", "nps.csv", "responses.csv"]
