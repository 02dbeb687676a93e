"""Every documented error, with its exact status and message, and the order of checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from lexer_activity.sandbox import DEFAULT_TOKEN

AUTH = {"Auth-Api-Token": DEFAULT_TOKEN}
NOW = datetime(2018, 6, 1, 12, 0, tzinfo=timezone.utc)
Report = Callable[..., Any]


@pytest.fixture
async def http(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> Any:
    async with asgi(make_app(now=lambda: NOW, volume_scale=0.05)) as client:
        yield client


def error(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


@pytest.mark.parametrize("path", ["/v1/users", "/v1/groups", "/v1/forms"])
@pytest.mark.asyncio
async def test_missing_and_wrong_tokens(http: httpx.AsyncClient, path: str) -> None:
    assert error(await http.get(path)) == (401, {"error": "Unauthorized"})
    assert error(await http.get(path, headers={"Auth-Api-Token": ""})) == (
        401, {"error": "Unauthorized"},
    )
    assert error(await http.get(path, headers={"Auth-Api-Token": "nope"})) == (
        401, {"error": "Unauthorized - api token not matching"},
    )


@pytest.mark.asyncio
async def test_status_and_reports_need_the_token_too(http: httpx.AsyncClient) -> None:
    assert (await http.post("/v1/activity/reports", json={})).status_code == 401
    assert (await http.get("/api/public/v1/activity/reports/status?token=x")).status_code == 401


@pytest.mark.parametrize(
    ("date_from", "date_to", "status"),
    [
        ("2017-04-01T00:00:00+11:00", "2018-04-01T00:00:00+11:00", 200),  # exactly 12 months
        ("2017-04-01T00:00:00+11:00", "2018-04-01T00:00:01+11:00", 400),
        ("2016-02-29T00:00:00Z", "2017-02-28T00:00:00Z", 200),  # clamped to February's end
        ("2016-02-29T00:00:00Z", "2017-03-01T00:00:00Z", 400),
    ],
)
@pytest.mark.asyncio
async def test_range_too_long(
    http: httpx.AsyncClient, report: Report, date_from: str, date_to: str, status: int
) -> None:
    response = await report(http, "case_summary", date_from=date_from, date_to=date_to)
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"error": "Invalid report - date range is too long"}


@pytest.mark.asyncio
async def test_future_start(http: httpx.AsyncClient, report: Report) -> None:
    future = {"date_from": "2018-06-01T12:00:01Z", "date_to": "2018-06-02T00:00:00Z"}
    assert error(await report(http, "summary", **future)) == (
        400, {"error": "Invalid report - starting date is a future date"},
    )
    # Only the start is checked: a range running into the future is fine.
    ongoing = {"date_from": "2018-05-31T00:00:00Z", "date_to": "2018-06-30T00:00:00Z"}
    assert (await report(http, "summary", **ongoing)).status_code == 200


@pytest.mark.parametrize("report_type", ["summery", "workflow_states", "", None, 7])
@pytest.mark.asyncio
async def test_invalid_type(http: httpx.AsyncClient, report: Report, report_type: Any) -> None:
    assert error(await report(http, report_type)) == (
        400, {"error": "Invalid report - invalid type"},
    )


@pytest.mark.asyncio
async def test_missing_type_is_an_invalid_type(http: httpx.AsyncClient) -> None:
    body = {"date_from": "2018-04-01T00:00:00Z", "date_to": "2018-04-02T00:00:00Z"}
    response = await http.post("/v1/activity/reports", json=body, headers=AUTH)
    assert error(response) == (400, {"error": "Invalid report - invalid type"})


NOT_FOUND = (404, {"error": "Not found"})


@pytest.mark.parametrize(
    "body",
    [
        {"date_to": "2018-04-02T00:00:00Z"},
        {"date_from": "2018-04-01T00:00:00Z"},
        {"date_from": "yesterday", "date_to": "2018-04-02T00:00:00Z"},
        {"date_from": "2018-04-01T00:00:00", "date_to": "2018-04-02T00:00:00"},  # no offset
        {"date_from": "2018-02-30T00:00:00Z", "date_to": "2018-04-02T00:00:00Z"},
        {"date_from": "2018-04-03T00:00:00Z", "date_to": "2018-04-02T00:00:00Z"},  # reversed
        {"date_from": 1522540800, "date_to": 1522627200},
    ],
)
@pytest.mark.asyncio
async def test_bad_dates_are_not_found(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await http.post("/v1/activity/reports", json={"type": "summary", **body},
                               headers=AUTH)
    assert error(response) == NOT_FOUND


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b'"summary"'])
@pytest.mark.asyncio
async def test_a_body_that_is_not_a_json_object_is_not_found(
    http: httpx.AsyncClient, content: bytes
) -> None:
    response = await http.post("/v1/activity/reports", content=content, headers=AUTH)
    assert error(response) == NOT_FOUND


@pytest.mark.asyncio
async def test_nps_reports_need_a_known_nps_form(http: httpx.AsyncClient, report: Report) -> None:
    forms = (await http.get("/v1/forms", headers=AUTH)).json()
    nps = next(f["id"] for f in forms if f["nps"])
    other = next(f["id"] for f in forms if not f["nps"])
    for report_type in ("nps_summary", "nps_volume", "nps_submissions"):
        assert error(await report(http, report_type)) == NOT_FOUND
        assert error(await report(http, report_type, form=999_999)) == NOT_FOUND
        assert error(await report(http, report_type, form=other)) == NOT_FOUND
        assert error(await report(http, report_type, form=nps, nps_category="grumpy")) == (
            NOT_FOUND
        )
        assert (await report(http, report_type, form=nps)).status_code == 200
        assert (await report(http, report_type, form=str(nps))).status_code == 200


@pytest.mark.asyncio
async def test_unknown_paths_methods_and_jobs_are_not_found(http: httpx.AsyncClient) -> None:
    assert error(await http.get("/v1/nothing", headers=AUTH)) == NOT_FOUND
    assert error(await http.get("/v1/activity/reports", headers=AUTH)) == NOT_FOUND
    status = "/api/public/v1/activity/reports/status"
    assert error(await http.get(status, params={"token": "nope"}, headers=AUTH)) == NOT_FOUND
    assert error(await http.get(status, headers=AUTH)) == NOT_FOUND


@pytest.mark.asyncio
async def test_extra_body_fields_are_ignored(http: httpx.AsyncClient, report: Report) -> None:
    response = await report(http, "summary", users=[1, 2], groups=[3], whatever={"a": 1})
    assert response.status_code == 200


@pytest.mark.asyncio
async def test_auth_comes_before_the_rate_window_and_validation(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient], report: Report
) -> None:
    async with asgi(make_app(rate_limit=1)) as http:
        bad = {"type": "nope"}
        assert (await http.post("/v1/activity/reports", json=bad)).status_code == 401
        assert (await report(http, "nope")).status_code == 400  # admitted: spends the slot
        limited = await report(http, "nope")
        assert error(limited) == (429, {"error": "Rate limited exceeded"})
        wrong = {"Auth-Api-Token": "nope"}
        assert (await http.post("/v1/activity/reports", json=bad, headers=wrong)).status_code == (
            401
        )
