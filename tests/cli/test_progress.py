"""Download progress: a rich bar on a terminal, one plain line otherwise."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from lexer_activity.cli._progress import DownloadProgress, summary_line


def test_summary_line_format() -> None:
    assert summary_line("cases.csv", 12_345_678, 1.22) == (
        "cases.csv: 12,345,678 bytes in 1.2 s (10.1 MB/s)"
    )
    assert summary_line("nps.csv", 2_000, 0.004) == "nps.csv: 2,000 bytes in 0.004 s (0.5 MB/s)"


def test_terminal_draws_a_bar_and_no_plain_line(capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with DownloadProgress(console) as progress:
        assert progress.live
        callback = progress.track("cases.csv")
        callback(0, 2_000_000)
        callback(2_000_000, 2_000_000)
        progress.finished("cases.csv", 2_000_000)
    drawn = buffer.getvalue()
    assert "cases.csv" in drawn
    assert "2.0/2.0 MB" in drawn
    assert "bytes in" not in capsys.readouterr().err


def test_no_terminal_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    with DownloadProgress(console) as progress:
        assert not progress.live
        callback = progress.track("r.csv")
        callback(10, None)
        seconds = progress.finished("r.csv", 10)
    assert seconds >= 0
    assert capsys.readouterr().err.startswith("r.csv: 10 bytes in ")
