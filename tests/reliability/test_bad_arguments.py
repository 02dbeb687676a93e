"""Bad arguments (fault 10) on every public method: a precise exception, and no request.

respx answers every request with a catch-all route that must never be called: a bad argument
is caught before anything is sent (a refused request still spends the rate budget).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from lexer_activity import AsyncActivityClient

from ._support import TOKEN, new_http_client, note_respx_request, raises

API = "https://api.lexer.test"
STATUS_URL = "https://clients.lexer.test/api/public/v1/activity/reports/status"
GOOD = ("2018-04-01", "2018-04-30")
FORM = 55


@dataclass(frozen=True)
class Bad:
    method: str
    label: str
    call: Callable[[AsyncActivityClient, Path], Any]
    error: type[Exception]
    match: str

    def __str__(self) -> str:
        return f"{self.method}-{self.label}"


CASES: list[Bad] = []

# -- dates, on every method that takes a range ----------------------------------------------

Dated = Callable[[AsyncActivityClient, Path, Any, Any], Any]
DATED: dict[str, Dated] = {
    "summary": lambda c, d, f, t: c.summary(f, t),
    "states_volume": lambda c, d, f, t: c.states_volume(f, t),
    "workflow_states": lambda c, d, f, t: c.workflow_states(f, t),
    "classifications": lambda c, d, f, t: c.classifications(f, t),
    "response_volume": lambda c, d, f, t: c.response_volume(f, t),
    "user_summary": lambda c, d, f, t: c.user_summary(f, t),
    "user_volume": lambda c, d, f, t: c.user_volume(f, t),
    "case_summary": lambda c, d, f, t: c.case_summary(f, t),
    "case_volume": lambda c, d, f, t: c.case_volume(f, t),
    "case_classifications": lambda c, d, f, t: c.case_classifications(f, t),
    "nps_summary": lambda c, d, f, t: c.nps_summary(FORM, f, t),
    "nps_volume": lambda c, d, f, t: c.nps_volume(FORM, f, t),
    "report": lambda c, d, f, t: c.report("summary", f, t),
    "start_export": lambda c, d, f, t: c.start_export("case_details", f, t),
    "export_cases": lambda c, d, f, t: c.export_cases(f, t),
    "export_nps_submissions": lambda c, d, f, t: c.export_nps_submissions(FORM, f, t),
    "export_responses": lambda c, d, f, t: c.export_responses(f, t),
    "export_to_file": lambda c, d, f, t: c.export_to_file("case_details", d / "x.csv", f, t),
}
_SOON = datetime.now(timezone.utc) + timedelta(days=2)
BAD_RANGES: list[tuple[str, Any, Any, type[Exception], str]] = [
    ("int-date", 20180401, GOOD[1], TypeError, "date_from must be an aware datetime"),
    ("none-date", GOOD[0], None, TypeError, "date_to must be an aware datetime"),
    ("naive-datetime-from", datetime(2018, 4, 1), GOOD[1], ValueError, "date_from is a naive datetime"),
    ("naive-datetime-to", GOOD[0], datetime(2018, 4, 30), ValueError, "date_to is a naive datetime"),
    ("naive-iso-string", "2018-04-01T00:00:00", GOOD[1], ValueError, "date_from is a naive datetime"),
    ("inverted", "2018-04-30", "2018-04-01", ValueError, r"date_from \(.*\) is after date_to"),
    ("future", _SOON, _SOON + timedelta(days=1), ValueError, "is in the future"),
    ("future-date", date.today() + timedelta(days=2), date.today() + timedelta(days=3),
     ValueError, "is in the future"),
    ("too-long", "2017-04-01", "2018-04-02", ValueError, "longer than 12 months"),
    ("not-iso", "01/04/2018", GOOD[1], ValueError, "date_from is not an ISO-8601"),
    ("no-such-day", "2018-02-30", GOOD[1], ValueError, "date_from is not an ISO-8601"),
]
for name, dated in DATED.items():
    for label, date_from, date_to, error, match in BAD_RANGES:
        CASES.append(Bad(
            name, label, lambda c, d, f=date_from, t=date_to, m=dated: m(c, d, f, t), error, match
        ))

# -- extra_body and timeout -----------------------------------------------------------------

Keyword = Callable[[AsyncActivityClient, Path, dict[str, Any]], Any]
KEYWORDED: dict[str, Keyword] = {
    "summary": lambda c, d, kw: c.summary(*GOOD, **kw),
    "states_volume": lambda c, d, kw: c.states_volume(*GOOD, **kw),
    "workflow_states": lambda c, d, kw: c.workflow_states(*GOOD, **kw),
    "classifications": lambda c, d, kw: c.classifications(*GOOD, **kw),
    "response_volume": lambda c, d, kw: c.response_volume(*GOOD, **kw),
    "user_summary": lambda c, d, kw: c.user_summary(*GOOD, **kw),
    "user_volume": lambda c, d, kw: c.user_volume(*GOOD, **kw),
    "case_summary": lambda c, d, kw: c.case_summary(*GOOD, **kw),
    "case_volume": lambda c, d, kw: c.case_volume(*GOOD, **kw),
    "case_classifications": lambda c, d, kw: c.case_classifications(*GOOD, **kw),
    "nps_summary": lambda c, d, kw: c.nps_summary(FORM, *GOOD, **kw),
    "nps_volume": lambda c, d, kw: c.nps_volume(FORM, *GOOD, **kw),
    "report": lambda c, d, kw: c.report("summary", *GOOD, **kw),
    "start_export": lambda c, d, kw: c.start_export("case_details", *GOOD, **kw),
    "export_cases": lambda c, d, kw: c.export_cases(*GOOD, **kw),
    "export_nps_submissions": lambda c, d, kw: c.export_nps_submissions(FORM, *GOOD, **kw),
    "export_responses": lambda c, d, kw: c.export_responses(*GOOD, **kw),
}
BAD_KEYWORDS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("extra_body-str", {"extra_body": "groups=1"}, TypeError, "extra_body must be a mapping"),
    ("extra_body-int-key", {"extra_body": {1: 2}}, TypeError, "extra_body keys must be str"),
    ("extra_body-sets-type", {"extra_body": {"type": "x"}}, ValueError, "extra_body must not set type"),
    ("extra_body-sets-dates", {"extra_body": {"date_from": "x", "date_to": "y"}}, ValueError,
     "extra_body must not set date_from, date_to"),
    ("timeout-negative", {"timeout": -1}, ValueError, "timeout must be a finite number above 0"),
    ("timeout-zero", {"timeout": 0}, ValueError, "timeout must be a finite number above 0"),
    ("timeout-nan", {"timeout": math.nan}, ValueError, "timeout must be a finite number above 0"),
    ("timeout-str", {"timeout": "5"}, TypeError, "timeout must be a number of seconds"),
]
for name, keyworded in KEYWORDED.items():
    for label, kwargs, error, match in BAD_KEYWORDS:
        CASES.append(Bad(name, label, lambda c, d, kw=kwargs, m=keyworded: m(c, d, kw), error, match))
for name in ("users", "groups", "forms"):
    for label, kwargs, error, match in BAD_KEYWORDS:
        if label.startswith("timeout"):
            CASES.append(Bad(name, label, lambda c, d, kw=kwargs, n=name: getattr(c, n)(**kw),
                             error, match))

# -- NPS form ids and categories --------------------------------------------------------------

NPS: dict[str, Callable[[AsyncActivityClient, Any, Any], Any]] = {
    "nps_summary": lambda c, form, cat: c.nps_summary(form, *GOOD, cat),
    "nps_volume": lambda c, form, cat: c.nps_volume(form, *GOOD, cat),
    "export_nps_submissions": lambda c, form, cat: c.export_nps_submissions(form, *GOOD, cat),
    "start_export": lambda c, form, cat: c.start_export(
        "nps_submissions", *GOOD, form=form, nps_category=cat),
}
BAD_FORMS: list[tuple[str, Any, Any, type[Exception], str]] = [
    ("form-word", "abc", "all", ValueError, "form must be a numeric form id"),
    ("form-digits-and-letters", "12a", "all", ValueError, "form must be a numeric form id"),
    ("form-empty", "", "all", ValueError, "form must be a numeric form id"),
    ("form-bool", True, "all", TypeError, "form must be a form id"),
    ("form-negative", -1, "all", ValueError, "form must be a non-negative form id"),
    ("form-float", 55.0, "all", ValueError, "form must be a numeric form id"),
    ("form-list", [55], "all", ValueError, "form must be a numeric form id"),
    ("category-empty", FORM, "", ValueError, "nps_category must not be empty"),
    ("category-int", FORM, 5, TypeError, "nps_category must be a str"),
    ("category-newline", FORM, "all\r\n", ValueError, "nps_category must not contain control"),
]
for name, nps in NPS.items():
    for label, form, category, error, match in BAD_FORMS:
        CASES.append(Bad(name, label, lambda c, d, f=form, k=category, m=nps: m(c, f, k), error, match))
CASES.append(Bad("start_export", "form-none-for-nps",
                 lambda c, d: c.start_export("nps_submissions", *GOOD, form=None),
                 ValueError, "form is required for nps_submissions"))

# -- report types, export types, job tokens -------------------------------------------------

CASES += [
    Bad("report", "type-empty", lambda c, d: c.report("", *GOOD), ValueError, "report_type must not be empty"),
    Bad("report", "type-none", lambda c, d: c.report(None, *GOOD), TypeError, "report_type must be a str"),
    Bad("report", "type-newline", lambda c, d: c.report("summary\n", *GOOD), ValueError, "control characters"),
    Bad("workflow_states", "type-empty", lambda c, d: c.workflow_states(*GOOD, report_type=" "),
        ValueError, "report_type must not be empty"),
    Bad("workflow_states", "type-int", lambda c, d: c.workflow_states(*GOOD, report_type=5),
        TypeError, "report_type must be a str"),
    Bad("start_export", "type-report", lambda c, d: c.start_export("summary", *GOOD),
        ValueError, "report_type 'summary' is not an export"),
    Bad("start_export", "type-empty", lambda c, d: c.start_export("", *GOOD),
        ValueError, "report_type must not be empty"),
    Bad("start_export", "form-on-cases", lambda c, d: c.start_export("case_details", *GOOD, form=FORM),
        ValueError, "form applies only to nps_submissions"),
    Bad("export_job", "token-empty", lambda c, d: c.export_job(""), ValueError, "token must not be empty"),
    Bad("export_job", "token-int", lambda c, d: c.export_job(5), TypeError, "token must be a str"),
    Bad("export_job", "token-newline", lambda c, d: c.export_job("abc\n"), ValueError, "control characters"),
    Bad("export_job", "type-empty", lambda c, d: c.export_job("abc", ""), ValueError,
        "report_type must not be empty"),
]

# -- destinations and waits -----------------------------------------------------------------


def _missing(d: Path) -> Path:
    return d / "no-such-dir" / "x.csv"


def _under_file(d: Path) -> Path:
    (d / "a-file").write_text("")
    return d / "a-file" / "x.csv"


BAD_PATHS: list[tuple[str, Callable[[Path], Any], type[Exception], str]] = [
    ("path-is-directory", lambda d: d, IsADirectoryError, "is a directory"),
    ("path-dir-missing", _missing, FileNotFoundError, "does not exist"),
    ("path-under-a-file", _under_file, NotADirectoryError, "is not a directory"),
    ("path-bytes", lambda d: bytes(d / "x.csv"), TypeError, "path must be a str or os.PathLike"),
    ("path-int", lambda d: 5, TypeError, "path must be a str or os.PathLike"),
    ("path-none", lambda d: None, TypeError, "path must be a str or os.PathLike"),
    ("path-empty", lambda d: "", ValueError, "path must not be empty"),
]
for label, path, error, match in BAD_PATHS:
    CASES.append(Bad("export_to_file", label,
                     lambda c, d, p=path: c.export_to_file("case_details", p(d), *GOOD), error, match))
    CASES.append(Bad("download", label,
                     lambda c, d, p=path: c.export_job("abc").download(p(d)), error, match))

BAD_WAITS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("timeout-zero", {"timeout": 0}, ValueError, "timeout must be a finite number above 0"),
    ("timeout-negative", {"timeout": -5}, ValueError, "timeout must be a finite number above 0"),
    ("timeout-inf", {"timeout": math.inf}, ValueError, "timeout must be a finite number above 0"),
    ("timeout-str", {"timeout": "60"}, TypeError, "timeout must be a number of seconds"),
    ("timeout-bool", {"timeout": True}, TypeError, "timeout must be a number of seconds"),
    ("poll-zero", {"poll_interval": 0}, ValueError, "poll_interval must be a finite number above 0"),
    ("poll-nan", {"poll_interval": math.nan}, ValueError, "poll_interval must be a finite number"),
    ("poll-str", {"poll_interval": "1"}, TypeError, "poll_interval must be a number of seconds"),
]
for label, kwargs, error, match in BAD_WAITS:
    CASES.append(Bad("wait", label, lambda c, d, kw=kwargs: c.export_job("abc").wait(**kw), error, match))
    to_file = {("wait_timeout" if k == "timeout" else k): v for k, v in kwargs.items()}
    to_match = match.replace("timeout must", "wait_timeout must")
    CASES.append(Bad("export_to_file", label, lambda c, d, kw=to_file: c.export_to_file(
        "case_details", d / "x.csv", *GOOD, **kw), error, to_match))

BAD_DOWNLOAD_OPTIONS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("progress-int", {"progress": 5}, TypeError, "progress must be callable"),
    ("progress-str", {"progress": "print"}, TypeError, "progress must be callable"),
    ("fsync-str", {"fsync": "yes"}, TypeError, "fsync must be a bool"),
    ("fsync-int", {"fsync": 1}, TypeError, "fsync must be a bool"),
]
for label, kwargs, error, match in BAD_DOWNLOAD_OPTIONS:
    CASES.append(Bad("download", label,
                     lambda c, d, kw=kwargs: c.export_job("abc").download(d / "x.csv", **kw),
                     error, match))
    # export_to_file promises its arguments are checked before the export is started.
    CASES.append(Bad("export_to_file", label, lambda c, d, kw=kwargs: c.export_to_file(
        "case_details", d / "x.csv", *GOOD, **kw), error, match))
CASES.append(Bad("export_to_file", "type-report",
                 lambda c, d: c.export_to_file("summary", d / "x.csv", *GOOD),
                 ValueError, "report_type 'summary' is not an export"))


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Every request is answered, recorded, and fails the test afterwards."""
    with respx.mock(assert_all_called=False) as mock:

        def answer(request: httpx.Request) -> httpx.Response:
            note_respx_request(request)
            if request.url.path.endswith("/reports"):
                return httpx.Response(200, json={"status": "pending", "url": None, "token": "t"})
            return httpx.Response(200, json={"status": "complete", "url": None, "token": "t"})

        route = mock.route().mock(side_effect=answer)
        yield mock
        assert route.call_count == 0, f"{route.call_count} request(s) sent for a bad argument"


@pytest.mark.bad_input
@pytest.mark.parametrize("method", [pytest.param(c, id=str(c)) for c in CASES])
async def test_bad_argument_raises_before_sending(
    method: Bad, router: respx.MockRouter, tmp_path: Path
) -> None:
    async with new_http_client() as http:
        client = AsyncActivityClient(
            token=TOKEN, base_url=API, status_url=STATUS_URL, http_client=http
        )
        with raises(method.error, match=method.match):
            result = method.call(client, tmp_path)
            if inspect.isawaitable(result):
                await result


# -- the constructor --------------------------------------------------------------------------

CONSTRUCTOR: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("token-empty", {"token": ""}, ValueError, "token must not be empty"),
    ("token-blank", {"token": "   "}, ValueError, "token must not be empty"),
    ("token-int", {"token": 123}, TypeError, "token must be a str"),
    ("token-bytes", {"token": TOKEN.encode()}, TypeError, "token must be a str"),
    ("token-newline", {"token": TOKEN + "\n"}, ValueError, "token has leading or trailing whitespace"),
    ("token-inner-newline", {"token": "ab\ncd"}, ValueError, "token must be printable ASCII"),
    ("token-missing", {"token": None}, ValueError, "no API token"),
    ("base_url-no-scheme", {"base_url": "api.lexer.io"}, ValueError, "base_url (is not absolute|has no host)"),
    ("base_url-ftp", {"base_url": "ftp://api.lexer.io"}, ValueError, "base_url has the scheme 'ftp'"),
    ("base_url-empty", {"base_url": ""}, ValueError, "base_url must not be empty"),
    ("base_url-int", {"base_url": 5}, TypeError, "base_url must be a str"),
    ("status_url-relative", {"status_url": "/status"}, ValueError, "status_url is not absolute"),
    ("timeout-negative", {"timeout": -1}, ValueError, "timeout must be a finite number above 0"),
    ("timeout-str", {"timeout": "30"}, TypeError, "timeout must be a number of seconds"),
    ("timeout-inf", {"timeout": math.inf}, ValueError, "timeout must be a finite number"),
    ("max_retries-negative", {"max_retries": -1}, ValueError, "max_retries must be an int >= 0"),
    ("max_retries-bool", {"max_retries": True}, ValueError, "max_retries must be an int >= 0"),
    ("max_retries-float", {"max_retries": 1.5}, ValueError, "max_retries must be an int >= 0"),
    ("rate_limit-int", {"rate_limit": 100}, TypeError, "rate_limit must be a .requests, seconds. tuple"),
    ("rate_limit-list", {"rate_limit": [100, 300]}, TypeError, "rate_limit must be a"),
    ("rate_limit-zero-requests", {"rate_limit": (0, 300)}, ValueError, "rate_limit requests must be a positive int"),
    ("rate_limit-float-requests", {"rate_limit": (1.5, 300)}, ValueError, "rate_limit requests must be"),
    ("rate_limit-zero-seconds", {"rate_limit": (100, 0)}, ValueError, "rate_limit seconds must be a finite number above 0"),
    ("rate_limit-str-seconds", {"rate_limit": (100, "300")}, TypeError, "rate_limit seconds must be a number"),
    ("max_retry_after-negative", {"max_retry_after": -1}, ValueError, "max_retry_after must be a finite number at least 0"),
    ("max_retry_after-inf", {"max_retry_after": math.inf}, ValueError, "max_retry_after must be a finite"),
    ("max_retry_after-str", {"max_retry_after": "60"}, TypeError, "max_retry_after must be a number"),
    ("http_client-object", {"http_client": object()}, TypeError, "http_client must be an httpx.AsyncClient"),
    ("http_client-sync", {"http_client": "sync"}, TypeError, "http_client must be an httpx.AsyncClient, not Client"),
    ("timezone-unknown", {"timezone": "Mars/Olympus_Mons"}, ValueError, "is not a known IANA zone"),
    ("timezone-int", {"timezone": 10}, TypeError, "timezone must be a tzinfo or an IANA name"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("method", "kwargs", "error", "match"),
    [pytest.param("AsyncActivityClient", *case[1:], id=case[0]) for case in CONSTRUCTOR],
)
def test_bad_constructor_argument(
    method: str,
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
    router: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEXER_API_TOKEN", raising=False)
    settings: dict[str, Any] = {"token": TOKEN, "base_url": API, "status_url": STATUS_URL, **kwargs}
    sync_client = None
    if settings.get("http_client") == "sync":
        settings["http_client"] = sync_client = httpx.Client()
    try:
        with raises(error, match=match):
            AsyncActivityClient(**settings)
    finally:
        if sync_client is not None:
            sync_client.close()
