"""Every example answer on the vendor's page parses into its class, with its values."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import respx

from lexer_activity import (
    AgentSummary,
    AgentVolume,
    AsyncActivityClient,
    CaseClassification,
    CaseSummary,
    ClassificationVolume,
    Form,
    Group,
    NpsDay,
    NpsSummary,
    Point,
    StateVolume,
    Summary,
    TimeSeries,
    User,
)
from tests.conftest import API, STATUS_URL, TOKEN
from tests.fixtures import vendor_examples as ex

AEST = timezone(timedelta(hours=11))
# The page's own request range: "2018-04-01T00:00:00+11:00" to "2018-04-30T23:59:59+11:00".
FROM = "2018-04-01T00:00:00+11:00"
TO = "2018-04-30T23:59:59+11:00"


@pytest.fixture
async def client() -> AsyncIterator[AsyncActivityClient]:
    async with AsyncActivityClient(
        token=TOKEN, base_url=API, status_url=STATUS_URL, max_retries=0
    ) as c:
        yield c


def _answer(router: respx.MockRouter, text: str) -> respx.Route:
    return router.post(f"{API}/v1/activity/reports").mock(
        return_value=httpx.Response(200, text=text, headers={"content-type": "application/json"})
    )


@pytest.mark.asyncio
async def test_users_example(client: AsyncActivityClient) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{API}/v1/users").mock(return_value=httpx.Response(200, text=ex.USERS))
        users = await client.users()
    assert users == [
        User(
            id=12345,
            email="jane@business.io",
            first_name="Jane",
            last_name="Remington",
            timezone="Australia/Sydney",
            gmtoffset=10.0,
            sign_in_count=76,
            last_sign_in_at=datetime(2018, 3, 21, 6, 9, 1, tzinfo=timezone.utc),
            archived=False,
            groups=(123, 456, 789),
        )
    ]


@pytest.mark.asyncio
async def test_users_list_answer(client: AsyncActivityClient) -> None:
    one = json.loads(ex.USERS)
    with respx.mock as router:
        router.get(f"{API}/v1/users").mock(
            return_value=httpx.Response(200, json=[one, {**one, "id": 2}])
        )
        users = await client.users()
    assert [u.id for u in users] == [12345, 2]


@pytest.mark.asyncio
async def test_groups_and_forms_examples(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        router.get(f"{API}/v1/groups").mock(return_value=httpx.Response(200, text=ex.GROUPS))
        router.get(f"{API}/v1/forms").mock(return_value=httpx.Response(200, text=ex.FORMS))
        groups = await client.groups()
        forms = await client.forms()
    assert groups == [
        Group(id=123, name="Social Customer Care", comment="Social customer care team members")
    ]
    assert forms == [
        Form(
            id=55,
            name="NPS Survey",
            title="Lexer NPS Survey",
            archived=False,
            created_at=datetime(2018, 5, 26, 21, 54, 19, tzinfo=timezone.utc),
            groups=(123,),
            nps=True,
            form_url="https://d1z1wrkt4y2iqm.cloudfront.net/123455678899876543/1/form",
        )
    ]


@pytest.mark.asyncio
async def test_summary_example(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = _answer(router, ex.SUMMARY)
        summary = await client.summary(FROM, TO)
    assert json.loads(route.calls.last.request.content) == {
        "type": "summary",
        "date_from": FROM,
        "date_to": TO,
    }
    assert isinstance(summary, Summary)
    assert summary.total_volume == 81
    assert summary.total_responded_to == 29
    assert summary.broke_sla == 11
    assert summary.broke_action_sla == 10
    assert summary.avg_response_time == pytest.approx(181795.692883103)
    assert summary.median_response_time_min == pytest.approx(10.8325319)
    assert summary.max_action_response_time == pytest.approx(1387064.010109)


@pytest.mark.asyncio
async def test_states_volume_example(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        _answer(router, ex.STATES_VOLUME)
        series = await client.states_volume(FROM, TO)
    assert list(series) == ["closed"]
    closed = series["closed"]
    assert closed.interval == "day"
    assert closed.points == (
        Point(datetime(2018, 4, 27, tzinfo=AEST), 174.0),
        Point(datetime(2018, 4, 28, tzinfo=AEST), 234.0),
        Point(datetime(2018, 4, 29, tzinfo=AEST), 255.0),
        Point(datetime(2018, 4, 30, tzinfo=AEST), 108.0),
    )
    # Points are in the request's own offset (api-notes), so they are aware and comparable.
    assert closed.points[0].date_from == datetime(2018, 4, 26, 13, tzinfo=timezone.utc)


@pytest.mark.asyncio
async def test_workflow_states_example(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = _answer(router, ex.WORKFLOW_STATES)
        states = await client.workflow_states(FROM, TO)
    assert json.loads(route.calls.last.request.content)["type"] == "user_volume"
    assert states == [
        StateVolume("closed", 92),
        StateVolume("responded", 49),
        StateVolume("assigned", 26),
        StateVolume("in_progress", 13),
        StateVolume("duplicate", 4),
        StateVolume("awaiting_approval", 1),
    ]


@pytest.mark.asyncio
async def test_workflow_states_sums_team_volume_rows(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        _answer(router, ex.USER_VOLUME)
        states = await client.workflow_states(FROM, TO)
    totals = {s.state: s.volume for s in states}
    assert totals["all_states"] == 170
    assert totals["closed"] == 111
    assert totals["assigned"] == 16
    assert totals["new"] == 0


@pytest.mark.asyncio
async def test_workflow_states_report_type_override(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = _answer(router, ex.WORKFLOW_STATES)
        await client.workflow_states(FROM, TO, report_type="workflow_states")
    assert json.loads(route.calls.last.request.content)["type"] == "workflow_states"


@pytest.mark.asyncio
async def test_classifications_example(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        _answer(router, ex.CLASSIFICATIONS)
        rows = await client.classifications(FROM, TO)
    assert rows[0] == ClassificationVolume(123, "amusing", "assigned", 2)
    assert rows[1] == ClassificationVolume(123, "amusing", "all_states", 3)
    assert rows[-1] == ClassificationVolume(143, "customer service", "all_states", 1)
    assert len(rows) == 5


@pytest.mark.asyncio
async def test_response_volume_example(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        _answer(router, ex.RESPONSE_VOLUME)
        series = await client.response_volume(FROM, TO)
    assert isinstance(series, TimeSeries)
    assert series.interval == "day"
    assert [p.date_from.day for p in series.points] == [5, 6, 7, 8]
    assert series.points[0].date_from == datetime(2018, 6, 5, tzinfo=AEST)
    # Kept exactly as sent: the unit is ambiguous on the vendor's page (api-notes).
    assert series.points[0].value == pytest.approx(317691.388907962)


@pytest.mark.asyncio
async def test_user_summary_example(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        _answer(router, ex.USER_SUMMARY)
        agents = await client.user_summary(FROM, TO)
    jane, barry = agents
    assert isinstance(jane, AgentSummary)
    assert jane.user_id == 123  # "123" on the wire; int everywhere (api-notes)
    assert barry.user_id == 789
    assert jane.first_name == "Jane"
    assert jane.mentions_assigned == 12
    assert jane.fraction_responded_to == 0.75
    assert jane.fraction_broke_sla == pytest.approx(1 / 3)
    assert barry.avg_response_time_min == pytest.approx(5880.710820166667)


@pytest.mark.asyncio
async def test_user_volume_example(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        _answer(router, ex.USER_VOLUME)
        agents = await client.user_volume(FROM, TO)
    assert agents[0] == AgentVolume(
        user_id=123,
        first_name="Jane",
        last_name="Pear",
        states={
            "all_states": 166,
            "all_closed_states": 110,
            "new": 0,
            "assigned": 15,
            "in_progress": 14,
            "responded": 27,
            "awaiting_approval": 0,
            "redirected": 0,
            "irrelevant": 0,
            "duplicate": 0,
            "closed": 110,
            "no_response_required": 0,
        },
    )
    assert agents[1].user_id == 789
    assert agents[1].states is not None
    assert agents[1].states["all_states"] == 4


@pytest.mark.asyncio
async def test_case_reports_examples(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = router.post(f"{API}/v1/activity/reports")
        route.side_effect = [
            httpx.Response(200, text=ex.CASE_SUMMARY),
            httpx.Response(200, text=ex.CASE_VOLUME),
            httpx.Response(200, text=ex.CASE_CLASSIFICATIONS),
        ]
        summary = await client.case_summary(FROM, TO)
        volume = await client.case_volume(FROM, TO)
        classes = await client.case_classifications(FROM, TO)
    assert summary == CaseSummary(
        total_cases=10,
        first_reply_time=305511.915624,
        resolution_time=427361.668069,
        median_first_reply_time=83991.86431,
        median_resolution_time=310362.299289,
        agent_interactions=2.4,
        agents_involved=1.0,
    )
    assert volume.interval == "day"
    assert [p.value for p in volume.points] == [9, 9, 9, 9, 9, 10, 9]
    assert volume.points[0].date_from == datetime(2018, 4, 1, tzinfo=AEST)
    assert classes[0] == CaseClassification(466, "positive", 1)
    assert [c.classification_id for c in classes] == [466, 526, 528, 1246, 1465, 1467, 1472]


@pytest.mark.asyncio
async def test_nps_examples(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = router.post(f"{API}/v1/activity/reports")
        route.side_effect = [
            httpx.Response(200, text=ex.NPS_SUMMARY),
            httpx.Response(200, text=ex.NPS_VOLUME),
        ]
        summary = await client.nps_summary(123, FROM, TO)
        days = await client.nps_volume(123, FROM, TO, nps_category="all")
    sent = [json.loads(call.request.content) for call in route.calls]
    assert sent[0] == {
        "type": "nps_summary",
        "date_from": FROM,
        "date_to": TO,
        "form": 123,
        "nps_category": "all",
    }
    assert sent[1]["type"] == "nps_volume"
    assert summary == NpsSummary(16, 12, 9, 1, 2, 58.333333333333336)
    assert len(days) == 7
    first = days[0]
    assert isinstance(first, NpsDay)
    assert first.date == datetime(2018, 4, 1, 13, tzinfo=timezone.utc)
    assert first.timestamp == first.date  # 1522587600 is the same instant
    assert first.data == NpsSummary(0, 0, 0, 0, 0, 0.0)


@pytest.mark.asyncio
async def test_report_returns_json_as_sent(client: AsyncActivityClient) -> None:
    with respx.mock as router:
        route = _answer(router, ex.SUMMARY)
        data = await client.report("summary", FROM, TO, extra_body={"groups": [123]})
    assert data == json.loads(ex.SUMMARY)
    assert json.loads(route.calls.last.request.content)["groups"] == [123]


@pytest.mark.asyncio
async def test_missing_fields_are_none_and_unknown_fields_ignored(
    client: AsyncActivityClient,
) -> None:
    with respx.mock as router:
        _answer(router, json.dumps({"total_cases": 3, "brand_new_metric": {"x": 1}}))
        summary = await client.case_summary(FROM, TO)
    assert summary == CaseSummary(total_cases=3)
    assert summary.median_resolution_time is None
