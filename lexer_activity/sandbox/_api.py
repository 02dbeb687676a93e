"""The API routes: faults, authentication, the rate window, then the route's own work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from ._answers import Raw, error_answer, json_answer, rate_limited_answer, replacement_answer
from ._delivery import Answer
from ._errors import NOT_FOUND, TOKEN_NOT_MATCHING, UNAUTHORIZED, ApiError
from ._faults import REPLACING_KINDS
from ._query import EXPORT_TYPES, parse_report_request
from ._ratewindow import format_retry_after
from ._reports import build_report
from ._sandbox import Sandbox

Handler = Callable[[Sandbox, Request], Awaitable[Raw]]


def api_endpoint(
    sandbox: Sandbox, route: str, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler`` in the pipeline every API route shares.

    Order: count the request; take a fault; a replacing fault answers at once (it plays a
    gateway in front of the API: no token needed, no budget spent); otherwise
    authentication (401), the rate window (429), the handler's own validation (400/404)
    and work. ``latency`` is added before any answer, and a delivery fault shapes how the
    answer's bytes go out.
    """

    async def endpoint(request: Request) -> Response:
        sandbox.recorder.request(route)
        fault = sandbox.faults.take(route)
        if fault is not None:
            sandbox.recorder.fault(fault.kind)
        if fault is not None and fault.kind in REPLACING_KINDS:
            raw = replacement_answer(fault, request.query_params.get("token"))
            fault = None
        else:
            raw = await _admitted(sandbox, request, handler)
        if raw[0] == 429:
            sandbox.recorder.rate_limited()
        if sandbox.config.latency:
            await sandbox.wire.sleep(sandbox.config.latency)
        status, headers, body = raw
        if request.method == "HEAD":
            return Answer(status, headers, (), len(body), wire=sandbox.wire, fault=fault)
        return Answer.of_bytes(status, headers, body, wire=sandbox.wire, fault=fault)

    return endpoint


async def _admitted(sandbox: Sandbox, request: Request, handler: Handler) -> Raw:
    token = request.headers.get("auth-api-token", "").strip()
    if not token:
        return error_answer(401, UNAUTHORIZED)
    if token not in sandbox.config.tokens:
        return error_answer(401, TOKEN_NOT_MATCHING)
    wait = sandbox.window.try_admit(token)
    if wait is not None:
        retry_after = format_retry_after(wait) if sandbox.config.send_retry_after else None
        return rate_limited_answer(retry_after)
    try:
        return await handler(sandbox, request)
    except ApiError as error:
        return error_answer(error.status, error.message)


async def users(sandbox: Sandbox, request: Request) -> Raw:
    """GET /v1/users: a list of users (the vendor's example shows one object)."""
    return json_answer(sandbox.world.team.users_json())


async def groups(sandbox: Sandbox, request: Request) -> Raw:
    """GET /v1/groups."""
    return json_answer(sandbox.world.team.groups_json())


async def forms(sandbox: Sandbox, request: Request) -> Raw:
    """GET /v1/forms."""
    return json_answer(sandbox.world.team.forms_json())


async def reports(sandbox: Sandbox, request: Request) -> Raw:
    """POST /v1/activity/reports: a report, or the start of an export job."""
    query = parse_report_request(
        await request.body(), sandbox.now(), sandbox.world.team.forms_by_id
    )
    sandbox.recorder.report_type(query.type)
    if query.type in EXPORT_TYPES:
        token = sandbox.exports.start(query)
        return json_answer({"status": "pending", "url": None, "token": token})
    now = sandbox.now().timestamp()
    # Reports over months of data take a fraction of a second: keep the event loop free.
    payload = await sandbox.run_blocking(lambda: build_report(sandbox.world, query, now))
    return json_answer(payload)


async def export_status(sandbox: Sandbox, request: Request) -> Raw:
    """GET .../reports/status?token=: pending, then complete with a pre-signed URL."""
    token = request.query_params.get("token", "")
    state = sandbox.exports.status(token) if token else None
    if state is None:
        raise ApiError(404, NOT_FOUND)
    status, blob = state
    url = None
    if blob is not None:
        netloc = request.headers.get("host") or request.url.netloc
        url = sandbox.file_url(blob.name, sandbox.download_origin(request.url.scheme, netloc))
    return json_answer({"status": status, "url": url, "token": token})
