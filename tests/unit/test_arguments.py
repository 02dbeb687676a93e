"""Bad arguments raise a precise error naming the argument, and send nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from lexer_activity import APIConnectionError, AsyncActivityClient
from lexer_activity._dates import add_months, resolve_range
from tests.conftest import API, STATUS_URL, TOKEN

UTC = timezone.utc


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    # Any request at all fails the test: bad input must be caught before sending.
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.route().mock(return_value=httpx.Response(200, json={}))
        yield mock
        assert route.call_count == 0, "a request was sent for bad input"


@pytest.fixture
async def client(router: respx.MockRouter) -> AsyncIterator[AsyncActivityClient]:
    async with AsyncActivityClient(token=TOKEN, base_url=API, status_url=STATUS_URL) as c:
        yield c


FUTURE = datetime.now(UTC) + timedelta(days=3)


@pytest.mark.parametrize(
    ("date_from", "date_to", "exc", "fragment"),
    [
        (datetime(2018, 4, 1), "2018-04-30", ValueError, "date_from is a naive datetime"),
        ("2018-04-01", datetime(2018, 4, 30), ValueError, "date_to is a naive datetime"),
        ("2018-04-01T00:00:00", "2018-04-30", ValueError, "date_from is a naive datetime"),
        ("2018-04-30", "2018-04-01", ValueError, "after date_to"),
        (FUTURE, FUTURE + timedelta(days=1), ValueError, "date_from .* is in the future"),
        ("2018-01-01", "2019-01-02", ValueError, "longer than 12 months"),
        ("01/04/2018", "2018-04-30", ValueError, "date_from is not an ISO-8601"),
        (20180401, "2018-04-30", TypeError, "date_from must be an aware datetime"),
        ("2018-04-01", None, TypeError, "date_to must be"),
    ],
)
async def test_bad_dates(
    client: AsyncActivityClient, date_from: Any, date_to: Any, exc: type[Exception], fragment: str
) -> None:
    with pytest.raises(exc, match=fragment):
        await client.summary(date_from, date_to)
    with pytest.raises(exc, match=fragment):
        await client.export_cases(date_from, date_to)


@pytest.mark.parametrize(
    ("call", "exc", "fragment"),
    [
        (
            lambda c: c.nps_summary("abc", "2018-04-01", "2018-04-02"),
            ValueError,
            "form must be a numeric",
        ),
        (
            lambda c: c.nps_volume(True, "2018-04-01", "2018-04-02"),
            TypeError,
            "form must be a form id",
        ),
        (lambda c: c.nps_volume(-3, "2018-04-01", "2018-04-02"), ValueError, "non-negative"),
        (
            lambda c: c.nps_summary(1.5, "2018-04-01", "2018-04-02"),
            ValueError,
            "form must be a numeric",
        ),
        (
            lambda c: c.nps_summary(5, "2018-04-01", "2018-04-02", nps_category=""),
            ValueError,
            "nps_category must not be empty",
        ),
        (
            lambda c: c.summary("2018-04-01", "2018-04-02", extra_body=[1]),
            TypeError,
            "extra_body must be a mapping",
        ),
        (
            lambda c: c.summary("2018-04-01", "2018-04-02", extra_body={"type": "x"}),
            ValueError,
            "extra_body must not set type",
        ),
        (
            lambda c: c.summary("2018-04-01", "2018-04-02", extra_body={1: "x"}),
            TypeError,
            "extra_body keys must be str",
        ),
        (
            lambda c: c.summary("2018-04-01", "2018-04-02", timeout=-1),
            ValueError,
            "timeout must be a finite number above 0",
        ),
        (
            lambda c: c.summary("2018-04-01", "2018-04-02", timeout="5"),
            TypeError,
            "timeout must be a number",
        ),
        (
            lambda c: c.report("", "2018-04-01", "2018-04-02"),
            ValueError,
            "report_type must not be empty",
        ),
        (
            lambda c: c.report(None, "2018-04-01", "2018-04-02"),
            TypeError,
            "report_type must be a str",
        ),
        (
            lambda c: c.workflow_states("2018-04-01", "2018-04-02", report_type="a\nb"),
            ValueError,
            "control characters",
        ),
        (
            lambda c: c.start_export("summary", "2018-04-01", "2018-04-02"),
            ValueError,
            "not an export",
        ),
        (
            lambda c: c.start_export("nps_submissions", "2018-04-01", "2018-04-02"),
            ValueError,
            "form is required",
        ),
        (
            lambda c: c.start_export("case_details", "2018-04-01", "2018-04-02", form=3),
            ValueError,
            "form applies only",
        ),
        (lambda c: c.users(timeout=0), ValueError, "timeout must be a finite number above 0"),
    ],
)
async def test_bad_method_arguments(
    client: AsyncActivityClient, call: Any, exc: type[Exception], fragment: str
) -> None:
    with pytest.raises(exc, match=fragment):
        await call(client)


@pytest.mark.parametrize(
    ("kwargs", "exc", "fragment"),
    [
        ({"token": ""}, ValueError, "token must not be empty"),
        ({"token": "   "}, ValueError, "token must not be empty"),
        ({"token": 123}, TypeError, "token must be a str"),
        ({"token": "abc\r\nX-Evil: 1"}, ValueError, "control or non-ASCII characters"),
        ({"token": " tok-123 "}, ValueError, "leading or trailing whitespace"),
        ({"token": "tök-123"}, ValueError, "printable ASCII"),
        ({"base_url": "ftp://api.lexer.io"}, ValueError, "base_url has the scheme 'ftp'"),
        ({"base_url": "http://h:99999"}, ValueError, "base_url is not a valid URL|invalid port"),
        ({"status_url": "clients.lexer.io/status"}, ValueError, "status_url (is not absolute|has no host)"),
        ({"max_retries": -1}, ValueError, "max_retries must be an int >= 0"),
        ({"max_retries": 1.5}, ValueError, "max_retries"),
        ({"rate_limit": (0, 300.0)}, ValueError, "rate_limit requests must be a positive int"),
        ({"rate_limit": (100, -1)}, ValueError, "rate_limit seconds"),
        ({"rate_limit": 100}, TypeError, "rate_limit must be a"),
        ({"timeout": 0}, ValueError, "timeout must be a finite number above 0"),
        ({"timezone": "Mars/Olympus"}, ValueError, "not a known IANA zone"),
        ({"timezone": 11}, TypeError, "timezone must be a tzinfo"),
        ({"http_client": object()}, TypeError, "http_client must be an httpx.AsyncClient"),
    ],
)
def test_bad_constructor_arguments(
    kwargs: dict[str, Any], exc: type[Exception], fragment: str
) -> None:
    args: dict[str, Any] = {"token": TOKEN, **kwargs}
    with pytest.raises(exc, match=fragment) as info:
        AsyncActivityClient(**args)
    assert TOKEN not in str(info.value)


def test_missing_token_says_how_to_supply_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEXER_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match=r"token=.*LEXER_API_TOKEN"):
        AsyncActivityClient()


async def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEXER_API_TOKEN", "env-token-123")
    with respx.mock as router:
        route = router.get("https://api.lexer.io/v1/groups").mock(
            return_value=httpx.Response(200, json=[])
        )
        async with AsyncActivityClient() as client:
            await client.groups()
    assert route.calls.last.request.headers["Auth-Api-Token"] == "env-token-123"


async def test_hosts_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEXER_BASE_URL", "http://127.0.0.1:8787/")
    monkeypatch.setenv("LEXER_STATUS_URL", "http://127.0.0.1:8787/api/public/v1/activity/reports/status")
    client = AsyncActivityClient(token=TOKEN)
    assert client.base_url == "http://127.0.0.1:8787"
    assert client.status_url.endswith("/reports/status")
    explicit = AsyncActivityClient(token=TOKEN, base_url=API)
    assert explicit.base_url == API
    monkeypatch.setenv("LEXER_BASE_URL", "not a url")
    with pytest.raises(ValueError, match="base_url contains spaces"):
        AsyncActivityClient(token=TOKEN)


async def test_connection_error_names_the_host() -> None:
    with respx.mock as router:
        router.get(f"{API}/v1/users").mock(side_effect=httpx.ConnectError(""))
        async with AsyncActivityClient(token=TOKEN, base_url=API, max_retries=0) as client:
            with pytest.raises(APIConnectionError, match=r"^users: ConnectError at https://api.lexer.test: no detail$"):
                await client.users()


def test_repr_hides_token() -> None:
    client = AsyncActivityClient(token=TOKEN)
    assert TOKEN not in repr(client)
    assert "hidden" in repr(client)
    assert TOKEN not in repr(client._requester)


async def test_injected_http_client_is_not_closed() -> None:
    http = httpx.AsyncClient()
    async with AsyncActivityClient(token=TOKEN, http_client=http):
        pass
    assert not http.is_closed
    await http.aclose()


async def test_owned_http_client_is_closed() -> None:
    client = AsyncActivityClient(token=TOKEN)
    await client.aclose()
    await client.aclose()  # idempotent
    assert client._requester.http.is_closed


class TestDates:
    """Dates are sent as the vendor's examples send them, in the client's timezone."""

    async def test_dates_mean_whole_days_in_client_timezone(self) -> None:
        with respx.mock as router:
            route = router.post(f"{API}/v1/activity/reports").mock(
                return_value=httpx.Response(200, json={})
            )
            async with AsyncActivityClient(
                token=TOKEN, base_url=API, timezone="Australia/Sydney"
            ) as client:
                await client.summary(date(2018, 4, 1), date(2018, 4, 30))
        body = json.loads(route.calls.last.request.content)
        # The vendor's own example range, byte for byte.
        assert body["date_from"] == "2018-04-01T00:00:00+11:00"
        assert body["date_to"] == "2018-04-30T23:59:59+10:00"  # DST ended on 1 April 2018

    def test_aware_datetime_and_z_strings(self) -> None:
        span = resolve_range(
            datetime(2018, 4, 1, tzinfo=ZoneInfo("Australia/Sydney")),
            "2018-04-30T12:59:59Z",
            tz=UTC,
        )
        assert span.body() == {
            "date_from": "2018-04-01T00:00:00+11:00",
            "date_to": "2018-04-30T12:59:59+00:00",
        }

    def test_exactly_twelve_months_is_allowed(self) -> None:
        span = resolve_range("2018-01-01", "2018-12-31", tz=UTC)
        assert span.body()["date_to"] == "2018-12-31T23:59:59+00:00"
        resolve_range("2018-01-01T00:00:00+00:00", "2019-01-01T00:00:00+00:00", tz=UTC)
        with pytest.raises(ValueError, match="longer than 12 months"):
            resolve_range("2018-01-01T00:00:00+00:00", "2019-01-01T00:00:01+00:00", tz=UTC)

    def test_add_months_clamps_day(self) -> None:
        assert add_months(datetime(2019, 1, 31), 1) == datetime(2019, 2, 28)
        assert add_months(datetime(2020, 2, 29), 12) == datetime(2021, 2, 28)
        assert add_months(datetime(2018, 11, 15), 3) == datetime(2019, 2, 15)

    def test_same_instant_range_is_allowed(self) -> None:
        resolve_range("2018-04-01T00:00:00+00:00", "2018-04-01T00:00:00+00:00", tz=UTC)
