"""The rows of the three CSV exports, derived from the World like the reports."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone

from . import _text
from ._query import ReportQuery
from ._world import AGENT_SLA, CUSTOMER_SLA, SOURCES, Message, World, nps_category

# An older version of the vendor's docs lists these, in this order; "Reponse" is their typo,
# kept because a parser keyed on the header must match what the server sends (api-notes).
SLA_COLUMNS = (
    "Account Name", "Source Type", "Agent First Name", "Agent Last Name",
    "Last Action Date (UTC)", "Customer Wait Time (min)", "In Queue (min)",
    "Agent Response Time (min)", "Within Customer SLA", "Within Agent SLA", "State",
    "Customer Publish Date (UTC)", "Customer Username", "Customer Fullname", "Customer Message",
    "Agent Reponse Date (UTC)", "Agent Response", "Classifications", "Agent Notes",
    "Customer Note",
)
# The case and NPS columns are not published; these are plausible choices (api-notes).
CASE_COLUMNS = (
    "Case ID", "Opened (UTC)", "Closed (UTC)", "Account Name", "Source Type",
    "Customer Username", "Customer Fullname", "Message Count", "Agent Interactions", "Agents",
    "First Reply Time (min)", "Resolution Time (min)", "Classifications",
    "First Customer Message",
)
NPS_COLUMNS = (
    "Submission ID", "Form ID", "Form Name", "Survey Sent (UTC)", "Submitted (UTC)", "Score",
    "Category", "Customer Username", "Customer Fullname", "Comment",
)

COLUMNS = {
    "mention_sla_export": SLA_COLUMNS,
    "case_details": CASE_COLUMNS,
    "nps_submissions": NPS_COLUMNS,
}


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.2f}"


def _flag(value: bool) -> str:
    return "true" if value else "false"


class _People:
    """Customer names and handles, stable per customer key."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def identity(self, customer: int, source_type: str) -> tuple[str, str]:
        rng = random.Random(f"{self.seed}:customer:{customer}")
        name = _text.customer_name(rng)
        return _text.customer_handle(rng, source_type, name), name


def rows(world: World, query: ReportQuery, now: float) -> Iterator[list[str]]:
    """The export's rows for ``query.type``, header first."""
    yield list(COLUMNS[query.type])
    if query.type == "mention_sla_export":
        yield from _sla_rows(world, query, now)
    elif query.type == "case_details":
        yield from _case_rows(world, query, now)
    else:
        yield from _nps_rows(world, query, now)


def _tag_names(world: World, tags: tuple[int, ...]) -> str:
    return ", ".join(world.team.classifications_by_id[t].name for t in tags)


def _sla_rows(world: World, query: ReportQuery, now: float) -> Iterator[list[str]]:
    people = _People(world.seed)
    for message in world.messages(query.start_epoch, query.end_epoch, now):
        yield _sla_row(world, people, message)


def _sla_row(world: World, people: _People, m: Message) -> list[str]:
    rng = random.Random(f"{world.seed}:text:{m.id}")
    text = _text.customer_message(rng)  # drawn first: the case export quotes the same text
    account, source_type = SOURCES[m.source]
    username, fullname = people.identity(m.customer, source_type)
    agent = world.team.agents_by_id.get(m.agent_id) if m.agent_id is not None else None
    if m.wait is not None and m.handle is not None:
        replied_at = m.created + m.wait
        last_action = replied_at
        timing = [_minutes(m.wait), _minutes(m.wait - m.handle), _minutes(m.handle),
                  _flag(m.wait <= CUSTOMER_SLA), _flag(m.handle <= AGENT_SLA)]
        initials = f"{agent.first_name[0]}{agent.last_name[0]}" if agent else ""
        reply = _text.agent_response(rng, fullname.split(" ")[0], initials)
        reply_fields = [_utc(replied_at), reply]
    else:
        last_action = m.created + (rng.uniform(30, 7200) if m.state != "new" else 0.0)
        timing = ["", "", "", "", ""]
        reply_fields = ["", ""]
    return [
        account,
        source_type,
        agent.first_name if agent else "",
        agent.last_name if agent else "",
        _utc(last_action),
        *timing,
        m.state,
        _utc(m.created),
        username,
        fullname,
        text,
        *reply_fields,
        _tag_names(world, m.classifications),
        _text.agent_note(rng),
        _text.customer_note(rng),
    ]


def _case_rows(world: World, query: ReportQuery, now: float) -> Iterator[list[str]]:
    people = _People(world.seed)
    for case in world.cases_closed(query.start_epoch, query.end_epoch, now):
        account, source_type = SOURCES[case.source]
        username, fullname = people.identity(case.customer, source_type)
        rng = random.Random(f"{world.seed}:text:{case.messages[0]}")
        agents = world.team.agents_by_id
        yield [
            str(case.id),
            _utc(case.opened),
            _utc(case.closed),
            account,
            source_type,
            username,
            fullname,
            str(len(case.messages)),
            str(case.interactions),
            ", ".join(f"{agents[a].first_name} {agents[a].last_name}" for a in case.agents),
            _minutes(case.first_reply),
            _minutes(case.resolution),
            _tag_names(world, case.classifications),
            # The same seed as the message's own row, so both exports quote the same text.
            _text.customer_message(rng),
        ]


def _nps_rows(world: World, query: ReportQuery, now: float) -> Iterator[list[str]]:
    assert query.form is not None
    people = _People(world.seed)
    form = world.team.forms_by_id[query.form]
    for survey in world.surveys(query.form, query.start_epoch, query.end_epoch, now):
        if survey.score is None or survey.submitted is None:
            continue
        category = nps_category(survey.score)
        if query.category is not None and category != query.category:
            continue
        username, fullname = people.identity(survey.customer, "messenger")
        rng = random.Random(f"{world.seed}:nps:{survey.id}")
        yield [
            str(survey.id),
            str(form.id),
            form.name,
            _utc(survey.sent),
            _utc(survey.submitted),
            str(survey.score),
            category,
            username,
            fullname,
            _text.nps_comment(rng, survey.score),
        ]
