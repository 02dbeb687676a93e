"""The synthetic activity: messages, cases and NPS surveys for every past day.

Nothing is stored. Each UTC day is derived from ``(seed, day)`` alone, so any date ever
asked for has data, and the same day always has the same data. Days are cached, so a
12-month report derives each day once. Every report and export reads this one set, which
is what makes the reports agree with each other.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import accumulate
from typing import NamedTuple

from ._team import CLASSIFICATIONS, Team

DAY = 86_400
STATES = (
    "closed", "responded", "assigned", "in_progress", "duplicate",
    "awaiting_approval", "new", "redirected", "irrelevant", "no_response_required",
)
# "all_closed_states" in user_volume sums these: every state that needs no further action.
CLOSED_STATES = ("closed", "duplicate", "irrelevant", "no_response_required")
_STATE_CUM = tuple(accumulate((44, 18, 7, 5, 3, 1, 6, 3, 8, 5)))

CUSTOMER_SLA = 3_600.0  # seconds a customer may wait for a reply
AGENT_SLA = 900.0  # seconds an agent may take from assignment to reply
MAX_WAIT = 16 * DAY
CASE_IDLE = DAY  # a case closes after 24 hours without activity (vendor's page)
# Cases closing in a range may have opened this many days before it.
LOOKBACK_DAYS = math.ceil((MAX_WAIT + CASE_IDLE) / DAY) + 1

TEAM_OFFSET_HOURS = 10  # the team works Sydney hours; traffic follows their day
_LOCAL_HOUR_WEIGHTS = (
    0.30, 0.20, 0.15, 0.10, 0.10, 0.15, 0.30, 0.60, 1.00, 1.40, 1.60, 1.60,
    1.50, 1.50, 1.60, 1.50, 1.30, 1.10, 0.90, 0.80, 0.70, 0.60, 0.50, 0.40,
)
_UTC_HOUR_CUM = tuple(
    accumulate(_LOCAL_HOUR_WEIGHTS[(h + TEAM_OFFSET_HOURS) % 24] for h in range(24))
)
_WEEKDAY_FACTOR = (1.10, 1.05, 1.00, 1.00, 0.95, 0.70, 0.65)  # Monday first
BASE_DAILY_MESSAGES = 300.0

SOURCES = (
    ("Acme Care", "twitter"), ("Acme Australia", "facebook"), ("acme.au", "instagram"),
    ("Acme Australia", "messenger"), ("care@acme.example", "email"),
    ("Acme — Sydney CBD", "google_my_business"), ("Acme Support", "whatsapp"),
)
_SOURCE_CUM = tuple(accumulate((30, 25, 12, 15, 10, 3, 5)))
_CLASS_IDS = tuple(c.id for c in CLASSIFICATIONS)
_SCORE_CUM = tuple(accumulate((3, 1, 1, 2, 2, 4, 5, 9, 14, 22, 30)))


class Message(NamedTuple):
    """One customer message. Times are epoch seconds; durations seconds."""

    id: int
    created: float
    state: str
    agent_id: int | None
    classifications: tuple[int, ...]
    responded: bool
    private: bool
    wait: float | None  # customer wait: arrival to agent reply
    handle: float | None  # agent response: assignment to reply
    case_id: int | None
    customer: int
    source: int

    @property
    def broke_sla(self) -> bool:
        return self.wait is not None and self.wait > CUSTOMER_SLA

    @property
    def broke_action_sla(self) -> bool:
        return self.handle is not None and self.handle > AGENT_SLA


class Case(NamedTuple):
    """A conversation with one customer; exists once an agent has replied."""

    id: int
    customer: int
    source: int
    opened: float
    closed: float
    first_reply: float
    resolution: float
    interactions: int
    agents: tuple[int, ...]
    classifications: tuple[int, ...]
    messages: tuple[int, ...]


class Survey(NamedTuple):
    """One NPS survey sent; ``score`` is None when the customer never answered."""

    id: int
    form_id: int
    sent: float
    submitted: float | None
    score: int | None
    customer: int


class Day(NamedTuple):
    """Everything that happened on one UTC day."""

    number: int  # days since 1970-01-01
    messages: tuple[Message, ...]
    cases: tuple[Case, ...]
    surveys: dict[int, tuple[Survey, ...]]


def nps_category(score: int) -> str:
    """promoter (9-10), passive (7-8) or detractor (0-6), as the vendor defines them."""
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def day_number(moment: float) -> int:
    """The UTC day (days since the epoch) holding epoch second ``moment``."""
    return math.floor(moment / DAY)


def _ident(number: int, index: int) -> int:
    # Positive, unique per (day, index), and stable: ids survive a restart.
    return (number + 1_000_000) * 100_000 + index


class World:
    """The seeded team plus its activity, queried by time range."""

    def __init__(self, seed: int, volume_scale: float, today: date) -> None:
        self.seed = seed
        self.volume_scale = volume_scale
        self.team = Team(seed, today)
        # Enough for a 12-month report plus the cases' lookback (~130 KB a day at scale 1).
        self.day = functools.lru_cache(maxsize=400)(self._build_day)

    # Queries. ``now`` hides whatever has not happened yet.

    def days(self, start: float, end: float) -> Iterator[Day]:
        """Every UTC day overlapping [start, end]."""
        for number in range(day_number(start), day_number(end) + 1):
            yield self.day(number)

    def messages(self, start: float, end: float, now: float) -> Iterator[Message]:
        """Messages created in [start, end] and not after ``now``."""
        end = min(end, now)
        if end < start:
            return
        for day in self.days(start, end):
            for message in day.messages:
                if start <= message.created <= end:
                    yield message

    def cases_closed(self, start: float, end: float, now: float) -> Iterator[Case]:
        """Cases closed in [start, end], oldest opening first."""
        end = min(end, now)
        if end < start:
            return
        for number in range(day_number(start) - LOOKBACK_DAYS, day_number(end) + 1):
            for case in self.day(number).cases:
                if start <= case.closed <= end:
                    yield case

    def cases_open(self, start: float, end: float, now: float) -> Iterator[Case]:
        """Cases open at some moment of [start, end]."""
        end = min(end, now)
        if end < start:
            return
        for number in range(day_number(start) - LOOKBACK_DAYS, day_number(end) + 1):
            for case in self.day(number).cases:
                if case.opened <= end and case.closed > start:
                    yield case

    def surveys(self, form_id: int, start: float, end: float, now: float) -> Iterator[Survey]:
        """Surveys of ``form_id`` sent in [start, end]; answers later than ``now`` hidden."""
        end = min(end, now)
        if end < start:
            return
        for day in self.days(start, end):
            for survey in day.surveys.get(form_id, ()):
                if start <= survey.sent <= end:
                    if survey.submitted is not None and survey.submitted > now:
                        yield survey._replace(submitted=None, score=None)
                    else:
                        yield survey

    # Derivation of one day.

    def _build_day(self, number: int) -> Day:
        rng = random.Random(f"{self.seed}:day:{number}")
        the_date = date(1970, 1, 1) + timedelta(days=number)
        start = number * DAY
        messages, cases = self._messages(rng, number, the_date, start)
        surveys = {
            form.id: self._surveys(rng, number, slot, form.id, form.daily_surveys, start)
            for slot, form in enumerate(self.team.forms)
            if form.nps and form.created.timestamp() <= start
        }
        return Day(number, messages, cases, surveys)

    def _daily_mean(self, rng: random.Random, the_date: date) -> float:
        season = 1.0 + 0.12 * math.sin(2 * math.pi * the_date.timetuple().tm_yday / 365.25)
        weekday = _WEEKDAY_FACTOR[the_date.weekday()]
        return BASE_DAILY_MESSAGES * weekday * season * rng.uniform(0.85, 1.15) * self.volume_scale

    def _messages(
        self, rng: random.Random, number: int, the_date: date, start: float
    ) -> tuple[tuple[Message, ...], tuple[Case, ...]]:
        # Fields are drawn column by column first (a batched `choices` is much cheaper than
        # one call per message), then cases, then the Message tuples, each built once.
        count = _poisson(rng, self._daily_mean(rng, the_date))
        hours = rng.choices(range(24), cum_weights=_UTC_HOUR_CUM, k=count)
        created = sorted(start + hour * 3600 + rng.random() * 3600 for hour in hours)
        states = rng.choices(STATES, cum_weights=_STATE_CUM, k=count)
        agents = self.team.eligible_agents(the_date)
        picks = rng.choices(
            [a.id for a in agents], cum_weights=tuple(accumulate(a.weight for a in agents)), k=count
        )
        tag_counts = rng.choices((0, 1, 2, 3), cum_weights=(25, 70, 92, 100), k=count)
        sources = rng.choices(range(len(SOURCES)), cum_weights=_SOURCE_CUM, k=count)
        waits: list[float | None] = [None] * count
        handles: list[float | None] = [None] * count
        tags: list[tuple[int, ...]] = [()] * count
        customers = list(range(count))  # index of the message that opened the conversation
        for i in range(count):
            state = states[i]
            if state == "responded" or (state == "closed" and rng.random() < 0.8):
                wait = min(MAX_WAIT, max(15.0, rng.lognormvariate(6.5, 1.9)))
                share = rng.random()
                waits[i] = wait
                handles[i] = max(2.0, wait * (0.02 + 0.5 * share * share))
            if tag_counts[i] == 1:
                tags[i] = (_CLASS_IDS[int(rng.random() * len(_CLASS_IDS))],)
            elif tag_counts[i]:
                tags[i] = tuple(sorted(rng.sample(_CLASS_IDS, tag_counts[i])))
            if i and rng.random() < 0.22:
                # A returning customer: same person, same channel, as a recent message.
                customers[i] = customers[rng.randrange(max(0, i - 40), i)]
                sources[i] = sources[customers[i]]
        case_of, cases = self._cases(rng, number, customers, sources, created, waits, picks, tags)
        privates = [rng.random() < 0.35 for _ in range(count)]
        base = _ident(number, 0)
        messages = tuple(
            [
                Message(
                    base + i, created[i], states[i], None if states[i] == "new" else picks[i],
                    tags[i], waits[i] is not None, privates[i], waits[i], handles[i],
                    case_of.get(customers[i]), base + customers[i], sources[i],
                )
                for i in range(count)
            ]
        )
        return messages, cases

    def _cases(
        self,
        rng: random.Random,
        number: int,
        customers: list[int],
        sources: list[int],
        created: list[float],
        waits: list[float | None],
        agents: list[int],
        tags: list[tuple[int, ...]],
    ) -> tuple[dict[int, int], tuple[Case, ...]]:
        by_customer: dict[int, list[int]] = {}
        for index, customer in enumerate(customers):
            by_customer.setdefault(customer, []).append(index)
        case_of: dict[int, int] = {}
        cases = []
        base = _ident(number, 0)
        for customer, indices in by_customer.items():
            replied = [i for i in indices if waits[i] is not None]
            if not replied:
                continue  # no agent reply, no case (vendor's page)
            case_id = base + customer
            case_of[customer] = case_id
            opened = created[indices[0]]
            replies = [created[i] + waits[i] for i in replied]  # type: ignore[operator]
            last = max(max(replies), created[indices[-1]])
            extra = rng.random()  # follow-up replies beyond one per message: 0 (60%), 1, 2
            people: tuple[int, ...]
            if len(indices) == 1:
                # Most conversations are one message: skip the set arithmetic.
                people, topics = (agents[customer],), tags[customer]
            else:
                people = tuple(sorted({agents[i] for i in replied}))
                topics = tuple(sorted({c for i in indices for c in tags[i]}))
            cases.append(
                Case(
                    case_id, case_id, sources[customer], opened, last + CASE_IDLE,
                    min(replies) - opened, last - opened,
                    len(replied) + (extra >= 0.6) + (extra >= 0.9),
                    people, topics, tuple([base + i for i in indices]),
                )
            )
        return case_of, tuple(cases)

    def _surveys(
        self, rng: random.Random, number: int, slot: int, form_id: int, mean: float, start: float
    ) -> tuple[Survey, ...]:
        count = _poisson(rng, mean * self.volume_scale)
        hours = rng.choices(range(24), cum_weights=_UTC_HOUR_CUM, k=count)
        sent_times = sorted(start + hour * 3600 + rng.random() * 3600 for hour in hours)
        surveys = []
        for i, sent in enumerate(sent_times):
            answered = rng.random() < 0.62
            surveys.append(
                Survey(
                    id=_ident(number, 50_000 + slot * 10_000 + i),
                    form_id=form_id,
                    sent=sent,
                    submitted=(
                        sent + min(20 * 3600.0, rng.expovariate(1 / 2400)) if answered else None
                    ),
                    score=rng.choices(range(11), cum_weights=_SCORE_CUM)[0] if answered else None,
                    customer=_ident(number, 80_000 + i),
                )
            )
        return tuple(surveys)

