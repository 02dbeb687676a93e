"""users, groups, forms, report and export against a loopback sandbox; outputs parse."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lexer_activity.cli import cli
from lexer_activity.cli._calls import NPS_REPORTS, REPORT_TYPES
from lexer_activity.sandbox import SandboxServer

from .conftest import TOKEN

Invoke = Callable[..., Result]

RANGE = ("--from", "2024-03-01", "--to", "2024-03-10")


def _nps_form(invoke: Invoke) -> str:
    forms = json.loads(invoke("forms", "--format", "json").stdout)
    return str(next(form["id"] for form in forms if form["nps"]))


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("name", ["users", "groups", "forms"])
def test_lists_in_every_format(invoke: Invoke, name: str) -> None:
    as_json = invoke(name, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    items = json.loads(as_json.stdout)
    assert isinstance(items, list)
    assert items
    assert "id" in items[0]

    as_csv = invoke(name, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = _csv(as_csv.stdout)
    assert rows[0][0] == "id"
    assert len(rows) == len(items) + 1
    assert [row[0] for row in rows[1:]] == [str(item["id"]) for item in items]

    table = invoke(name)
    assert table.exit_code == 0, table.output
    assert f"{name} ({len(items)} rows)" in table.stdout


@pytest.mark.parametrize("report_type", REPORT_TYPES)
def test_report_json_and_csv_parse(invoke: Invoke, report_type: str) -> None:
    extra = ("--form", _nps_form(invoke)) if report_type in NPS_REPORTS else ()

    as_json = invoke("report", report_type, *RANGE, *extra, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data
    # Deterministic: the same answer renders to the same text.
    again = invoke("report", report_type, *RANGE, *extra, "--format", "json")
    assert again.stdout == as_json.stdout

    as_csv = invoke("report", report_type, *RANGE, *extra, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = _csv(as_csv.stdout)
    assert len(rows) >= 2
    assert len({len(row) for row in rows}) == 1, "every CSV row has the header's width"

    table = invoke("report", report_type, *RANGE, *extra)
    assert table.exit_code == 0, table.output
    assert report_type in table.stdout


def test_report_shapes(invoke: Invoke) -> None:
    # A time series: one row per day, the value under the API's own name.
    rows = _csv(invoke("report", "case_volume", *RANGE, "--format", "csv").stdout)
    assert rows[0] == ["date_from", "open"]
    assert len(rows) == 1 + 10
    # A map of series: a column per state, one row per hour of a 2-day range.
    rows = _csv(
        invoke(
            "report", "states_volume", "--from", "2024-03-01", "--to", "2024-03-02",
            "--format", "csv",
        ).stdout
    )
    assert rows[0][0] == "date_from"
    assert len(rows[0]) > 2
    assert len(rows) == 1 + 48
    # An object: field/value rows.
    rows = _csv(invoke("report", "summary", *RANGE, "--format", "csv").stdout)
    assert rows[0] == ["field", "value"]
    assert "total_volume" in [row[0] for row in rows]
    # JSON keeps the typed shape, datetimes as ISO-8601 with an offset.
    series = json.loads(invoke("report", "response_volume", *RANGE, "--format", "json").stdout)
    assert series["interval"] == "day"
    assert series["points"][0]["date_from"] == "2024-03-01T00:00:00+00:00"


def test_report_with_offset_dates(invoke: Invoke) -> None:
    result = invoke(
        "report", "case_volume",
        "--from", "2024-03-01T00:00:00+11:00", "--to", "2024-03-03T23:59:59+11:00",
        "--format", "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["points"][0]["date_from"] == "2024-03-01T00:00:00+11:00"


def test_nps_report_needs_form(invoke: Invoke) -> None:
    result = invoke("report", "nps_summary", *RANGE)
    assert result.exit_code == 2
    assert "--form" in result.stderr


def test_form_rejected_for_other_reports(invoke: Invoke) -> None:
    result = invoke("report", "summary", *RANGE, "--form", "1")
    assert result.exit_code == 2


@pytest.mark.parametrize("kind", ["cases", "nps", "responses"])
def test_export_writes_file_and_plain_line(invoke: Invoke, tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.csv"
    extra = ("--form", _nps_form(invoke)) if kind == "nps" else ()
    result = invoke("export", kind, *RANGE, *extra, "-o", str(out), "--poll-interval", "0.1")

    assert result.exit_code == 0, result.output
    size = out.stat().st_size
    assert size > 0
    with out.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    assert records
    # stderr is not a terminal under CliRunner: no bar, one line.
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(rf"{kind}\.csv: {size:,} bytes in [\d.]+ s \([\d.]+ MB/s\)", lines[0])
    assert result.stdout == ""


def test_export_nps_needs_form(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("export", "nps", *RANGE, "-o", str(tmp_path / "n.csv"))
    assert result.exit_code == 2
    assert "--form" in result.stderr


def test_export_to_missing_directory_is_a_bad_argument(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("export", "cases", *RANGE, "-o", str(tmp_path / "nope" / "c.csv"))
    assert result.exit_code == 12, result.output
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1


def test_env_vars_configure_the_client(runner: CliRunner, server: SandboxServer) -> None:
    env = {
        "LEXER_API_TOKEN": TOKEN,
        "LEXER_BASE_URL": server.base_url,
        "LEXER_STATUS_URL": server.status_url,
    }
    result = runner.invoke(cli, ["groups", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)


def test_table_cells_are_text_not_markup() -> None:
    from rich.console import Console

    from lexer_activity.cli._render import Rows, rich_table

    rows = Rows(("id", "first_name", "total"), ((12306, "[/]\x1b]0;owned\x07[link=x]y", 12306),), 1)
    console = Console(width=200, record=True, color_system=None)
    console.print(rich_table(rows))
    out = console.export_text()
    assert "[/]" in out  # shown literally, not parsed as markup
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "12306" in out  # an id, no thousands separator
    assert "12,306" in out  # a count keeps it
