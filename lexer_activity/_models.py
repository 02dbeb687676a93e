"""Typed results: one small attrs class per documented answer shape.

Field names are the API's own. Every field is optional: a field missing from an answer is
``None`` (the vendor's page has dropped and added fields over time), and a field the class does
not know is ignored. The conversion rules live in ``_convert.py``, not here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

__all__ = [
    "AgentSummary",
    "AgentVolume",
    "CaseClassification",
    "CaseSummary",
    "ClassificationVolume",
    "Form",
    "Group",
    "NpsDay",
    "NpsSummary",
    "Point",
    "StateVolume",
    "Summary",
    "TimeSeries",
    "User",
]

Interval = Literal["hour", "day"]


@attrs.frozen
class User:
    """A user with access to the Lexer account (``GET /v1/users``)."""

    id: int | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    timezone: str | None = None
    gmtoffset: float | None = None
    sign_in_count: int | None = None
    last_sign_in_at: datetime | None = None
    archived: bool | None = None
    groups: tuple[int, ...] | None = None


@attrs.frozen
class Group:
    """A team of users (``GET /v1/groups``)."""

    id: int | None = None
    name: str | None = None
    comment: str | None = None


@attrs.frozen
class Form:
    """A form or survey; NPS reports need the id of one whose ``nps`` is true."""

    id: int | None = None
    name: str | None = None
    title: str | None = None
    archived: bool | None = None
    created_at: datetime | None = None
    groups: tuple[int, ...] | None = None
    nps: bool | None = None
    form_url: str | None = None


@attrs.frozen
class Summary:
    """Headline metrics (``summary``). Times in seconds; ``*_min`` fields in minutes."""

    total_volume: int | None = None
    total_responded_to: int | None = None
    broke_sla: int | None = None
    broke_action_sla: int | None = None
    min_response_time: float | None = None
    max_response_time: float | None = None
    median_response_time: float | None = None
    avg_response_time: float | None = None
    min_action_response_time: float | None = None
    max_action_response_time: float | None = None
    median_action_response_time: float | None = None
    avg_action_response_time: float | None = None
    avg_response_time_min: float | None = None
    avg_action_response_time_min: float | None = None
    median_response_time_min: float | None = None
    median_action_response_time_min: float | None = None


@attrs.frozen
class Point:
    """One interval of a time series: its start, aware, and its value."""

    date_from: datetime
    value: float | None = None


@attrs.frozen
class TimeSeries:
    """Points in time order, one per interval, and the interval they are spaced by."""

    points: tuple[Point, ...]
    interval: Interval


@attrs.frozen
class StateVolume:
    """Messages in one workflow state (``workflow_states``)."""

    state: str | None = None
    volume: int | None = None


@attrs.frozen
class ClassificationVolume:
    """Messages with one classification in one state; ``state == "all_states"`` is the total."""

    classification_id: int | None = None
    classification: str | None = None
    state: str | None = None
    volume: int | None = None


@attrs.frozen
class AgentSummary:
    """One agent's performance (``user_summary``). Times in seconds; ``*_min`` in minutes."""

    user_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    mentions_assigned: int | None = None
    responded_to: int | None = None
    responded_to_in_private: int | None = None
    total_responded_to: int | None = None
    broke_sla: int | None = None
    broke_action_sla: int | None = None
    avg_response_time: float | None = None
    min_response_time: float | None = None
    max_response_time: float | None = None
    avg_action_response_time: float | None = None
    min_action_response_time: float | None = None
    max_action_response_time: float | None = None
    avg_response_time_min: float | None = None
    avg_action_response_time_min: float | None = None
    fraction_responded_to: float | None = None
    fraction_responded_to_in_private: float | None = None
    fraction_broke_sla: float | None = None
    fraction_broke_action_sla: float | None = None


@attrs.frozen
class AgentVolume:
    """Messages assigned to one agent, by current workflow state (``user_volume``)."""

    user_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    states: dict[str, int] | None = None


@attrs.frozen
class CaseSummary:
    """Case metrics (``case_summary``). Times in seconds."""

    total_cases: int | None = None
    first_reply_time: float | None = None
    resolution_time: float | None = None
    median_first_reply_time: float | None = None
    median_resolution_time: float | None = None
    agent_interactions: float | None = None
    agents_involved: float | None = None


@attrs.frozen
class CaseClassification:
    """Cases carrying one classification, each case counted once."""

    classification_id: int | None = None
    classification: str | None = None
    volume: int | None = None


@attrs.frozen
class NpsSummary:
    """NPS survey totals for a form (``nps_summary``, and each day of ``nps_volume``)."""

    total_sent: int | None = None
    total_received: int | None = None
    total_promoters: int | None = None
    total_passives: int | None = None
    total_detractors: int | None = None
    nps_score: float | None = None


@attrs.frozen
class NpsDay:
    """One day of ``nps_volume``: ``date`` and ``timestamp`` are the same instant, aware UTC."""

    date: datetime | None = None
    timestamp: datetime | None = None
    data: NpsSummary | None = None


# Resolve the string annotations now, while this module's globals are at hand: the package
# re-homes these classes to ``lexer_activity`` for nicer reprs, where ``datetime`` is unknown.
for _cls in (
    User, Group, Form, Summary, Point, TimeSeries, StateVolume, ClassificationVolume,
    AgentSummary, AgentVolume, CaseSummary, CaseClassification, NpsSummary, NpsDay,
):
    attrs.resolve_types(_cls)
del _cls
