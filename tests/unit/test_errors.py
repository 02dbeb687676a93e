"""Every documented error answer maps to its precise exception; retries follow the rules."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

import lexer_activity as la
from lexer_activity import AsyncActivityClient
from tests.conftest import API, STATUS_URL, TOKEN

FROM, TO = "2018-04-01T00:00:00+11:00", "2018-04-30T23:59:59+11:00"
REPORTS = f"{API}/v1/activity/reports"


@pytest.fixture
async def client() -> AsyncIterator[AsyncActivityClient]:
    async with AsyncActivityClient(
        token=TOKEN, base_url=API, status_url=STATUS_URL, max_retries=2
    ) as c:
        yield c


@pytest.fixture(autouse=True)
def _instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Backoff is exercised for its numbers in test_retry.py; here it would only cost time.
    monkeypatch.setattr("lexer_activity._requester.backoff_delay", lambda attempt: 0.001)


DOCUMENTED = [
    (400, "Invalid report - date range is too long", la.DateRangeTooLongError),
    (400, "Invalid report - starting date is a future date", la.FutureStartDateError),
    (400, "Invalid report - invalid type", la.InvalidReportTypeError),
    (400, "Something else entirely", la.BadRequestError),
    (401, "Unauthorized - api token not matching", la.AuthenticationError),
    (401, "Unauthorized", la.AuthenticationError),
    (404, "Not found", la.NotFoundError),
]


@pytest.mark.parametrize(("status", "message", "exc_type"), DOCUMENTED)
@pytest.mark.parametrize("body_style", ["error", "message", "errors", "text"])
async def test_documented_errors_map_to_classes(
    client: AsyncActivityClient,
    status: int,
    message: str,
    exc_type: type[la.APIStatusError],
    body_style: str,
) -> None:
    if body_style == "text":
        response = httpx.Response(status, text=message)
    elif body_style == "errors":
        response = httpx.Response(status, json={"errors": [message]})
    else:
        response = httpx.Response(status, json={body_style: message})
    with respx.mock as router:
        route = router.post(REPORTS).mock(return_value=response)
        with pytest.raises(exc_type) as info:
            await client.summary(FROM, TO)
    assert type(info.value) is exc_type
    assert info.value.status_code == status
    assert info.value.message == message
    assert info.value.response.status_code == status
    assert message in str(info.value)
    assert "summary" in str(info.value)
    assert route.call_count == 1  # other 4xx never retry


async def test_rate_limit_error_after_retries(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = router.post(REPORTS).mock(
            return_value=httpx.Response(
                429, json={"error": "Rate limited exceeded"}, headers={"Retry-After": "0.01"}
            )
        )
        with pytest.raises(la.RateLimitError) as info:
            await client.summary(FROM, TO)
    assert route.call_count == 3  # the first try and max_retries=2
    assert info.value.retry_after == pytest.approx(0.01)
    assert info.value.message == "Rate limited exceeded"


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
async def test_retryable_statuses_recover(client: AsyncActivityClient, status: int) -> None:
    with respx.mock as router:
        route = router.post(REPORTS)
        route.side_effect = [
            httpx.Response(status, text="upstream hiccup"),
            httpx.Response(status, text="upstream hiccup"),
            httpx.Response(200, json={"total_volume": 5}),
        ]
        summary = await client.summary(FROM, TO)
    assert summary.total_volume == 5
    assert route.call_count == 3


async def test_server_error_after_retries(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = router.post(REPORTS).mock(return_value=httpx.Response(503, text="down"))
        with pytest.raises(la.ServerError) as info:
            await client.summary(FROM, TO)
    assert route.call_count == 3
    assert info.value.status_code == 503


async def test_connection_errors_retry_then_raise(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = router.get(f"{API}/v1/users").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(la.APIConnectionError) as info:
            await client.users()
    assert route.call_count == 3
    assert not isinstance(info.value, la.APITimeoutError)


async def test_timeouts_map_to_api_timeout_error(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = router.get(f"{API}/v1/groups")
        route.side_effect = [httpx.ReadTimeout("slow"), httpx.Response(200, json=[{"id": 1}])]
        assert [g.id for g in await client.groups()] == [1]
        route.side_effect = httpx.ReadTimeout("slow")
        with pytest.raises(la.APITimeoutError):
            await client.groups()


async def test_export_start_is_never_retried_after_ambiguous_failure(
    client: AsyncActivityClient,
) -> None:
    with respx.mock as router:
        route = router.post(REPORTS).mock(return_value=httpx.Response(502, text="bad gateway"))
        with pytest.raises(la.ServerError):
            await client.export_cases(FROM, TO)
        assert route.call_count == 1
        route.mock(side_effect=httpx.ReadTimeout("no answer"))
        with pytest.raises(la.APITimeoutError):
            await client.export_cases(FROM, TO)
        assert route.call_count == 2


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"<html><body>Error</body></html>", "text/html", "not valid JSON (text/html)"),
        (b"", "application/json", "empty"),
        (b'["a list"]', "application/json", "does not match Summary"),
        (b'{"total_volume": "many"}', "application/json", "total_volume"),
    ],
)
async def test_bad_answers_raise_response_validation_error(
    client: AsyncActivityClient, body: bytes, content_type: str, fragment: str
) -> None:
    with respx.mock as router:
        router.post(REPORTS).mock(
            return_value=httpx.Response(200, content=body, headers={"content-type": content_type})
        )
        with pytest.raises(la.ResponseValidationError) as info:
            await client.summary(FROM, TO)
    assert fragment in str(info.value)
    assert str(info.value).startswith("summary:")
    assert info.value.excerpt == body.decode()[:200]


async def test_users_answer_that_is_not_json_names_the_endpoint(
    client: AsyncActivityClient,
) -> None:
    with respx.mock as router:
        # The vendor's own users example, trailing comma and all, is not valid JSON.
        router.get(f"{API}/v1/users").mock(
            return_value=httpx.Response(200, text='{"id": 1, "groups": [123, 456,]}')
        )
        with pytest.raises(la.ResponseValidationError, match=r"^users: .*not valid JSON"):
            await client.users()


async def test_token_never_in_errors_or_logs(
    client: AsyncActivityClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with respx.mock as router:
        route = router.post(REPORTS)
        route.side_effect = [
            httpx.Response(503, text="down"),
            httpx.Response(401, json={"error": "Unauthorized - api token not matching"}),
        ]
        with pytest.raises(la.AuthenticationError) as info:
            await client.summary(FROM, TO)
        seen += [str(info.value), repr(info.value), repr(client)]
        assert route.calls.last.request.headers["Auth-Api-Token"] == TOKEN
    seen += [record.getMessage() for record in caplog.records]
    assert caplog.records, "expected debug/retry log lines"
    assert not [text for text in seen if TOKEN in text]


def test_every_error_is_a_lexer_activity_error() -> None:
    for name in la.__all__:
        obj = getattr(la, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, la.LexerActivityError), name
            assert obj.__module__ == "lexer_activity"
    assert issubclass(la.APITimeoutError, la.APIConnectionError)
    for sub in (la.DateRangeTooLongError, la.FutureStartDateError, la.InvalidReportTypeError):
        assert issubclass(sub, la.BadRequestError)
    for sub in (la.ExportFailedError, la.ExportTimeoutError, la.DownloadError):
        assert issubclass(sub, la.ExportError)


async def test_error_body_is_kept(client: AsyncActivityClient) -> None:
    payload = {"error": "Not found", "detail": {"field": "date_from"}}
    with respx.mock as router:
        router.post(REPORTS).mock(return_value=httpx.Response(404, text=json.dumps(payload)))
        with pytest.raises(la.NotFoundError) as info:
            await client.summary(FROM, TO)
    assert info.value.body == payload


async def test_redirects_are_not_followed_and_carry_no_token() -> None:
    # A follow_redirects client would re-send Auth-Api-Token to the Location's host.
    async with httpx.AsyncClient(follow_redirects=True) as http:
        client = AsyncActivityClient(token=TOKEN, base_url=API, http_client=http, max_retries=0)
        with respx.mock as router:
            router.post(REPORTS).mock(
                return_value=httpx.Response(
                    307, headers={"Location": "https://elsewhere.test/steal"}, json={"total_volume": 1}
                )
            )
            elsewhere = router.route(host="elsewhere.test").mock(return_value=httpx.Response(200))
            with pytest.raises(la.APIStatusError) as info:
                await client.summary(FROM, TO)
        assert info.value.status_code == 307
        assert elsewhere.call_count == 0


async def test_undecodable_body_is_a_validation_error(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        router.post(REPORTS).mock(
            return_value=httpx.Response(
                200, stream=httpx.ByteStream(b"not gzip at all"), headers={"Content-Encoding": "gzip"}
            )
        )
        with pytest.raises(la.ResponseValidationError, match="could not be decoded"):
            await client.summary(FROM, TO)


async def test_extra_body_must_be_json(client: AsyncActivityClient) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.post(REPORTS).mock(return_value=httpx.Response(200, json={}))
        for bad in ({"groups": {1, 2}}, {"x": float("nan")}):
            with pytest.raises(ValueError, match="extra_body is not JSON-serialisable"):
                await client.summary(FROM, TO, extra_body=bad)
    assert route.call_count == 0


async def test_a_429_that_gives_up_still_pauses_the_token() -> None:
    with respx.mock as router:
        router.get(f"{API}/v1/users").mock(
            return_value=httpx.Response(429, headers={"Retry-After": "0.3"})
        )
        groups = router.get(f"{API}/v1/groups").mock(return_value=httpx.Response(200, json=[]))
        async with AsyncActivityClient(token=TOKEN, base_url=API, max_retries=0) as client:
            with pytest.raises(la.RateLimitError):
                await client.users()
            began = asyncio.get_running_loop().time()
            await client.groups()
            assert asyncio.get_running_loop().time() - began >= 0.25
    assert groups.call_count == 1


async def test_closed_client_says_so_and_sends_nothing() -> None:
    client = AsyncActivityClient(token=TOKEN, base_url=API)
    await client.aclose()
    with pytest.raises(RuntimeError, match="AsyncActivityClient is closed"):
        await client.users()


async def test_token_is_hidden_in_the_error_response(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        router.post(REPORTS).mock(return_value=httpx.Response(404, json={"error": "Not found"}))
        with pytest.raises(la.NotFoundError) as info:
            await client.summary(FROM, TO)
    assert info.value.response.request.headers["Auth-Api-Token"] == "<hidden>"
    assert TOKEN not in repr(info.value.response.request.headers)
