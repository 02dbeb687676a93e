"""Exit codes and error lines: one line on stderr, a traceback only with --debug, no token."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lexer_activity import (
    APIConnectionError,
    DownloadError,
    ExportFormatError,
    ExportTimeoutError,
    InvalidReportTypeError,
    ServerError,
)
from lexer_activity._validate import check_text
from lexer_activity.cli import cli
from lexer_activity.cli._calls import REPORT_TYPES
from lexer_activity.cli._exit import TABLE, exit_code_for, unwrap
from lexer_activity.sandbox import Fault, SandboxServer

from .conftest import TOKEN

Invoke = Callable[..., Result]

RANGE = ("--from", "2024-03-01", "--to", "2024-03-10")
WRONG_TOKEN = "wrong-token-5d1c0a77e2"


@pytest.fixture(autouse=True)
def _no_faults_left(server: SandboxServer) -> Iterator[None]:
    yield
    server.sandbox.clear_faults()


def _one_error_line(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_wrong_token_exits_3_without_leaking_it(invoke: Invoke) -> None:
    result = invoke("report", "summary", *RANGE, token=WRONG_TOKEN)
    assert result.exit_code == 3
    line = _one_error_line(result)
    assert "summary: 401 Unauthorized - api token not matching" in line
    assert WRONG_TOKEN not in result.output
    assert result.stdout == ""


def test_debug_shows_traceback_and_logs_but_not_the_token(invoke: Invoke) -> None:
    result = invoke("users", token=WRONG_TOKEN, extra=["--debug"])
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "AuthenticationError" in result.stderr
    assert " DEBUG lexer_activity: GET " in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: users: 401")
    assert WRONG_TOKEN not in result.output


def test_missing_token_exits_3(runner: CliRunner, server: SandboxServer) -> None:
    result = runner.invoke(cli, ["--base-url", server.base_url, "users"])
    assert result.exit_code == 3
    assert "LEXER_API_TOKEN" in _one_error_line(result)


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        ("2024-13-01", "2024-03-10"),  # not a date
        ("yesterday", "2024-03-10"),
        ("2024-03-10", "2024-03-01"),  # from after to
        ("2020-01-01", "2024-01-01"),  # over 12 months
        ("2999-01-01", "2999-01-02"),  # starts in the future
        ("2024-03-01T00:00:00", "2024-03-02"),  # naive datetime
    ],
)
def test_bad_dates_exit_12(invoke: Invoke, date_from: str, date_to: str) -> None:
    result = invoke("report", "summary", "--from", date_from, "--to", date_to)
    assert result.exit_code == 12, result.output
    _one_error_line(result)


def test_unknown_report_type_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("report", "no_such_report", *RANGE)
    assert result.exit_code == 2
    assert "no_such_report" in result.stderr


def test_missing_dates_are_a_usage_error(invoke: Invoke) -> None:
    assert invoke("report", "summary").exit_code == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_exits_8(runner: CliRunner) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = runner.invoke(cli, ["--base-url", url, "--token", TOKEN, "groups"])
    assert result.exit_code == 8, result.output
    assert "groups:" in _one_error_line(result)


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (Fault("reports", "status", times=None, status_code=500, body={"error": "boom"}), 7),
        (Fault("reports", "status", times=None, status_code=418, body="teapot"), 7),
        (Fault("reports", "status", status_code=404, body={"error": "Not found"}), 5),
        (
            Fault("reports", "status", status_code=400,
                  body={"error": "Invalid report - invalid type"}),
            4,
        ),
        (Fault("reports", "rate_limit", retry_after=100_000), 6),
        (Fault("reports", "malformed", times=None, body="html"), 9),
    ],
)
def test_api_failures_map_to_their_codes(
    invoke: Invoke, server: SandboxServer, fault: Fault, code: int
) -> None:
    server.sandbox.add_fault(fault)
    result = invoke("report", "summary", *RANGE)
    assert result.exit_code == code, result.output
    assert _one_error_line(result).startswith("error: summary")


def test_export_failed_status_exits_10(
    invoke: Invoke, server: SandboxServer, tmp_path: Path
) -> None:
    server.sandbox.add_fault(Fault("status", "export_status", times=None, status="failed"))
    result = invoke(
        "export", "cases", *RANGE, "-o", str(tmp_path / "c.csv"), "--poll-interval", "0.05"
    )
    assert result.exit_code == 10, result.output
    assert "'failed'" in _one_error_line(result)
    assert not (tmp_path / "c.csv").exists()


def test_export_timeout_exits_10(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(
        "export", "cases", *RANGE, "-o", str(tmp_path / "c.csv"),
        "--timeout", "0.05", "--poll-interval", "0.01",
    )
    assert result.exit_code == 10, result.output
    assert "still pending" in _one_error_line(result)


def test_download_failure_exits_11(
    invoke: Invoke, server: SandboxServer, tmp_path: Path
) -> None:
    server.sandbox.add_fault(Fault("download", "expired", times=None))
    result = invoke(
        "export", "responses", *RANGE, "-o", str(tmp_path / "r.csv"), "--poll-interval", "0.05"
    )
    assert result.exit_code == 11, result.output
    _one_error_line(result)
    assert not (tmp_path / "r.csv").exists()


def test_bad_export_timeout_is_a_bad_argument(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("export", "cases", *RANGE, "-o", str(tmp_path / "c.csv"), "--timeout", "-1")
    assert result.exit_code == 12, result.output
    assert "timeout" in _one_error_line(result)


def test_help_documents_every_exit_code(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for code, text in TABLE:
        assert f"{code:>3}  {text}" in result.stdout


def test_report_help_lists_every_type(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["report", "--help"])
    for report_type in REPORT_TYPES:
        assert report_type in result.stdout


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("lexer-activity, version ")


# -- the mapping itself ----------------------------------------------------------------------


def _raise(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_argument_errors_count_only_when_the_sdk_raised_them() -> None:
    with pytest.raises(ValueError, match="token") as from_sdk:
        check_text("", "token")
    assert exit_code_for(from_sdk.value) == 12
    # The same kind of exception from the CLI's own code is a bug, not a bad argument.
    assert exit_code_for(_raise(ValueError("oops"))) == 1


def test_subclasses_map_before_their_bases() -> None:
    assert exit_code_for(ExportFormatError("bad csv")) == 9  # also a ValueError
    assert exit_code_for(DownloadError("x")) == 11
    assert exit_code_for(ExportTimeoutError("x", job_token="t", waited=1.0)) == 10
    assert exit_code_for(APIConnectionError("x")) == 8
    assert exit_code_for(KeyboardInterrupt()) == 130
    assert issubclass(InvalidReportTypeError, Exception)
    assert issubclass(ServerError, Exception)


class _Group(Exception):
    """Shaped like an ExceptionGroup (which Python 3.10 lacks): ``exceptions`` holds them."""

    def __init__(self, *exceptions: BaseException) -> None:
        super().__init__("group")
        self.exceptions = exceptions


def test_unwrap_finds_the_sdk_error_in_a_group() -> None:
    inner = DownloadError("x")
    assert unwrap(_Group(RuntimeError("other"), _Group(inner))) is inner
    assert exit_code_for(unwrap(_Group(inner))) == 11
