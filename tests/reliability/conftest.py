"""Fixtures and hooks of the reliability suite (shared code is in ``_support.py``).

- ``server``: a loopback ``SandboxServer`` per module, with faults cleared and stats reset for
  each test; its app is wrapped by ``RequestLog`` so every request it receives is recorded.
- Evidence for the token-hygiene test: every log record (DEBUG, all loggers), every SDK
  exception as it is created, and every exception a test caught or failed with.
- Fast waits: the requester's and the download's backoff are patched to 2 ms, and the export
  poll schedule runs on a fake clock, so ``wait()``'s 1 s first interval and 600 s default
  timeout cost no real time.
- The tally: tests marked ``matrix`` or ``bad_input`` are counted per parametrised case (from
  their ``op``/``fault``/``method`` parameters); the counts are printed at the end of the
  session and stored in pytest's cache under ``reliability/counts``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lexer_activity import AsyncActivityClient, LexerActivityError, _download, _exports, _requester
from lexer_activity.sandbox import SandboxServer

from ._support import (
    BACKOFF,
    DATA_CHECKS,
    EVIDENCE,
    HYPOTHESIS_EXAMPLES,
    MAX_RETRIES,
    OLD_FILE,
    ROOMY,
    TIMEOUT,
    TOKEN,
    Backoffs,
    PollClock,
    Source,
    export_source,
    new_http_client,
    record_exception,
    start_server,
)

# -- evidence -------------------------------------------------------------------------------


class _EvidenceHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is still evidence
            message = f"{record.msg!r} % {record.args!r}"
        text = f"{record.name} {record.levelname} {message}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" | {exc!s} | {exc!r}"
        EVIDENCE.add("log", text)
        EVIDENCE.count("log_records")


@pytest.fixture(autouse=True)
def _collect_evidence(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every log record at DEBUG from every logger, and every SDK exception's message."""
    handler = _EvidenceHandler(level=logging.DEBUG)
    root = logging.getLogger()
    saved: list[tuple[logging.Logger, int, bool]] = []
    for logger in [root, *logging.root.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            saved.append((logger, logger.level, logger.disabled))
            logger.disabled = False
            if logger is not root and logger.level > logging.DEBUG:
                logger.setLevel(logging.DEBUG)
            if logger is not root and not logger.propagate:
                logger.addHandler(handler)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)

    original_init = LexerActivityError.__init__

    def recording_init(self: BaseException, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # str and repr depend on args only, so they are final here.
        EVIDENCE.add("sdk-exception", f"{self!s} | {self!r}")
        EVIDENCE.count("sdk_exceptions")

    monkeypatch.setattr(LexerActivityError, "__init__", recording_init)
    try:
        yield
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            if handler in logger.handlers:
                logger.removeHandler(handler)


# -- fast waits -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def backoffs(monkeypatch: pytest.MonkeyPatch) -> Backoffs:
    """Backoff of a few ms, recording the attempt number of each one."""
    calls = Backoffs()

    def api(attempt: int) -> float:
        calls.api.append(attempt)
        return BACKOFF

    def download(attempt: int) -> float:
        calls.download.append(attempt)
        return BACKOFF

    monkeypatch.setattr(_requester, "backoff_delay", api)
    monkeypatch.setattr(_download, "backoff_delay", download)
    return calls


@pytest.fixture(autouse=True)
def poll_clock(monkeypatch: pytest.MonkeyPatch) -> PollClock:
    clock = PollClock()
    monkeypatch.setattr(_exports, "_now", clock.time)
    monkeypatch.setattr(_exports, "_sleep", clock.sleep)
    return clock


# -- the sandbox ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_server() -> Iterator[SandboxServer]:
    server = start_server(ROOMY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(module_server: SandboxServer) -> SandboxServer:
    """The module's sandbox with no faults queued and zeroed stats."""
    module_server.sandbox.clear_faults()
    module_server.sandbox.reset_stats()
    return module_server


@pytest.fixture(scope="module")
def source(module_server: SandboxServer) -> Source:
    return export_source(module_server)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """A download directory holding yesterday's ``export.csv``."""
    (tmp_path / "export.csv").write_bytes(OLD_FILE)
    return tmp_path


MakeClient = Callable[..., AsyncActivityClient]


@pytest_asyncio.fixture
async def make_client(server: SandboxServer) -> AsyncIterator[MakeClient]:
    """``make_client(**overrides)``: a client of the module's sandbox, closed afterwards."""
    made: list[AsyncActivityClient] = []
    http_clients: list[httpx.AsyncClient] = []

    def make(**overrides: Any) -> AsyncActivityClient:
        if "http_client" not in overrides:
            # The client would build its own httpx client, which loads the CA bundle: 20 ms a
            # test. The SDK passes its timeouts per request, so an injected one is equivalent.
            overrides["http_client"] = new_http_client()
            http_clients.append(overrides["http_client"])
        settings: dict[str, Any] = {
            "token": TOKEN,
            "base_url": server.base_url,
            "status_url": server.status_url,
            "timeout": TIMEOUT,
            "max_retries": MAX_RETRIES,
            "rate_limit": (100_000, 1.0),
        }
        settings.update(overrides)
        client = AsyncActivityClient(**settings)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
    for http in http_clients:
        await http.aclose()


# -- markers, ordering and the tally --------------------------------------------------------

_OUTCOMES: dict[str, tuple[dict[str, str], str]] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "matrix: a fault-matrix test, counted per (fault, op)")
    config.addinivalue_line("markers", "bad_input: a bad-argument test, counted per case")
    config.addinivalue_line("markers", "hygiene: runs after every other test of the session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The hygiene test reads the evidence of every other test, so it goes last.
    last = [item for item in items if item.get_closest_marker("hygiene") is not None]
    if last:
        items[:] = [item for item in items if item not in last] + last


def _labels(item: pytest.Item) -> dict[str, str] | None:
    params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
    if item.get_closest_marker("matrix") is not None:
        fault = params.get("fault", params.get("case", getattr(item, "originalname", item.name)))
        fault_label = str(getattr(fault, "label", fault))
        return {
            "kind": "matrix",
            "fault": fault_label,
            "op": str(params.get("op", "?")),
            "module": item.path.stem,
        }
    if item.get_closest_marker("bad_input") is not None:
        method = params.get("method", getattr(item, "originalname", item.name))
        return {"kind": "bad_input", "method": str(getattr(method, "method", method))}
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None:
        record_exception("test-outcome", call.excinfo.value)
    labels = _labels(item)
    if labels is not None and (report.when == "call" or report.outcome != "passed"):
        if report.when == "call" and labels["kind"] == "matrix":
            EVIDENCE.count("matrix_tests_run")
        previous = _OUTCOMES.get(item.nodeid)
        if previous is None or previous[1] == "passed":
            _OUTCOMES[item.nodeid] = (labels, report.outcome)
    return report


def tally() -> dict[str, Any]:
    matrix = [(lab, out) for lab, out in _OUTCOMES.values() if lab["kind"] == "matrix"]
    bad = [(lab, out) for lab, out in _OUTCOMES.values() if lab["kind"] == "bad_input"]
    return {
        "fault_cases": len(matrix),
        "fault_cases_passed": sum(out == "passed" for _, out in matrix),
        "distinct_faults": len({lab["fault"] for lab, _ in matrix}),
        "operations": sorted({lab["op"] for lab, _ in matrix}),
        "bad_inputs": len(bad),
        "bad_inputs_passed": sum(out == "passed" for _, out in bad),
        "methods_with_bad_inputs": sorted({lab["method"] for lab, _ in bad}),
        "by_module": {
            module: {
                "cases": sum(lab["module"] == module for lab, _ in matrix),
                "passed": sum(lab["module"] == module and out == "passed" for lab, out in matrix),
                "faults": len({lab["fault"] for lab, _ in matrix if lab["module"] == module}),
                "operations": sorted({lab["op"] for lab, _ in matrix if lab["module"] == module}),
            }
            for module in sorted({lab["module"] for lab, _ in matrix})
        },
        "data_checks": len(DATA_CHECKS),
        "hypothesis_examples": len(HYPOTHESIS_EXAMPLES),
        "evidence": {
            "log_records": EVIDENCE.log_records,
            "sdk_exceptions": EVIDENCE.sdk_exceptions,
            "caught_exceptions": EVIDENCE.caught_exceptions,
            "server_requests": len(EVIDENCE.server_requests),
            "file_host_requests": sum(
                route == "download" for route, _, _ in EVIDENCE.server_requests
            ) + sum(host == "files.lexer.test" for host, _ in EVIDENCE.respx_requests),
        },
    }


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _OUTCOMES:
        return
    counts = tally()
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None:
        cache.set("reliability/counts", counts)
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "reliability tally")
    write(
        f"fault cases: {counts['fault_cases']} ({counts['fault_cases_passed']} passed); "
        f"{counts['distinct_faults']} distinct faults; {len(counts['operations'])} operations: "
        f"{', '.join(counts['operations'])}"
    )
    for module, part in counts["by_module"].items():
        write(
            f"  {module}: {part['cases']} cases ({part['passed']} passed), {part['faults']} "
            f"faults x {len(part['operations'])} operations ({', '.join(part['operations'])})"
        )
    write(
        f"bad inputs: {counts['bad_inputs']} ({counts['bad_inputs_passed']} passed) over "
        f"{len(counts['methods_with_bad_inputs'])} public methods"
    )
    write(
        f"downloads compared with the source (sha256 or rows): {counts['data_checks']}; "
        f"hypothesis examples: {counts['hypothesis_examples']}"
    )
    evidence = counts["evidence"]
    write(
        f"token-hygiene evidence: {evidence['log_records']} log records, "
        f"{evidence['sdk_exceptions']} SDK exceptions, {evidence['caught_exceptions']} caught "
        f"exceptions, {evidence['server_requests']} sandbox requests, "
        f"{evidence['file_host_requests']} file-host requests"
    )
