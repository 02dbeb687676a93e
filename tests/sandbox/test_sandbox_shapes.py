"""Every endpoint's answer against the shapes on the vendor's page."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from lexer_activity.sandbox import DEFAULT_TOKEN, STATUS_PATH

AUTH = {"Auth-Api-Token": DEFAULT_TOKEN}
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
LABEL = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
STATES = {
    "closed", "responded", "assigned", "in_progress", "duplicate", "awaiting_approval",
    "new", "redirected", "irrelevant", "no_response_required",
}
Report = Callable[..., Any]


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


async def nps_form(http: httpx.AsyncClient) -> int:
    forms = (await http.get("/v1/forms", headers=AUTH)).json()
    return int(next(f["id"] for f in forms if f["nps"]))


@pytest.mark.asyncio
async def test_users_are_a_list_of_documented_objects(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/users", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    users = response.json()
    group_ids = {g["id"] for g in (await client.get("/v1/groups", headers=AUTH)).json()}
    assert 20 <= len(users) <= 30
    for user in users:
        assert list(user) == [
            "id", "email", "first_name", "last_name", "timezone", "gmtoffset",
            "sign_in_count", "last_sign_in_at", "archived", "groups",
        ]
        assert isinstance(user["id"], int)
        assert "@" in user["email"]
        assert number(user["gmtoffset"])
        assert isinstance(user["sign_in_count"], int)
        assert ISO_Z.fullmatch(user["last_sign_in_at"])
        assert isinstance(user["archived"], bool)
        assert user["groups"]
        assert set(user["groups"]) <= group_ids
    assert len({u["id"] for u in users}) == len(users)
    assert any(u["archived"] for u in users)


@pytest.mark.asyncio
async def test_groups_and_forms(client: httpx.AsyncClient) -> None:
    groups = (await client.get("/v1/groups", headers=AUTH)).json()
    assert len(groups) == 4
    assert all(list(g) == ["id", "name", "comment"] for g in groups)
    forms = (await client.get("/v1/forms", headers=AUTH)).json()
    assert [f["nps"] for f in forms].count(True) == 2
    assert [f["nps"] for f in forms].count(False) == 1
    for form in forms:
        assert list(form) == [
            "id", "name", "title", "archived", "created_at", "groups", "nps", "form_url",
        ]
        assert ISO_Z.fullmatch(form["created_at"])
        assert form["form_url"].startswith("https://")


@pytest.mark.asyncio
async def test_summary(client: httpx.AsyncClient, report: Report) -> None:
    body = (await report(client, "summary")).json()
    assert list(body) == [
        "total_volume", "avg_response_time", "avg_action_response_time", "total_responded_to",
        "broke_sla", "broke_action_sla", "min_response_time", "median_response_time",
        "max_response_time", "min_action_response_time", "median_action_response_time",
        "max_action_response_time", "avg_action_response_time_min", "avg_response_time_min",
        "median_action_response_time_min", "median_response_time_min",
    ]
    # About 300 messages a day at volume_scale 1.
    assert 30 * 200 <= body["total_volume"] <= 30 * 400
    assert body["min_response_time"] <= body["median_response_time"] <= body["max_response_time"]
    for stem in ("avg_response_time", "avg_action_response_time", "median_response_time",
                 "median_action_response_time"):
        assert body[f"{stem}_min"] == pytest.approx(body[stem] / 60)


@pytest.mark.asyncio
async def test_states_volume_daily_points_in_the_request_offset(
    client: httpx.AsyncClient, report: Report
) -> None:
    body = (await report(client, "states_volume")).json()
    assert set(body) == STATES
    for state, points in body.items():
        assert len(points) == 30
        assert points[0] == {
            "state": state, "value": points[0]["value"],
            "date_range": {"date_from": "2018-04-01 00:00"},
        }
        assert points[-1]["date_range"]["date_from"] == "2018-04-30 00:00"
        assert all(isinstance(p["value"], int) for p in points)


@pytest.mark.parametrize(
    ("date_to", "points"),
    [
        ("2018-04-03T23:59:59+11:00", 72),  # 3 days: hourly
        ("2018-04-04T23:59:59+11:00", 96),  # just under 4 days: hourly
        ("2018-04-05T00:00:00+11:00", 5),  # exactly 4 days: daily
    ],
)
@pytest.mark.asyncio
async def test_states_volume_interval(
    client: httpx.AsyncClient, report: Report, date_to: str, points: int
) -> None:
    body = (await report(client, "states_volume", date_to=date_to)).json()
    closed = body["closed"]
    assert len(closed) == points
    if points > 30:
        assert [p["date_range"]["date_from"] for p in closed[:2]] == [
            "2018-04-01 00:00", "2018-04-01 01:00",
        ]


@pytest.mark.parametrize(
    ("date_to", "points"),
    [
        ("2018-04-04T00:00:00+11:00", 73),  # exactly 3 days: hourly
        ("2018-04-04T00:00:01+11:00", 4),  # a second more: daily
    ],
)
@pytest.mark.asyncio
async def test_response_volume_interval(
    client: httpx.AsyncClient, report: Report, date_to: str, points: int
) -> None:
    body = (await report(client, "response_volume", date_to=date_to)).json()
    assert list(body) == ["avg_response_time"]
    series = body["avg_response_time"]
    assert len(series) == points
    assert all(list(p) == ["value", "date_range"] and number(p["value"]) for p in series)
    assert all(LABEL.fullmatch(p["date_range"]["date_from"]) for p in series)


@pytest.mark.asyncio
async def test_labels_follow_the_offset_of_date_from(
    client: httpx.AsyncClient, report: Report
) -> None:
    body = (
        await report(
            client, "states_volume",
            date_from="2018-04-01T09:30:00-05:00", date_to="2018-04-01T12:10:00-05:00",
        )
    ).json()
    labels = [p["date_range"]["date_from"] for p in body["new"]]
    assert labels == ["2018-04-01 09:00", "2018-04-01 10:00", "2018-04-01 11:00",
                      "2018-04-01 12:00"]


@pytest.mark.asyncio
async def test_user_volume_is_team_volume(client: httpx.AsyncClient, report: Report) -> None:
    rows = (await report(client, "user_volume")).json()
    assert rows
    for row in rows:
        assert list(row) == ["user_id", "first_name", "last_name", "states"]
        assert isinstance(row["user_id"], int)
        assert list(row["states"]) == [
            "all_states", "all_closed_states", "new", "assigned", "in_progress", "responded",
            "awaiting_approval", "redirected", "irrelevant", "duplicate", "closed",
            "no_response_required",
        ]
        assert row["states"]["new"] == 0  # a new message has no agent


@pytest.mark.asyncio
async def test_classifications(client: httpx.AsyncClient, report: Report) -> None:
    rows = (await report(client, "classifications")).json()
    assert rows
    for row in rows:
        assert list(row) == ["classification_id", "classification", "state", "volume"]
        assert row["state"] in STATES | {"all_states"}
        assert row["volume"] > 0


@pytest.mark.asyncio
async def test_user_summary(client: httpx.AsyncClient, report: Report) -> None:
    rows = (await report(client, "user_summary")).json()
    assert rows
    for row in rows:
        assert list(row) == [
            "first_name", "last_name", "mentions_assigned", "user_id", "responded_to",
            "responded_to_in_private", "avg_response_time", "min_response_time",
            "max_response_time", "avg_action_response_time", "min_action_response_time",
            "max_action_response_time", "total_responded_to", "broke_sla", "broke_action_sla",
            "avg_response_time_min", "avg_action_response_time_min", "fraction_responded_to",
            "fraction_responded_to_in_private", "fraction_broke_sla",
            "fraction_broke_action_sla",
        ]
        assert isinstance(row["user_id"], str)
        assert row["user_id"].isdigit()
        assert row["fraction_responded_to"] == pytest.approx(
            row["responded_to"] / row["mentions_assigned"]
        )
        assert row["fraction_broke_sla"] == pytest.approx(row["broke_sla"] / row["responded_to"])
        assert row["avg_response_time_min"] == pytest.approx(row["avg_response_time"] / 60)


@pytest.mark.asyncio
async def test_case_reports(client: httpx.AsyncClient, report: Report) -> None:
    summary = (await report(client, "case_summary")).json()
    assert list(summary) == [
        "total_cases", "first_reply_time", "resolution_time", "median_first_reply_time",
        "median_resolution_time", "agent_interactions", "agents_involved",
    ]
    assert summary["total_cases"] > 0
    assert summary["agent_interactions"] >= 1.0
    assert summary["agents_involved"] >= 1.0
    volume = (await report(client, "case_volume")).json()
    assert list(volume) == ["open"]
    assert len(volume["open"]) == 30
    assert volume["open"][0]["date_range"] == {"date_from": "2018-04-01 00:00"}
    assert all(list(p) == ["value", "date_range"] and p["value"] > 0 for p in volume["open"])
    tags = (await report(client, "case_classifications")).json()
    assert tags
    assert all(list(t) == ["classification_id", "classification", "volume"] for t in tags)


@pytest.mark.asyncio
async def test_case_volume_is_daily_even_for_short_ranges(
    client: httpx.AsyncClient, report: Report
) -> None:
    body = (await report(client, "case_volume", date_to="2018-04-02T23:59:59+11:00")).json()
    assert [p["date_range"]["date_from"] for p in body["open"]] == [
        "2018-04-01 00:00", "2018-04-02 00:00",
    ]


@pytest.mark.asyncio
async def test_nps_summary(client: httpx.AsyncClient, report: Report) -> None:
    form = await nps_form(client)
    body = (await report(client, "nps_summary", form=form, nps_category="all")).json()
    assert list(body) == [
        "total_sent", "total_received", "total_promoters", "total_passives",
        "total_detractors", "nps_score",
    ]
    assert body["total_received"] == (
        body["total_promoters"] + body["total_passives"] + body["total_detractors"]
    )
    assert body["nps_score"] == pytest.approx(
        (body["total_promoters"] - body["total_detractors"]) / body["total_received"] * 100
    )


@pytest.mark.asyncio
async def test_nps_volume_days_start_at_local_midnight_in_utc(
    client: httpx.AsyncClient, report: Report
) -> None:
    form = await nps_form(client)
    items = (await report(client, "nps_volume", form=form, nps_category="all")).json()
    assert len(items) == 30
    assert items[0]["date"] == "2018-03-31T13:00:00+00:00"  # 2018-04-01 00:00 at +11:00
    assert items[1]["date"] == "2018-04-01T13:00:00+00:00"
    for item in items:
        assert list(item) == ["date", "timestamp", "data"]
        moment = datetime.fromisoformat(item["date"])
        assert moment.utcoffset() == timedelta(0)
        assert item["timestamp"] == int(moment.timestamp())
        assert set(item["data"]) >= {"total_sent", "total_received", "nps_score"}


@pytest.mark.parametrize("export_type", ["case_details", "mention_sla_export", "nps_submissions"])
@pytest.mark.asyncio
async def test_export_start_answers_pending(
    client: httpx.AsyncClient, report: Report, export_type: str
) -> None:
    extra = {"form": await nps_form(client)} if export_type == "nps_submissions" else {}
    response = await report(client, export_type, **extra)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["status", "url", "token"]
    assert body["status"] == "pending"
    assert body["url"] is None
    assert isinstance(body["token"], str)
    assert body["token"]


@pytest.mark.parametrize("path", [STATUS_PATH, "/v1/activity/reports/status"])
@pytest.mark.asyncio
async def test_both_status_paths_answer(
    client: httpx.AsyncClient, report: Report, path: str
) -> None:
    token = (await report(client, "case_details")).json()["token"]
    response = await client.get(path, params={"token": token}, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["token"] == token


@pytest.mark.asyncio
async def test_the_same_seed_gives_the_same_data(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient], report: Report
) -> None:
    answers = []
    for seed in (7, 7, 8):
        async with asgi(make_app(seed=seed, volume_scale=0.2)) as http:
            answers.append((await report(http, "user_summary")).json())
    assert answers[0] == answers[1]
    assert answers[0] != answers[2]


@pytest.mark.parametrize("day", ["1999-12-31", "2009-06-15", "2024-02-29"])
@pytest.mark.asyncio
async def test_every_past_date_has_data(
    client: httpx.AsyncClient, report: Report, day: str
) -> None:
    body = (
        await report(client, "summary", date_from=f"{day}T00:00:00Z", date_to=f"{day}T23:59:59Z")
    ).json()
    assert body["total_volume"] > 50


@pytest.mark.asyncio
async def test_nothing_after_now(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient], report: Report
) -> None:
    now = datetime(2018, 4, 10, 12, 0, tzinfo=timezone.utc)
    async with asgi(make_app(now=lambda: now)) as http:
        body = (
            await report(
                http, "states_volume",
                date_from="2018-04-10T00:00:00Z", date_to="2018-04-10T23:59:59Z",
            )
        ).json()
    hourly = [sum(body[s][h]["value"] for s in STATES) for h in range(24)]
    assert all(hourly[h] > 0 for h in range(8, 12))
    assert all(value == 0 for value in hourly[13:])


@pytest.mark.asyncio
async def test_a_twelve_month_report_is_quick(client: httpx.AsyncClient, report: Report) -> None:
    dates = {"date_from": "2016-01-01T00:00:00+10:00", "date_to": "2017-01-01T00:00:00+10:00"}
    started = time.perf_counter()
    first = await report(client, "summary", **dates)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    await report(client, "user_summary", **dates)
    warm = time.perf_counter() - started
    assert first.status_code == 200
    # Generous bounds for a loaded CI box; typical: 0.8 s cold, 0.1 s warm.
    assert cold < 4.0
    assert warm < 1.5


@pytest.mark.asyncio
async def test_latency_is_added_to_every_api_answer(
    make_app: Callable[..., Any], asgi: Callable[..., httpx.AsyncClient]
) -> None:
    app = make_app(latency=0.1)
    url = app.state.sandbox.publish_file(b"a,b\r\n", "quick.csv")
    async with asgi(app) as http:
        for path, headers in (("/v1/groups", AUTH), ("/v1/groups", {})):
            started = time.monotonic()
            await http.get(path, headers=headers)
            assert time.monotonic() - started >= 0.1
        started = time.monotonic()
        assert (await http.get(url)).status_code == 200
        assert time.monotonic() - started < 0.1  # the file host is not the API
