"""Property: for any answer body, every report method and list endpoint returns a result or
raises ``ResponseValidationError``; nothing else ever escapes.

Bodies are arbitrary JSON (hypothesis' recursive strategies, NaN and Infinity included),
near-valid variants of the vendor's own examples (any node kept, dropped, or replaced by
arbitrary JSON), and arbitrary bytes. They are served with respx.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexer_activity import AsyncActivityClient, ResponseValidationError

from ._support import (
    EVIDENCE,
    HYPOTHESIS_EXAMPLES,
    METHODS,
    TOKEN,
    Method,
    new_http_client,
    note_respx_request,
    record_exception,
)

API = "https://api.lexer.test"
STATUS_URL = "https://clients.lexer.test/api/public/v1/activity/reports/status"

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2018-04-27 00:00", "2018-04-01T13:00:00+00:00", "123", "", "NaN"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=16,
)


def near(value: Any) -> st.SearchStrategy[Any]:
    """``value`` with any node kept, dropped (object keys) or replaced by arbitrary JSON."""
    if isinstance(value, dict):
        same: st.SearchStrategy[Any] = st.fixed_dictionaries(
            {}, optional={key: near(item) for key, item in value.items()}
        )
    elif isinstance(value, list):
        same = st.lists(st.one_of([near(item) for item in value[:2]]), max_size=3)
    else:
        same = st.just(value)
    return st.one_of(same, same, same, json_values)


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def bodies(method: Method) -> st.SearchStrategy[bytes]:
    options = [json_values.map(dumps), st.binary(max_size=40)]
    if method.example is not None:
        options.insert(0, near(json.loads(method.example)).map(dumps))
    return st.one_of(options)


@pytest.mark.parametrize("method", METHODS, ids=str)
@settings(
    max_examples=int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_any_answer_gives_a_result_or_a_validation_error(
    method: Method, data: st.DataObject
) -> None:
    body = data.draw(bodies(method), label="body")
    HYPOTHESIS_EXAMPLES.append(method.name)
    with respx.mock(assert_all_called=False) as router:
        route = (
            router.post(f"{API}/v1/activity/reports")
            if method.route == "reports"
            else router.get(f"{API}/v1/{method.route}")
        )
        route.mock(return_value=httpx.Response(200, content=body,
                                               headers={"content-type": "application/json"}))
        other = router.route().mock(side_effect=lambda request: (
            note_respx_request(request), httpx.Response(599))[1])
        async with new_http_client() as http:
            client = AsyncActivityClient(
                token=TOKEN, base_url=API, status_url=STATUS_URL, http_client=http,
                max_retries=0, rate_limit=(1_000_000, 1.0),
            )
            try:
                await method.call(client)
            except ResponseValidationError as exc:
                EVIDENCE.count("caught_exceptions")
                record_exception("caught", exc)
        assert route.call_count == 1
        assert other.call_count == 0
