"""Malformed answers (fault 7) for every report method and list endpoint, over loopback HTTP.

A 200 answer that is not JSON, not the documented shape, or not the documented types is a
``ResponseValidationError``, never a crash and never a silently wrong result. Where a
malformed-looking answer is a valid result, the case says so and asserts the exact value:

- ``null`` for a field is a missing field: an object whose fields are all null is a result
  with every field None. A list of zero items is an empty result.
- The lists accept the bare object the vendor's page shows (a one-item list).
- Every time-series point needs its ``date_range.date_from`` label; its value may be null.
- ``user_id`` may be a string of digits (api-notes); no other number may be a string.
- ``report()`` returns any JSON as sent; only an undecodable body is an error there.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from lexer_activity import (
    AgentVolume,
    AsyncActivityClient,
    CaseSummary,
    ClassificationVolume,
    Form,
    Group,
    NpsDay,
    NpsSummary,
    ResponseValidationError,
    StateVolume,
    Summary,
    User,
)
from lexer_activity.sandbox import Fault, SandboxServer

from ._support import METHODS, Method, raises

RVE = ResponseValidationError
EMPTY_INSTANCE: dict[str, Any] = {
    "summary": Summary(),
    "case_summary": CaseSummary(),
    "nps_summary": NpsSummary(),
    "users": [User()],
    "groups": [Group()],
    "forms": [Form()],
}

_DEEP = b"[" * 100_000 + b"]" * 100_000


class Generic(NamedTuple):
    label: str
    spec: dict[str, Any]  # how the sandbox sends it
    value: Any  # the JSON value (None for bodies that are not JSON)


GENERIC = [Generic(*case) for case in [
    ("invalid-json", {"kind": "malformed", "body": "invalid_json"}, None),
    ("html-page", {"kind": "malformed", "body": "html"}, None),
    ("empty-body", {"kind": "malformed", "body": "empty"}, None),
    ("nan-and-infinity-tokens", {"kind": "status", "status_code": 200,
                                 "body": b'{"total_volume": NaN, "avg_response_time": Infinity}',
                                 "headers": {"content-type": "application/json"}}, None),
    ("nested-100000-deep", {"kind": "status", "status_code": 200, "body": _DEEP,
                            "headers": {"content-type": "application/json"}}, None),
    ("invalid-utf8", {"kind": "status", "status_code": 200, "body": b'{"name": "\xff\xfe"}',
                      "headers": {"content-type": "application/json"}}, None),
    ("null", {"kind": "malformed", "body": "json", "json": None}, None),
    ("string", {"kind": "malformed", "body": "json", "json": "a string"}, "a string"),
    ("number", {"kind": "malformed", "body": "json", "json": 42}, 42),
    ("true", {"kind": "malformed", "body": "json", "json": True}, True),
    ("empty-list", {"kind": "malformed", "body": "json", "json": []}, []),
    ("empty-object", {"kind": "malformed", "body": "json", "json": {}}, {}),
    ("list-of-numbers", {"kind": "malformed", "body": "json", "json": [1, 2]}, [1, 2]),
    ("list-of-null", {"kind": "malformed", "body": "json", "json": [None]}, [None]),
    ("list-of-lists", {"kind": "malformed", "body": "json", "json": [[]]}, [[]]),
]]
_NOT_JSON = {"invalid-json", "html-page", "empty-body", "nan-and-infinity-tokens",
             "nested-100000-deep", "invalid-utf8"}


def generic_expectation(label: str, value: Any, method: Method) -> Any:
    """The exact result, or RVE."""
    if label in _NOT_JSON:
        return RVE
    if method.shape == "raw":
        return value
    if label == "empty-list":
        return [] if method.shape in ("list", "bare-or-list") else RVE
    if label == "empty-object":
        if method.shape in ("object", "bare-or-list"):
            return EMPTY_INSTANCE[method.name]
        return {} if method.shape == "series-map" else RVE
    return RVE


async def check(
    server: SandboxServer,
    client: AsyncActivityClient,
    method: Method,
    fault: Fault,
    expected: Any,
) -> None:
    server.sandbox.add_fault(fault)
    if expected is RVE:
        with raises(RVE) as info:
            await method.call(client)
        assert info.value.endpoint  # names the endpoint or report type
    else:
        result = await method.call(client)
        assert (expected(result) if callable(expected) else result == expected), result
    # Never retried: a malformed answer is not transient.
    assert server.sandbox.stats.requests == {method.route: 1}


@pytest.mark.matrix
@pytest.mark.parametrize("op", METHODS, ids=str)
@pytest.mark.parametrize(
    "fault", [pytest.param(case, id=case.label) for case in GENERIC]
)
async def test_generic_malformed_answer(
    op: Method,
    fault: Generic,
    server: SandboxServer,
    make_client: Callable[..., AsyncActivityClient],
) -> None:
    params = dict(fault.spec)
    kind = params.pop("kind")
    expected = generic_expectation(fault.label, fault.value, op)
    await check(server, make_client(), op, Fault(op.route, kind, **params), expected)


# -- wrong shapes, method by method ---------------------------------------------------------

Mutation = Callable[[Any], Any]


def example(method: str) -> Any:
    found = next(m for m in METHODS if m.name == method)
    assert found.example is not None
    return json.loads(found.example)


def edit(method: str, change: Callable[[Any], None]) -> Any:
    data = copy.deepcopy(example(method))
    change(data)
    return data


def null_fields(value: Any) -> Any:
    """Every field of the answer's object(s) set to null; containers one level down kept."""
    if isinstance(value, list):
        return [null_fields(item) for item in value]
    return dict.fromkeys(value)


def setter(*path: Any) -> Callable[[Any], Callable[[Any], None]]:
    def with_value(new: Any) -> Callable[[Any], None]:
        def change(data: Any) -> None:
            target = data
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = new

        return change

    return with_value


def all_none(cls: type, count: int) -> Callable[[Any], bool]:
    return lambda result: result == [cls() for _ in range(count)]


SHAPES: list[tuple[str, str, Any, Any]] = [
    # summary: an object of numbers.
    ("summary", "null-fields", null_fields(example("summary")), Summary()),
    ("summary", "string-for-int", edit("summary", setter("total_volume")("81")), RVE),
    ("summary", "string-for-float", edit("summary", setter("avg_response_time")("181795.6")), RVE),
    ("summary", "bool-for-int", edit("summary", setter("total_volume")(True)), RVE),
    ("summary", "fractional-int", edit("summary", setter("total_volume")(81.5)), RVE),
    ("summary", "list-for-object", [example("summary")], RVE),
    ("summary", "object-for-number", edit("summary", setter("broke_sla")({})), RVE),
    ("summary", "float-overflow", edit("summary", setter("avg_response_time")(10**400)), RVE),
    ("summary", "unknown-field", edit("summary", setter("new_metric")(5)),
     lambda s: s.total_volume == 81 and s.broke_sla == 11),
    # states_volume: state -> list of points.
    ("states_volume", "null-fields", null_fields(example("states_volume")), RVE),
    ("states_volume", "null-point-value",
     edit("states_volume", setter("closed", 0, "value")(None)),
     lambda r: r["closed"].points[0].value is None and len(r["closed"].points) == 4),
    ("states_volume", "null-date-range", edit("states_volume", setter("closed", 0, "date_range")(None)), RVE),
    ("states_volume", "string-for-value", edit("states_volume", setter("closed", 0, "value")("174")), RVE),
    ("states_volume", "iso-label-with-T",
     edit("states_volume", setter("closed", 0, "date_range", "date_from")("2018-04-27T00:00")), RVE),
    ("states_volume", "object-for-points", {"closed": {"state": "closed"}}, RVE),
    ("states_volume", "list-for-point", {"closed": [[]]}, RVE),
    # workflow_states: list of {state, volume}, or per-agent rows.
    ("workflow_states", "null-fields", null_fields(example("workflow_states")),
     all_none(StateVolume, 6)),
    ("workflow_states", "string-for-int", edit("workflow_states", setter(0, "volume")("92")), RVE),
    ("workflow_states", "number-for-string", edit("workflow_states", setter(0, "state")(5)), RVE),
    ("workflow_states", "mixed-state-and-agent-rows",
     [{"state": "closed", "volume": 3}, {"user_id": 1, "states": {"closed": 2}}], RVE),
    # classifications
    ("classifications", "null-fields", null_fields(example("classifications")),
     all_none(ClassificationVolume, 5)),
    ("classifications", "string-for-int", edit("classifications", setter(0, "volume")("2")), RVE),
    ("classifications", "string-id", edit("classifications", setter(0, "classification_id")("123")), RVE),
    # response_volume: {"avg_response_time": [points]}
    ("response_volume", "null-fields", null_fields(example("response_volume")), RVE),
    ("response_volume", "missing-key", {"avg": []}, RVE),
    ("response_volume", "string-for-value",
     edit("response_volume", setter("avg_response_time", 0, "value")("317691.3")), RVE),
    ("response_volume", "list-for-date-range",
     edit("response_volume", setter("avg_response_time", 0, "date_range")([])), RVE),
    # user_summary
    ("user_summary", "null-fields", null_fields(example("user_summary")),
     lambda r: len(r) == 2 and all(row.user_id is None and row.broke_sla is None for row in r)),
    ("user_summary", "string-for-int", edit("user_summary", setter(0, "mentions_assigned")("12")), RVE),
    ("user_summary", "non-numeric-user-id", edit("user_summary", setter(0, "user_id")("abc")), RVE),
    # user_volume
    ("user_volume", "null-fields", null_fields(example("user_volume")), all_none(AgentVolume, 2)),
    ("user_volume", "string-count", edit("user_volume", setter(0, "states", "closed")("110")), RVE),
    ("user_volume", "null-count", edit("user_volume", setter(0, "states", "closed")(None)), RVE),
    ("user_volume", "list-for-states", edit("user_volume", setter(0, "states")([])), RVE),
    # case_summary, case_volume, case_classifications
    ("case_summary", "null-fields", null_fields(example("case_summary")), CaseSummary()),
    ("case_summary", "string-for-int", edit("case_summary", setter("total_cases")("10")), RVE),
    ("case_volume", "null-fields", null_fields(example("case_volume")), RVE),
    ("case_volume", "string-for-value", edit("case_volume", setter("open", 0, "value")("9")), RVE),
    ("case_classifications", "null-fields", null_fields(example("case_classifications")),
     lambda r: len(r) == 7 and all(row.volume is None for row in r)),
    ("case_classifications", "string-for-int",
     edit("case_classifications", setter(0, "volume")("1")), RVE),
    # nps_summary, nps_volume
    ("nps_summary", "null-fields", null_fields(example("nps_summary")), NpsSummary()),
    ("nps_summary", "string-for-int", edit("nps_summary", setter("total_sent")("16")), RVE),
    ("nps_volume", "null-fields", null_fields(example("nps_volume")),
     lambda r: len(r) > 1 and all(day == NpsDay() for day in r)),
    ("nps_volume", "string-for-int", edit("nps_volume", setter(0, "data", "total_sent")("0")), RVE),
    ("nps_volume", "string-timestamp", edit("nps_volume", setter(0, "timestamp")("1522587600")), RVE),
    ("nps_volume", "timestamp-out-of-range", edit("nps_volume", setter(0, "timestamp")(10**20)), RVE),
    ("nps_volume", "bad-date", edit("nps_volume", setter(0, "date")("2018-13-01T00:00:00Z")), RVE),
    ("nps_volume", "list-for-data", edit("nps_volume", setter(0, "data")([])), RVE),
    # users, groups, forms
    ("users", "null-fields", null_fields(example("users")), [User()]),
    ("users", "string-id", edit("users", setter("id")("12345")), RVE),
    ("users", "string-group-id", edit("users", setter("groups")(["123"])), RVE),
    ("users", "null-group-id", edit("users", setter("groups")([None])), RVE),
    ("users", "string-for-bool", edit("users", setter("archived")("false")), RVE),
    ("users", "number-for-string", edit("users", setter("email")(5)), RVE),
    ("users", "bad-timestamp", edit("users", setter("last_sign_in_at")("yesterday")), RVE),
    ("users", "list-of-lists", [[example("users")]], RVE),
    ("groups", "null-fields", null_fields(example("groups")), [Group()]),
    ("groups", "string-id", edit("groups", setter("id")("123")), RVE),
    ("forms", "null-fields", null_fields(example("forms")), [Form()]),
    ("forms", "string-id", edit("forms", setter("id")("55")), RVE),
    ("forms", "string-for-bool", edit("forms", setter("nps")("true")), RVE),
]


@pytest.mark.matrix
@pytest.mark.parametrize(
    ("op", "fault", "body", "expected"),
    [
        pytest.param(next(m for m in METHODS if m.name == name), label, body, expected,
                     id=f"{name}-{label}")
        for name, label, body, expected in SHAPES
    ],
)
async def test_wrong_shape(
    op: Method,
    fault: str,
    body: Any,
    expected: Any,
    server: SandboxServer,
    make_client: Callable[..., AsyncActivityClient],
) -> None:
    await check(server, make_client(), op, Fault(op.route, "malformed", body="json", json=body), expected)
