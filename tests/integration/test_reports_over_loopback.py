"""The client against the sandbox over real loopback HTTP: every report, typed and consistent."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

import lexer_activity as la
from lexer_activity import AsyncActivityClient
from lexer_activity.sandbox import DEFAULT_TOKEN, SandboxConfig, SandboxServer, create_app

pytestmark = pytest.mark.integration

APRIL = ("2018-04-01T00:00:00+11:00", "2018-04-30T23:59:59+11:00")


async def test_lists(client: AsyncActivityClient) -> None:
    users, groups, forms = await asyncio.gather(client.users(), client.groups(), client.forms())
    assert len(users) >= 20
    assert all(isinstance(u.id, int) and u.last_sign_in_at is not None for u in users)
    assert all(u.last_sign_in_at.tzinfo is not None for u in users if u.last_sign_in_at)
    group_ids = {g.id for g in groups}
    assert len(group_ids) == 4
    assert all(set(u.groups or ()) <= group_ids for u in users)
    assert sum(1 for f in forms if f.nps) == 2


async def test_every_report_is_typed_and_they_agree(client: AsyncActivityClient) -> None:
    forms = await client.forms()
    nps_form = next(f.id for f in forms if f.nps and f.id is not None)
    (
        summary, states, workflow, classes, response, agents, team, cases, case_vol,
        case_classes, nps, nps_days,
    ) = await asyncio.gather(
        client.summary(*APRIL),
        client.states_volume(*APRIL),
        client.workflow_states(*APRIL),
        client.classifications(*APRIL),
        client.response_volume(*APRIL),
        client.user_summary(*APRIL),
        client.user_volume(*APRIL),
        client.case_summary(*APRIL),
        client.case_volume(*APRIL),
        client.case_classifications(*APRIL),
        client.nps_summary(nps_form, *APRIL),
        client.nps_volume(nps_form, *APRIL),
    )
    assert isinstance(summary, la.Summary)
    assert summary.total_volume is not None
    assert summary.total_volume > 0
    # Daily points, one per day of April, in the request's +11:00 offset.
    for series in states.values():
        assert series.interval == "day"
        assert len(series.points) == 30
        assert series.points[0].date_from == datetime(2018, 4, 1, tzinfo=timezone(timedelta(hours=11)))
    assert sum(p.value or 0 for s in states.values() for p in s.points) == summary.total_volume
    by_state = {s.state: s.volume for s in workflow}
    assert by_state["all_states"] == sum(a.states["all_states"] for a in team if a.states)
    assert all(isinstance(a.user_id, int) for a in agents)
    user_ids = {u.id for u in await client.users()}
    assert {a.user_id for a in agents} <= user_ids
    assert {a.user_id for a in team} <= user_ids
    assert classes
    assert all(isinstance(c, la.ClassificationVolume) for c in classes)
    assert response.interval == "day"
    assert len(case_vol.points) == 30
    assert isinstance(cases, la.CaseSummary)
    assert all(isinstance(c, la.CaseClassification) for c in case_classes)
    assert len(nps_days) == 30
    assert nps.total_received == sum(d.data.total_received or 0 for d in nps_days if d.data)


async def test_short_ranges_are_hourly(client: AsyncActivityClient) -> None:
    states = await client.states_volume(date(2018, 4, 1), date(2018, 4, 2))
    response = await client.response_volume(date(2018, 4, 1), date(2018, 4, 3))
    closed = next(iter(states.values()))
    assert closed.interval == "hour"
    assert len(closed.points) == 48
    assert response.interval == "hour"
    assert len(response.points) == 72


async def test_documented_errors_from_a_real_server(
    client: AsyncActivityClient, server: SandboxServer
) -> None:
    with pytest.raises(la.InvalidReportTypeError):
        await client.report("no_such_report", *APRIL)
    async with AsyncActivityClient(
        token="wrong-token", base_url=server.base_url, status_url=server.status_url
    ) as stranger:
        with pytest.raises(la.AuthenticationError, match="api token not matching"):
            await stranger.users()
    # The SDK checks ranges before sending; sent anyway, the server's 400 maps to its class.
    too_long = {"type": "summary", "date_from": "2017-01-01T00:00:00+00:00",
                "date_to": "2018-06-01T00:00:00+00:00"}
    with pytest.raises(la.DateRangeTooLongError):
        await client._requester.request_json(
            "POST", f"{server.base_url}/v1/activity/reports", endpoint="summary", body=too_long
        )
    future = datetime.now(timezone.utc) + timedelta(days=2)
    with pytest.raises(la.FutureStartDateError):
        await client._requester.request_json(
            "POST",
            f"{server.base_url}/v1/activity/reports",
            endpoint="summary",
            body={"type": "summary", "date_from": future.isoformat(timespec="seconds"),
                  "date_to": (future + timedelta(days=1)).isoformat(timespec="seconds")},
        )


async def test_in_process_sandbox_as_the_readme_shows() -> None:
    app = create_app(SandboxConfig(export_delay=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = AsyncActivityClient(
            token=DEFAULT_TOKEN,
            base_url="http://api.sandbox.test",
            status_url="http://api.sandbox.test/api/public/v1/activity/reports/status",
            http_client=http,
        )
        async with client:
            summary = await client.summary("2018-04-01", "2018-04-30")
            job = await client.export_cases("2018-04-01", "2018-04-02")
            await job.wait(timeout=5, poll_interval=0.01)
            rows = [row async for row in job.iter_rows()]
        assert not http.is_closed  # injected, so left open
    assert summary.total_volume
    assert job.url is not None
    assert job.url.startswith("http://files.api.sandbox.test/")
    assert rows
