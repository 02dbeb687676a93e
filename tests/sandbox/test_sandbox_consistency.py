"""Reports agree with each other, because they all read the one World."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexer_activity.sandbox._query import ReportQuery
from lexer_activity.sandbox._reports import BUILDERS
from lexer_activity.sandbox._world import CLOSED_STATES, STATES, World

AUTH = {"Auth-Api-Token": "sandbox-token"}
WORLD = World(seed=99, volume_scale=0.3, today=date(2026, 1, 1))
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
NPS_FORMS = [f.id for f in WORLD.team.forms if f.nps]

ranges = st.builds(
    lambda start, hours, offset: (
        start.replace(tzinfo=timezone(timedelta(minutes=offset))),
        start.replace(tzinfo=timezone(timedelta(minutes=offset))) + timedelta(hours=hours),
    ),
    st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2025, 6, 1)),
    st.floats(min_value=0.5, max_value=24 * 45),
    st.sampled_from([-480, 0, 330, 600, 660]),
)


def run(report_type: str, start: datetime, end: datetime, **extra: Any) -> Any:
    return BUILDERS[report_type](WORLD, ReportQuery(report_type, start, end, **extra), NOW)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ranges)
def test_message_reports_agree(bounds: tuple[datetime, datetime]) -> None:
    start, end = bounds
    summary = run("summary", start, end)
    states = run("states_volume", start, end)
    team = run("user_volume", start, end)
    people = run("user_summary", start, end)
    tags = run("classifications", start, end)

    per_state = {s: sum(p["value"] for p in points) for s, points in states.items()}
    assert sum(per_state.values()) == summary["total_volume"]
    # Every message but the unassigned new ones belongs to an agent.
    assert sum(row["states"]["all_states"] for row in team) == (
        summary["total_volume"] - per_state["new"]
    )
    for state in STATES:
        if state != "new":
            assert sum(row["states"][state] for row in team) == per_state[state]
    for row in team:
        counts = row["states"]
        assert counts["all_states"] == sum(counts[s] for s in STATES)
        assert counts["all_closed_states"] == sum(counts[s] for s in CLOSED_STATES)

    assigned = {row["user_id"]: row["states"]["all_states"] for row in team}
    assert {int(row["user_id"]): row["mentions_assigned"] for row in people} == assigned
    assert sum(row["responded_to"] for row in people) == summary["total_responded_to"]
    assert sum(row["broke_sla"] for row in people) == summary["broke_sla"]
    assert sum(row["broke_action_sla"] for row in people) == summary["broke_action_sla"]

    totals: dict[int, int] = {}
    parts: dict[int, int] = {}
    for row in tags:
        target = totals if row["state"] == "all_states" else parts
        target[row["classification_id"]] = target.get(row["classification_id"], 0) + row["volume"]
    assert totals == parts


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ranges, st.sampled_from(NPS_FORMS), st.sampled_from([None, "promoter", "detractor"]))
def test_nps_summary_is_the_sum_of_its_days(
    bounds: tuple[datetime, datetime], form: int, category: str | None
) -> None:
    start, end = bounds
    summary = run("nps_summary", start, end, form=form, category=category)
    days = run("nps_volume", start, end, form=form, category=category)
    for field in ("total_sent", "total_received", "total_promoters", "total_passives",
                  "total_detractors"):
        assert sum(day["data"][field] for day in days) == summary[field]
    if category == "promoter":
        assert summary["total_detractors"] == summary["total_passives"] == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ranges)
def test_case_reports_agree(bounds: tuple[datetime, datetime]) -> None:
    start, end = bounds
    summary = run("case_summary", start, end)
    tags = run("case_classifications", start, end)
    volume = run("case_volume", start, end)
    assert all(row["volume"] <= summary["total_cases"] for row in tags)
    assert all(point["value"] >= 0 for point in volume["open"])
    if summary["total_cases"]:
        # Each closed case was open on some day of the range or just before it.
        assert max(point["value"] for point in volume["open"]) > 0
        assert summary["median_first_reply_time"] <= summary["median_resolution_time"] + 1e-6


def test_response_volume_averages_the_summary_waits() -> None:
    start = datetime(2018, 4, 1, tzinfo=timezone(timedelta(hours=10)))
    end = start + timedelta(days=1) - timedelta(seconds=1)
    hourly = run("response_volume", start, end)["avg_response_time"]
    assert len(hourly) == 24
    summary = run("summary", start, end)
    assert min(p["value"] for p in hourly if p["value"]) >= summary["min_response_time"]
    assert max(p["value"] for p in hourly) <= summary["max_response_time"]


async def export_rows(http: httpx.AsyncClient, body: dict[str, Any]) -> list[list[str]]:
    start = await http.post("/v1/activity/reports", json=body, headers=AUTH)
    token = start.json()["token"]
    status = "/api/public/v1/activity/reports/status"
    for _ in range(500):
        answer = (await http.get(status, params={"token": token}, headers=AUTH)).json()
        if answer["status"] == "complete":
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("export never completed")
    content = (await http.get(answer["url"])).content
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


@pytest.mark.asyncio
async def test_exports_agree_with_reports(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    dates = {"date_from": "2019-06-15T00:00:00+10:00", "date_to": "2019-06-22T23:59:59+10:00"}
    async with asgi(make_app(volume_scale=0.3)) as http:
        async def report(report_type: str, **extra: Any) -> Any:
            body = {"type": report_type, **dates, **extra}
            return (await http.post("/v1/activity/reports", json=body, headers=AUTH)).json()

        summary = await report("summary")
        sla = await export_rows(http, {"type": "mention_sla_export", **dates})
        assert len(sla) - 1 == summary["total_volume"]
        wait_column = sla[0].index("Customer Wait Time (min)")
        assert sum(1 for row in sla[1:] if row[wait_column]) == summary["total_responded_to"]

        cases = await export_rows(http, {"type": "case_details", **dates})
        assert len(cases) - 1 == (await report("case_summary"))["total_cases"]

        forms = (await http.get("/v1/forms", headers=AUTH)).json()
        form = next(f["id"] for f in forms if f["nps"])
        for category in ("all", "detractors"):
            nps = await export_rows(
                http, {"type": "nps_submissions", "form": form, "nps_category": category, **dates}
            )
            totals = await report("nps_summary", form=form, nps_category=category)
            assert len(nps) - 1 == totals["total_received"]
