"""One builder per report type, each reading the same World so that reports agree.

Shapes and field order follow the vendor's page. Statistics over an empty set (an average
with no responded message) are null, as an SQL aggregate would give; counts are 0.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timezone
from typing import Any

from ._buckets import DAY, Buckets, response_volume_step, states_volume_step
from ._query import ReportQuery
from ._world import CLOSED_STATES, STATES, Message, Survey, World, nps_category

Builder = Callable[[World, ReportQuery, float], Any]

# user_volume's per-agent states, in the vendor's order.
_AGENT_STATES = (
    "new", "assigned", "in_progress", "responded", "awaiting_approval",
    "redirected", "irrelevant", "duplicate", "closed", "no_response_required",
)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _messages(world: World, query: ReportQuery, now: float) -> list[Message]:
    return list(world.messages(query.start_epoch, query.end_epoch, now))


def summary(world: World, query: ReportQuery, now: float) -> dict[str, Any]:
    """Type ``summary``: volume, responses and wait/handle statistics."""
    messages = _messages(world, query, now)
    waits = [m.wait for m in messages if m.wait is not None]
    handles = [m.handle for m in messages if m.handle is not None]
    avg_wait, avg_handle = _mean(waits), _mean(handles)
    median_wait, median_handle = _median(waits), _median(handles)
    return {
        "total_volume": len(messages),
        "avg_response_time": avg_wait,
        "avg_action_response_time": avg_handle,
        "total_responded_to": len(waits),
        "broke_sla": sum(m.broke_sla for m in messages),
        "broke_action_sla": sum(m.broke_action_sla for m in messages),
        "min_response_time": min(waits, default=None),
        "median_response_time": median_wait,
        "max_response_time": max(waits, default=None),
        "min_action_response_time": min(handles, default=None),
        "median_action_response_time": median_handle,
        "max_action_response_time": max(handles, default=None),
        "avg_action_response_time_min": _minutes(avg_handle),
        "avg_response_time_min": _minutes(avg_wait),
        "median_action_response_time_min": _minutes(median_handle),
        "median_response_time_min": _minutes(median_wait),
    }


def states_volume(world: World, query: ReportQuery, now: float) -> dict[str, Any]:
    """Type ``states_volume``: per state, one point per interval, zeros included."""
    buckets = Buckets.cover(query.start, query.end, states_volume_step(query.start, query.end))
    counts = {state: [0] * buckets.count for state in STATES}
    for message in _messages(world, query, now):
        counts[message.state][buckets.index(message.created)] += 1
    return {
        state: [
            {"state": state, "value": value, "date_range": {"date_from": buckets.label(i)}}
            for i, value in enumerate(values)
        ]
        for state, values in counts.items()
    }


def user_volume(world: World, query: ReportQuery, now: float) -> list[dict[str, Any]]:
    """Type ``user_volume``: the "Team Volume" answer, one row per agent with messages.

    The vendor's page shows a second answer for this type ("Workflow States"); api-notes
    decides the per-agent rows are what the type returns.
    """
    per_agent: dict[int, Counter[str]] = {}
    for message in _messages(world, query, now):
        if message.agent_id is not None:
            per_agent.setdefault(message.agent_id, Counter())[message.state] += 1
    rows = []
    for agent_id in sorted(per_agent):
        agent, counts = world.team.agents_by_id[agent_id], per_agent[agent_id]
        states = {
            "all_states": sum(counts.values()),
            "all_closed_states": sum(counts[s] for s in CLOSED_STATES),
        }
        states.update({state: counts[state] for state in _AGENT_STATES})
        rows.append({
            "user_id": agent.id,
            "first_name": agent.first_name,
            "last_name": agent.last_name,
            "states": states,
        })
    return rows


def classifications(world: World, query: ReportQuery, now: float) -> list[dict[str, Any]]:
    """Type ``classifications``: per classification, an all_states row then one per state."""
    counts: dict[int, Counter[str]] = {}
    for message in _messages(world, query, now):
        for tag in message.classifications:
            counts.setdefault(tag, Counter())[message.state] += 1
    rows = []
    for tag in sorted(counts):
        name = world.team.classifications_by_id[tag].name
        per_state = counts[tag]
        rows.append({"classification_id": tag, "classification": name,
                     "state": "all_states", "volume": sum(per_state.values())})
        rows.extend(
            {"classification_id": tag, "classification": name, "state": s, "volume": per_state[s]}
            for s in STATES
            if per_state[s]
        )
    return rows


def response_volume(world: World, query: ReportQuery, now: float) -> dict[str, Any]:
    """Type ``response_volume``: mean customer wait per interval, 0 for an empty one.

    The values are seconds, like every other wait field; the vendor's table says minutes
    but its example values have the magnitude of seconds (api-notes).
    """
    buckets = Buckets.cover(query.start, query.end, response_volume_step(query.start, query.end))
    waits: list[list[float]] = [[] for _ in range(buckets.count)]
    for message in _messages(world, query, now):
        if message.wait is not None:
            waits[buckets.index(message.created)].append(message.wait)
    return {
        "avg_response_time": [
            {"value": statistics.fmean(values) if values else 0.0,
             "date_range": {"date_from": buckets.label(i)}}
            for i, values in enumerate(waits)
        ]
    }


def user_summary(world: World, query: ReportQuery, now: float) -> list[dict[str, Any]]:
    """Type ``user_summary``: per-agent performance; ``user_id`` is a string here."""
    per_agent: dict[int, list[Message]] = {}
    for message in _messages(world, query, now):
        if message.agent_id is not None:
            per_agent.setdefault(message.agent_id, []).append(message)
    return [_agent_row(world, agent_id, per_agent[agent_id]) for agent_id in sorted(per_agent)]


def _agent_row(world: World, agent_id: int, messages: list[Message]) -> dict[str, Any]:
    agent = world.team.agents_by_id[agent_id]
    replied = [m for m in messages if m.wait is not None]
    waits = [m.wait for m in replied if m.wait is not None]
    handles = [m.handle for m in replied if m.handle is not None]
    assigned, responded = len(messages), len(replied)
    private = sum(m.private for m in replied)
    broke = sum(m.broke_sla for m in replied)
    broke_action = sum(m.broke_action_sla for m in replied)
    avg_wait, avg_handle = _mean(waits), _mean(handles)

    def share(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    return {
        "first_name": agent.first_name,
        "last_name": agent.last_name,
        "mentions_assigned": assigned,
        "user_id": str(agent.id),
        "responded_to": responded,
        "responded_to_in_private": private,
        "avg_response_time": avg_wait,
        "min_response_time": min(waits, default=None),
        "max_response_time": max(waits, default=None),
        "avg_action_response_time": avg_handle,
        "min_action_response_time": min(handles, default=None),
        "max_action_response_time": max(handles, default=None),
        "total_responded_to": responded,
        "broke_sla": broke,
        "broke_action_sla": broke_action,
        "avg_response_time_min": _minutes(avg_wait),
        "avg_action_response_time_min": _minutes(avg_handle),
        "fraction_responded_to": share(responded, assigned),
        # The vendor's table says "divided by mentions_assigned", but its example numbers
        # (6/9, 1/1) divide by responded_to; the example is what the server sends.
        "fraction_responded_to_in_private": share(private, responded),
        "fraction_broke_sla": share(broke, responded),
        "fraction_broke_action_sla": share(broke_action, responded),
    }


def case_summary(world: World, query: ReportQuery, now: float) -> dict[str, Any]:
    """Type ``case_summary``: statistics of the cases closed in the range."""
    cases = list(world.cases_closed(query.start_epoch, query.end_epoch, now))
    first = [c.first_reply for c in cases]
    resolution = [c.resolution for c in cases]
    return {
        "total_cases": len(cases),
        "first_reply_time": _mean(first),
        "resolution_time": _mean(resolution),
        "median_first_reply_time": _median(first),
        "median_resolution_time": _median(resolution),
        "agent_interactions": _mean([float(c.interactions) for c in cases]),
        "agents_involved": _mean([float(len(c.agents)) for c in cases]),
    }


def case_volume(world: World, query: ReportQuery, now: float) -> dict[str, Any]:
    """Type ``case_volume``: cases open at some moment of each day (always daily)."""
    buckets = Buckets.cover(query.start, query.end, DAY)
    counts = [0] * buckets.count
    start, end = query.start_epoch, min(query.end_epoch, now)
    for case in world.cases_open(start, end, now):
        first = buckets.index(max(case.opened, start))
        # A case is open during [opened, closed): its last moment is just before closed.
        last = buckets.index(min(case.closed - 1e-6, end))
        for i in range(max(first, 0), min(last, buckets.count - 1) + 1):
            counts[i] += 1
    return {
        "open": [
            {"value": value, "date_range": {"date_from": buckets.label(i)}}
            for i, value in enumerate(counts)
        ]
    }


def case_classifications(world: World, query: ReportQuery, now: float) -> list[dict[str, Any]]:
    """Type ``case_classifications``: each classification counted once per closed case."""
    counts: Counter[int] = Counter()
    for case in world.cases_closed(query.start_epoch, query.end_epoch, now):
        counts.update(case.classifications)
    return [
        {"classification_id": tag,
         "classification": world.team.classifications_by_id[tag].name,
         "volume": counts[tag]}
        for tag in sorted(counts)
    ]


def nps_totals(surveys: Iterable[Survey], category: str | None) -> dict[str, Any]:
    """The NPS block: sent, received (in ``category``), the three groups and the score.

    ``nps_score`` is the standard NPS, % promoters minus % detractors; the vendor's table
    calls it an average, but its example (9 promoters, 2 detractors of 12) gives 58.33.
    """
    sent = 0
    groups: Counter[str] = Counter()
    for survey in surveys:
        sent += 1
        if survey.score is not None:
            group = nps_category(survey.score)
            if category is None or group == category:
                groups[group] += 1
    received = sum(groups.values())
    score = (groups["promoter"] - groups["detractor"]) / received * 100 if received else 0.0
    return {
        "total_sent": sent,
        "total_received": received,
        "total_promoters": groups["promoter"],
        "total_passives": groups["passive"],
        "total_detractors": groups["detractor"],
        "nps_score": score,
    }


def _surveys(world: World, query: ReportQuery, now: float) -> list[Survey]:
    assert query.form is not None
    return list(world.surveys(query.form, query.start_epoch, query.end_epoch, now))


def nps_summary(world: World, query: ReportQuery, now: float) -> dict[str, Any]:
    """Type ``nps_summary``: totals for the form over the range."""
    return nps_totals(_surveys(world, query, now), query.category)


def nps_volume(world: World, query: ReportQuery, now: float) -> list[dict[str, Any]]:
    """Type ``nps_volume``: one item per day, dated at that day's local midnight in UTC."""
    buckets = Buckets.cover(query.start, query.end, DAY)
    per_day: list[list[Survey]] = [[] for _ in range(buckets.count)]
    for survey in _surveys(world, query, now):
        per_day[buckets.index(survey.sent)].append(survey)
    items = []
    for i, surveys in enumerate(per_day):
        midnight = buckets.start(i).astimezone(timezone.utc)
        items.append({
            "date": midnight.isoformat(),
            "timestamp": int(midnight.timestamp()),
            "data": nps_totals(surveys, query.category),
        })
    return items


BUILDERS: dict[str, Builder] = {
    "summary": summary,
    "states_volume": states_volume,
    "user_volume": user_volume,
    "classifications": classifications,
    "response_volume": response_volume,
    "user_summary": user_summary,
    "case_summary": case_summary,
    "case_volume": case_volume,
    "case_classifications": case_classifications,
    "nps_summary": nps_summary,
    "nps_volume": nps_volume,
}


def build_report(world: World, query: ReportQuery, now: float) -> Any:
    """The JSON answer for a (non-export) report query."""
    return BUILDERS[query.type](world, query, now)
