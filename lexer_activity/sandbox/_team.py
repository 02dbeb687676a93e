"""The seeded team: agents, groups, forms and the classification vocabulary."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, timedelta, timezone
from typing import Any, NamedTuple


class Group(NamedTuple):
    """A team of agents."""

    id: int
    name: str
    comment: str


class Agent(NamedTuple):
    """A user of the account; ``archived_on`` is the first day they handle nothing."""

    id: int
    email: str
    first_name: str
    last_name: str
    timezone: str
    gmtoffset: float
    sign_in_count: int
    last_sign_in_at: str
    archived: bool
    groups: tuple[int, ...]
    archived_on: date | None
    weight: float


class Form(NamedTuple):
    """A form or survey; NPS forms collect surveys from ``created`` on."""

    id: int
    name: str
    title: str
    archived: bool
    created: datetime
    groups: tuple[int, ...]
    nps: bool
    form_url: str
    daily_surveys: float


class Classification(NamedTuple):
    """A tag agents put on messages."""

    id: int
    name: str


_GROUPS = (
    ("Social Customer Care", "Social customer care team members"),
    ("Escalations", "Complaints, refunds and anything legal"),
    ("Billing & Accounts", "Payments, invoices, account changes"),
    ("After Hours", "Overnight and weekend cover"),
)

_NAMES = (
    ("Jane", "Remington"), ("Barry", "Nguyen"), ("Aroha", "Ngata"), ("Priya", "Raman"),
    ("Tom", "O'Brien"), ("Zoë", "Lefèvre"), ("Mateo", "García"), ("Sun-hee", "Park"),
    ("Ahmed", "Al-Farsi"), ("Olivia", "Chen"), ("Liam", "Murphy"), ("Chloé", "Dubois"),
    ("Kenji", "Watanabe"), ("Fatima", "Haddad"), ("Noah", "Williams"), ("Isla", "MacDonald"),
    ("Dmitri", "Ivanov"), ("Mia", "Rossi"), ("Ethan", "Brown"), ("Grace", "Kowalski"),
    ("Hannah", "Schmidt"), ("Lucas", "Silva"), ("Ava", "Thompson"), ("Raj", "Patel"),
    ("Sofia", "Andersson"),
)

_TIMEZONES = (
    ("Australia/Sydney", 10), ("Australia/Sydney", 10), ("Australia/Melbourne", 10),
    ("Australia/Brisbane", 10), ("Australia/Perth", 8), ("Australia/Adelaide", 9.5),
    ("Pacific/Auckland", 12), ("Asia/Manila", 8), ("Asia/Kolkata", 5.5),
    ("Europe/London", 0), ("America/Los_Angeles", -8),
)

# Agents leave: these two are archived and handle no message from the given day on.
_ARCHIVED = {3: date(2019, 6, 29), 17: date(2021, 2, 15)}

CLASSIFICATIONS = (
    Classification(143, "customer service"), Classification(466, "positive"),
    Classification(467, "negative"), Classification(526, "social nps"),
    Classification(528, "feedback"), Classification(1246, "amusing"),
    Classification(1465, "image"), Classification(1467, "loyalty"),
    Classification(1472, "bot"), Classification(1501, "complaint"),
    Classification(1502, "billing"), Classification(1503, "delivery"),
    Classification(1504, "product question"), Classification(1505, "spam"),
)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum() or ch == "-")


class Team:
    """Agents, groups and forms, derived from the seed alone.

    ``today`` only anchors ``last_sign_in_at`` so that it lies in the recent past.
    """

    def __init__(self, seed: int, today: date) -> None:
        rng = random.Random(f"{seed}:team")
        group_ids = sorted(rng.sample(range(100, 1000), len(_GROUPS)))
        self.groups = tuple(
            Group(gid, name, comment)
            for gid, (name, comment) in zip(group_ids, _GROUPS, strict=True)
        )
        agent_ids = sorted(rng.sample(range(10_000, 100_000), len(_NAMES)))
        midnight = datetime(today.year, today.month, today.day, tzinfo=timezone.utc)
        agents = []
        for index, (agent_id, (first, last)) in enumerate(zip(agent_ids, _NAMES, strict=True)):
            tz_name, offset = _TIMEZONES[index % len(_TIMEZONES)]
            archived_on = _ARCHIVED.get(index)
            if archived_on is None:
                last_seen = midnight - timedelta(seconds=rng.randrange(3_600, 5 * 86_400))
            else:
                last_seen = datetime(
                    archived_on.year, archived_on.month, archived_on.day, tzinfo=timezone.utc
                ) - timedelta(seconds=rng.randrange(3_600, 86_400))
            member_of = tuple(sorted(rng.sample(group_ids, 1 + (rng.random() < 0.35))))
            agents.append(
                Agent(
                    id=agent_id,
                    email=f"{_ascii(first)}.{_ascii(last)}@business.io",
                    first_name=first,
                    last_name=last,
                    timezone=tz_name,
                    gmtoffset=offset,
                    sign_in_count=rng.randrange(3, 900),
                    last_sign_in_at=_iso_z(last_seen),
                    archived=archived_on is not None,
                    groups=member_of,
                    archived_on=archived_on,
                    weight=rng.uniform(0.5, 1.5),
                )
            )
        self.agents = tuple(agents)
        self.agents_by_id = {agent.id: agent for agent in self.agents}

        form_ids = rng.sample(range(10, 400), 3)
        token = "".join(rng.choice("0123456789") for _ in range(18))
        self.forms = (
            Form(form_ids[0], "NPS Survey", "Lexer NPS Survey", False,
                 datetime(2016, 3, 14, 2, 41, 7, tzinfo=timezone.utc), (group_ids[0],), True,
                 f"https://d1z1wrkt4y2iqm.cloudfront.net/{token}/1/form", 14.0),
            Form(form_ids[1], "Post-case NPS", "How did we do? 📣", False,
                 datetime(2017, 8, 2, 23, 5, 51, tzinfo=timezone.utc),
                 (group_ids[0], group_ids[1]), True,
                 f"https://d1z1wrkt4y2iqm.cloudfront.net/{token}/2/form", 6.0),
            Form(form_ids[2], "Account verification", "Verify your account", False,
                 datetime(2016, 11, 20, 5, 12, 40, tzinfo=timezone.utc), tuple(group_ids),
                 False, f"https://d1z1wrkt4y2iqm.cloudfront.net/{token}/3/form", 0.0),
        )
        self.forms_by_id = {form.id: form for form in self.forms}
        self.classifications_by_id = {c.id: c for c in CLASSIFICATIONS}

    def eligible_agents(self, day: date) -> tuple[Agent, ...]:
        """Agents who can be assigned messages on ``day``."""
        return tuple(a for a in self.agents if a.archived_on is None or day < a.archived_on)

    def users_json(self) -> list[dict[str, Any]]:
        """The /v1/users answer: exactly the documented fields."""
        return [
            {
                "id": a.id,
                "email": a.email,
                "first_name": a.first_name,
                "last_name": a.last_name,
                "timezone": a.timezone,
                "gmtoffset": a.gmtoffset,
                "sign_in_count": a.sign_in_count,
                "last_sign_in_at": a.last_sign_in_at,
                "archived": a.archived,
                "groups": list(a.groups),
            }
            for a in self.agents
        ]

    def groups_json(self) -> list[dict[str, Any]]:
        """The /v1/groups answer."""
        return [{"id": g.id, "name": g.name, "comment": g.comment} for g in self.groups]

    def forms_json(self) -> list[dict[str, Any]]:
        """The /v1/forms answer."""
        return [
            {
                "id": f.id,
                "name": f.name,
                "title": f.title,
                "archived": f.archived,
                "created_at": _iso_z(f.created),
                "groups": list(f.groups),
                "nps": f.nps,
                "form_url": f.form_url,
            }
            for f in self.forms
        ]
