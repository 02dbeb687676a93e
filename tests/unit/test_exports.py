"""Export jobs: the start answer, polling and its schedule, one job only, rows, repr.

The file bytes themselves (resume, verification, atomic writes) are in test_download.py.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import math
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import pytest_asyncio
import respx

from lexer_activity import (
    AsyncActivityClient,
    ExportFailedError,
    ExportFormatError,
    ExportJob,
    ExportTimeoutError,
    ResponseValidationError,
    ServerError,
    _download,
    _exports,
    _requester,
)
from tests.fixtures.vendor_examples import EXPORT_COMPLETE, EXPORT_STARTED
from tests.unit.test_download import FileHost, collect

API = "https://api.lexer.test"
REPORTS = f"{API}/v1/activity/reports"
STATUS_URL = "https://clients.lexer.test/api/public/v1/activity/reports/status"
FILE_HOST = "https://files.lexer.test"
FILE_URL = f"{FILE_HOST}/activity_abc123?X-Amz-Signature=s1gnature"

# The vendor's answers, verbatim; the "complete" one with the page's missing quote restored
# and its placeholder URL replaced where a download must really happen.
STARTED = EXPORT_STARTED
COMPLETE = EXPORT_COMPLETE.replace("<CSV File Location>", FILE_URL)
PENDING = '{ "status": "pending", "url": null, "token": "<report_token>" }'


def answer(text: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, text=text, headers={"Content-Type": "application/json", **headers}
    )


@pytest.fixture
def token() -> str:
    return f"t-{uuid.uuid4()}"


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    # No real backoff sleeps: neither in the requester's retries nor in download resumes.
    monkeypatch.setattr(_requester, "backoff_delay", lambda attempt: 0.0)
    monkeypatch.setattr(_download, "backoff_delay", lambda attempt: 0.0)
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest_asyncio.fixture
async def client(token: str, router: respx.MockRouter) -> AsyncIterator[AsyncActivityClient]:
    async with AsyncActivityClient(
        token=token, base_url=API, status_url=STATUS_URL, rate_limit=(1000, 1.0)
    ) as c:
        yield c


class FakeClock:
    """Stands in for the event loop clock and sleep inside ``wait()``."""

    def __init__(self) -> None:
        self.now = 5000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_exports, "_now", fake.time)
    monkeypatch.setattr(_exports, "_sleep", fake.sleep)
    return fake


# -- the start answer -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_start_answer_makes_a_pending_job(
    client: AsyncActivityClient, router: respx.MockRouter, token: str
) -> None:
    start = router.post(REPORTS).mock(return_value=answer(STARTED))
    job = await client.export_cases("2019-06-15T00:00:00+11:00", "2019-06-30T23:59:59+11:00")
    assert (job.token, job.report_type, job.status, job.url) == (
        "<report_token>", "case_details", "pending", None,
    )
    assert start.call_count == 1
    body = json.loads(start.calls[0].request.content)
    assert body == {
        "type": "case_details",
        "date_from": "2019-06-15T00:00:00+11:00",
        "date_to": "2019-06-30T23:59:59+11:00",
    }
    assert start.calls[0].request.headers["auth-api-token"] == token


@pytest.mark.asyncio
async def test_nps_and_responses_exports_send_their_types(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    start = router.post(REPORTS).mock(return_value=answer(STARTED))
    nps = await client.export_nps_submissions(123, "2019-06-15", "2019-06-30")
    responses = await client.export_responses("2019-06-15", "2019-06-30")
    first, second = (json.loads(call.request.content) for call in start.calls)
    assert first["type"] == "nps_submissions"
    assert (first["form"], first["nps_category"]) == (123, "all")
    assert second["type"] == "mention_sla_export"
    assert (nps.report_type, responses.report_type) == ("nps_submissions", "mention_sla_export")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[]", "case_details: the export start answer is not a JSON object"),
        ('"queued"', "not a JSON object"),
        ('{"status": "pending", "url": null}', "case_details: .*carries no job token"),
        ('{"status": "pending", "url": null, "token": ""}', "carries no job token"),
        ('{"status": "pending", "url": null, "token": 42}', "carries no job token"),
        ('{"url": null, "token": "abc"}', "no 'status' string"),
    ],
)
async def test_malformed_start_answers(
    client: AsyncActivityClient, router: respx.MockRouter, text: str, fragment: str
) -> None:
    start = router.post(REPORTS).mock(return_value=answer(text))
    with pytest.raises(ResponseValidationError, match=fragment):
        await client.export_cases("2019-06-15", "2019-06-30")
    assert start.call_count == 1


@pytest.mark.asyncio
async def test_start_answer_with_a_failed_status(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    router.post(REPORTS).mock(
        return_value=answer('{"status": "failed", "url": null, "token": "abc"}')
    )
    with pytest.raises(ExportFailedError, match=r"'abc' .*reported status 'failed'") as info:
        await client.export_cases("2019-06-15", "2019-06-30")
    assert (info.value.status, info.value.job_token) == ("failed", "abc")


@pytest.mark.asyncio
async def test_start_answer_already_complete_needs_no_poll(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    router.post(REPORTS).mock(return_value=answer(COMPLETE))
    status = router.get(STATUS_URL).mock(return_value=answer(PENDING))
    job = await client.export_cases("2019-06-15", "2019-06-30")
    assert (job.status, job.url) == ("complete", FILE_URL)
    assert await job.wait() is job
    assert status.call_count == 0


@pytest.mark.asyncio
async def test_start_is_one_post_even_when_it_fails(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    start = router.post(REPORTS).mock(return_value=httpx.Response(503))
    with pytest.raises(ServerError):
        await client.export_cases("2019-06-15", "2019-06-30")
    assert start.call_count == 1  # a 5xx could follow a job that did start: never re-POST


# -- polling --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_pending_pending_complete(
    client: AsyncActivityClient, router: respx.MockRouter, token: str
) -> None:
    router.post(REPORTS).mock(return_value=answer(STARTED))
    status = router.get(STATUS_URL).mock(
        side_effect=[answer(PENDING), answer(PENDING), answer(COMPLETE)]
    )
    job = await client.export_cases("2019-06-15", "2019-06-30")

    assert await job.wait(timeout=5, poll_interval=0.01) is job

    assert (job.status, job.url) == ("complete", FILE_URL)
    assert status.call_count == 3
    for call in status.calls:
        assert call.request.url.params["token"] == "<report_token>"
        assert call.request.headers["auth-api-token"] == token
    assert await job.wait() is job  # complete: returns at once
    assert status.call_count == 3


@pytest.mark.asyncio
async def test_polls_retry_429_and_5xx_and_never_post_again(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    start = router.post(REPORTS).mock(return_value=answer(STARTED))
    status = router.get(STATUS_URL).mock(
        side_effect=[
            answer('{"error": "Rate limited exceeded"}', 429, **{"Retry-After": "0"}),
            httpx.Response(503),
            answer(PENDING),
            httpx.Response(502),
            answer(COMPLETE),
        ]
    )
    job = await client.export_cases("2019-06-15", "2019-06-30")
    await job.wait(timeout=5, poll_interval=0.01)
    assert job.status == "complete"
    assert status.call_count == 5
    assert start.call_count == 1


@pytest.mark.asyncio
async def test_a_poll_that_fails_for_good_leaves_the_job_resumable(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    start = router.post(REPORTS).mock(return_value=answer(STARTED))
    status = router.get(STATUS_URL).mock(
        side_effect=[httpx.Response(503)] * 3 + [answer(COMPLETE)]
    )
    job = await client.export_cases("2019-06-15", "2019-06-30")
    with pytest.raises(ServerError):
        await job.wait(timeout=5, poll_interval=0.01)
    await job.wait(timeout=5, poll_interval=0.01)  # the same job, polled again
    assert job.status == "complete"
    assert (start.call_count, status.call_count) == (1, 4)


@pytest.mark.asyncio
@pytest.mark.parametrize("status", ["failed", "error", "Complete", "cancelled"])
async def test_other_statuses_fail_naming_status_and_job(
    client: AsyncActivityClient, router: respx.MockRouter, status: str
) -> None:
    router.get(STATUS_URL).mock(
        side_effect=[
            answer(PENDING),
            answer(json.dumps({"status": status, "url": None, "token": "<report_token>"})),
        ]
    )
    job = client.export_job("<report_token>")
    with pytest.raises(ExportFailedError) as info:
        await job.wait(timeout=5, poll_interval=0.01)
    assert info.value.status == status
    assert info.value.job_token == "<report_token>"
    assert f"reported status {status!r}" in str(info.value)
    assert "'<report_token>'" in str(info.value)
    assert job.status == status


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (None, "there is no download url"),
        ("", "url is empty"),
        (17, "url is a int"),
        ("<CSV File Location>", "contains spaces"),  # the vendor's placeholder
        ("https://[::1/a.csv", "is not a valid URL"),
        ("https://files.lexer.test:99999/a.csv", "not a valid URL|invalid port"),
        ("https://files.lexer.test/\udcff.csv", "non-ASCII"),
        ("/relative/a.csv", "is not absolute"),
        ("file:///etc/passwd", "scheme 'file'; only http and https"),
        ("ftp://files.lexer.test/a.csv", "scheme 'ftp'; only http and https"),
        ("https:///no-host", "has no host"),
    ],
)
async def test_complete_without_a_usable_url_fails(
    client: AsyncActivityClient, router: respx.MockRouter, url: object, fragment: str
) -> None:
    body: dict[str, Any] = {"status": "complete", "url": url, "token": "<report_token>"}
    router.get(STATUS_URL).mock(return_value=answer(json.dumps(body)))
    job = client.export_job("<report_token>")
    with pytest.raises(ExportFailedError, match=fragment) as info:
        await job.wait(timeout=5, poll_interval=0.01)
    assert info.value.status == "complete"
    assert "is complete but" in str(info.value)
    assert job.url is None


@pytest.mark.asyncio
async def test_complete_without_url_key_fails(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    router.get(STATUS_URL).mock(return_value=answer('{"status": "complete"}'))
    with pytest.raises(ExportFailedError, match="no download url"):
        await client.export_job("abc").wait(timeout=5, poll_interval=0.01)


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["[]", '{"url": "x"}', '{"status": null}'])
async def test_malformed_status_answers(
    client: AsyncActivityClient, router: respx.MockRouter, text: str
) -> None:
    router.get(STATUS_URL).mock(return_value=answer(text))
    with pytest.raises(ResponseValidationError, match="case_details status"):
        await client.export_job("abc").wait(timeout=5, poll_interval=0.01)


@pytest.mark.asyncio
async def test_wait_times_out_in_real_time(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    status = router.get(STATUS_URL).mock(return_value=answer(PENDING))
    job = client.export_job("<report_token>")
    started = anyio.current_time()
    with pytest.raises(ExportTimeoutError) as info:
        await job.wait(timeout=0.1, poll_interval=0.01)
    elapsed = anyio.current_time() - started
    assert 0.1 <= elapsed < 1.0
    assert info.value.job_token == "<report_token>"
    assert info.value.waited >= 0.1
    assert "client.export_job('<report_token>'" in str(info.value)
    assert status.call_count >= 3
    assert job.status == "pending"


# -- the schedule, on a fake clock ----------------------------------------------------------


@pytest.mark.asyncio
async def test_schedule_grows_by_half_and_never_sleeps_past_the_deadline(
    client: AsyncActivityClient, router: respx.MockRouter, clock: FakeClock
) -> None:
    status = router.get(STATUS_URL).mock(return_value=answer(PENDING))
    with pytest.raises(ExportTimeoutError) as info:
        await client.export_job("<report_token>").wait(timeout=100, poll_interval=1)
    growing = [1.5**k for k in range(9)]  # 1, 1.5, ... 25.6: 74.9 s in all
    assert clock.sleeps[:9] == pytest.approx(growing)
    assert clock.sleeps[9:] == pytest.approx([100 - sum(growing)])  # cut to the deadline
    assert sum(clock.sleeps) == pytest.approx(100)
    assert status.call_count == len(clock.sleeps) == 10  # one poll after every sleep
    assert info.value.waited == pytest.approx(100)


@pytest.mark.asyncio
async def test_schedule_is_capped_at_30_seconds(
    client: AsyncActivityClient, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(STATUS_URL).mock(return_value=answer(PENDING))
    with pytest.raises(ExportTimeoutError):
        await client.export_job("<report_token>").wait(timeout=200, poll_interval=10)
    assert clock.sleeps == pytest.approx([10, 15, 22.5, 30, 30, 30, 30, 30, 2.5])
    assert max(clock.sleeps) == 30


@pytest.mark.asyncio
async def test_a_poll_interval_above_the_cap_is_kept(
    client: AsyncActivityClient, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(STATUS_URL).mock(return_value=answer(PENDING))
    with pytest.raises(ExportTimeoutError):
        await client.export_job("<report_token>").wait(timeout=150, poll_interval=60)
    assert clock.sleeps == pytest.approx([60, 60, 30])


@pytest.mark.asyncio
async def test_default_schedule_matches_the_docstring(
    client: AsyncActivityClient, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(STATUS_URL).mock(return_value=answer(PENDING))
    with pytest.raises(ExportTimeoutError):
        await client.export_job("<report_token>").wait()
    times = [sum(clock.sleeps[: i + 1]) for i in range(len(clock.sleeps))]
    assert times[:9] == pytest.approx([1, 2.5, 4.75, 8.125, 13.19, 20.78, 32.17, 49.26, 74.89],
                                      abs=0.01)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[8:-1] == pytest.approx([30] * len(gaps[8:-1]))
    assert times[-1] == pytest.approx(600)
    assert len(times) == 27  # "27 polls in 10 minutes"


@pytest.mark.asyncio
async def test_wait_completes_after_the_cap(
    client: AsyncActivityClient, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(STATUS_URL).mock(side_effect=[answer(PENDING)] * 11 + [answer(COMPLETE)])
    job = await client.export_job("<report_token>").wait(timeout=600, poll_interval=1)
    assert job.url == FILE_URL
    assert len(clock.sleeps) == 12
    assert clock.sleeps[-3:] == [30, 30, 30]


# -- arguments ------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kwargs", "exc", "fragment"),
    [
        ({"timeout": -1}, ValueError, r"timeout must be a finite number above 0, not -1"),
        ({"timeout": 0}, ValueError, r"timeout must be a finite number above 0, not 0"),
        ({"timeout": math.inf}, ValueError, r"timeout must be a finite number above 0"),
        ({"timeout": math.nan}, ValueError, r"timeout must be a finite number above 0"),
        ({"timeout": "10"}, TypeError, r"timeout must be a number of seconds, not str"),
        ({"timeout": True}, TypeError, r"timeout must be a number of seconds, not bool"),
        ({"poll_interval": 0}, ValueError, r"poll_interval must be a finite number above 0"),
        ({"poll_interval": -0.5}, ValueError, r"poll_interval must be a finite number above 0"),
        ({"poll_interval": None}, TypeError, r"poll_interval must be a number of seconds"),
    ],
)
async def test_bad_wait_arguments_send_nothing(
    client: AsyncActivityClient,
    router: respx.MockRouter,
    kwargs: dict[str, Any],
    exc: type[Exception],
    fragment: str,
) -> None:
    catch_all = router.route().mock(return_value=answer(PENDING))
    pending_job = client.export_job("<report_token>")
    done_job = client.export_job("<report_token>")
    done_job.status, done_job.url = "complete", FILE_URL
    with pytest.raises(exc, match=fragment):
        await pending_job.wait(**kwargs)
    with pytest.raises(exc, match=fragment):
        await done_job.wait(**kwargs)  # checked even when there is nothing to wait for
    assert catch_all.call_count == 0


@pytest.mark.asyncio
async def test_bad_export_job_arguments(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    catch_all = router.route().mock(return_value=answer(PENDING))
    with pytest.raises(TypeError, match="token must be a str, not int"):
        client.export_job(12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="token must be a str, not NoneType"):
        client.export_job(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="token must not be empty"):
        client.export_job("  ")
    with pytest.raises(ValueError, match="token must not contain control characters"):
        client.export_job("abc\r\nX-Evil: 1")
    with pytest.raises(TypeError, match="report_type must be a str"):
        client.export_job("abc", report_type=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="wait_timeout must be a finite number above 0"):
        await client.export_to_file(
            "case_details", tmp_path / "c.csv", "2019-06-15", "2019-06-30", wait_timeout=-1
        )
    with pytest.raises(IsADirectoryError):
        await client.export_to_file("case_details", tmp_path, "2019-06-15", "2019-06-30")
    assert catch_all.call_count == 0


# -- the whole chain ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_export_to_file_starts_once_waits_and_downloads(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    data = b"Case ID,Subject\n1,Refund\n2,\"Late, again\"\n"
    start = router.post(REPORTS).mock(return_value=answer(STARTED))
    status = router.get(STATUS_URL).mock(side_effect=[answer(PENDING), answer(COMPLETE)])
    host = FileHost(data)
    router.get(url__startswith=FILE_HOST).mock(side_effect=host)
    progress: list[tuple[int, int | None]] = []

    path = await client.export_to_file(
        "case_details",
        str(tmp_path / "cases.csv"),
        "2019-06-15",
        "2019-06-30",
        poll_interval=0.01,
        progress=lambda done, total: progress.append((done, total)),
    )

    assert path == tmp_path / "cases.csv"
    assert path.read_bytes() == data
    assert (start.call_count, status.call_count, len(host.requests)) == (1, 2, 1)
    assert progress == [(len(data), len(data))]


@pytest.mark.asyncio
async def test_a_saved_job_is_resumed_by_token(
    client: AsyncActivityClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    start = router.post(REPORTS).mock(return_value=answer(STARTED))
    router.get(STATUS_URL).mock(return_value=answer(COMPLETE))
    router.get(url__startswith=FILE_HOST).mock(side_effect=FileHost(b"a\n1\n"))
    job = client.export_job("<report_token>", report_type="mention_sla_export")
    await job.wait(timeout=5, poll_interval=0.01)
    assert (await job.download(tmp_path / "r.csv")).read_bytes() == b"a\n1\n"
    assert start.call_count == 0


# -- rows -----------------------------------------------------------------------------------

# The Responses (SLA) columns from the older vendor docs, "Agent Reponse Date" spelling and all.
SLA_HEADER = [
    "Account Name", "Source Type", "Agent First Name", "Agent Last Name",
    "Last Action Date (UTC)", "Customer Wait Time (min)", "In Queue (min)",
    "Agent Response Time (min)", "Within Customer SLA", "Within Agent SLA", "State",
    "Customer Publish Date (UTC)", "Customer Username", "Customer Fullname",
    "Customer Message", "Agent Reponse Date (UTC)", "Agent Response", "Classifications",
    "Agent Notes", "Customer Note",
]
MESSAGES = [
    "Plain text",
    'She said "hi", then left',
    "Line one\nline two\r\nline three",
    "Emoji 😡🔥 and Ünïcödé, 中文, العربية",
    "Separators\u2028inside\x0cfields\x85too",
    "",
    ",,,",
    '"',
]


def tricky_csv() -> tuple[bytes, list[dict[str, str]]]:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SLA_HEADER)
    rows = []
    for i in range(400):
        values = [f"Acct {i}"] + [f"v{i}-{j}" for j in range(1, len(SLA_HEADER))]
        values[14] = MESSAGES[i % len(MESSAGES)]
        values[16] = MESSAGES[(i + 3) % len(MESSAGES)]
        writer.writerow(values)
        rows.append(dict(zip(SLA_HEADER, values, strict=True)))
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"), rows


def emoji_offsets(data: bytes) -> list[int]:
    # Cut points inside multi-byte characters: the hardest places for a resume to land.
    return [i + 2 for i in range(len(data)) if data[i : i + 4] == "😡".encode()][:5]


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
async def test_iter_rows_over_a_tricky_csv_with_cuts(
    client: AsyncActivityClient, router: respx.MockRouter, encoding: str
) -> None:
    data, expected = tricky_csv()
    if encoding == "gzip":
        raw = gzip.compress(data)
        host = FileHost(raw, cuts=[len(raw) // 4, len(raw) // 2], chunk=7,
                        headers={"Content-Encoding": "gzip"})
    else:
        host = FileHost(data, cuts=emoji_offsets(data), chunk=7)
    router.get(url__startswith=FILE_HOST).mock(side_effect=host)
    router.get(STATUS_URL).mock(side_effect=[answer(PENDING), answer(COMPLETE)])
    job = client.export_job("<report_token>", report_type="mention_sla_export")
    await job.wait(timeout=5, poll_interval=0.01)

    async with job.iter_rows() as rows:
        got = [row async for row in rows]

    assert got == expected
    assert len(host.requests) > 1  # it really did resume


@pytest.mark.asyncio
async def test_iter_rows_waits_for_a_pending_job(
    client: AsyncActivityClient, router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_exports, "_sleep", lambda seconds: anyio.lowlevel.checkpoint())
    status = router.get(STATUS_URL).mock(side_effect=[answer(PENDING), answer(COMPLETE)])
    router.get(url__startswith=FILE_HOST).mock(side_effect=FileHost(b"a,b\n1,2\n3,4\n"))
    rows = [row async for row in client.export_job("<report_token>").iter_rows()]
    assert rows == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert status.call_count == 2


@pytest.mark.asyncio
async def test_iter_rows_reports_bad_csv(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    router.get(url__startswith=FILE_HOST).mock(side_effect=FileHost(b"a,b\n1,2,3\n"))
    job = client.export_job("<report_token>")
    job.status, job.url = "complete", FILE_URL

    async def read() -> list[dict[str, str]]:
        return [row async for row in job.iter_rows()]

    with pytest.raises(ExportFormatError):
        await read()


@pytest.mark.asyncio
async def test_iter_bytes_waits_and_reads(
    client: AsyncActivityClient, router: respx.MockRouter
) -> None:
    router.get(STATUS_URL).mock(return_value=answer(COMPLETE))
    router.get(url__startswith=FILE_HOST).mock(side_effect=FileHost(b"x" * 70_000))
    job = client.export_job("<report_token>")
    await job.wait(timeout=5, poll_interval=0.01)
    assert await collect(job.iter_bytes()) == b"x" * 70_000


# -- repr and secrets -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_repr_shows_type_token_status_and_no_secret(
    client: AsyncActivityClient, router: respx.MockRouter, token: str
) -> None:
    router.post(REPORTS).mock(return_value=answer(STARTED))
    router.get(STATUS_URL).mock(return_value=answer(COMPLETE))
    job = await client.export_cases("2019-06-15", "2019-06-30")
    assert repr(job) == (
        "ExportJob(report_type='case_details', token='<report_token>', status='pending')"
    )
    await job.wait(timeout=5, poll_interval=0.01)
    text = repr(job)
    assert "status='complete'" in text
    assert token not in text
    assert "s1gnature" not in text  # the pre-signed URL is a credential too
    assert isinstance(job, ExportJob)


@pytest.mark.asyncio
async def test_no_message_contains_the_api_token(
    client: AsyncActivityClient, router: respx.MockRouter, token: str, clock: FakeClock
) -> None:
    router.get(STATUS_URL).mock(
        side_effect=[
            answer(PENDING),
            answer('{"status": "failed", "token": "<report_token>"}'),
            answer('{"status": "complete", "url": "file:///x"}'),
            answer("[]"),
        ]
    )
    job = client.export_job("<report_token>")
    errors: list[BaseException] = []
    for kwargs in ({"timeout": 0.5}, {}, {}, {}):
        try:
            await job.wait(**kwargs)
        except Exception as error:
            errors.append(error)
    assert [type(e) for e in errors] == [
        ExportTimeoutError, ExportFailedError, ExportFailedError, ResponseValidationError,
    ]
    for exc in errors:
        assert token not in str(exc)
        assert token not in repr(exc)


@pytest.mark.asyncio
async def test_export_to_file_failure_logs_the_job_token(
    client: AsyncActivityClient,
    router: respx.MockRouter,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    router.post(REPORTS).mock(
        return_value=answer('{ "status": "pending", "url": null, "token": "job-77" }')
    )
    router.get(STATUS_URL).mock(return_value=answer('{"status": "failed", "token": "job-77"}'))
    with pytest.raises(ExportFailedError):
        await client.export_to_file(
            "mention_sla_export", tmp_path / "r.csv", "2018-04-01", "2018-04-02",
            poll_interval=0.01, wait_timeout=5,
        )
    assert "client.export_job('job-77', report_type='mention_sla_export')" in caplog.text
