"""The download route: an S3 pre-signed GET/HEAD, with Range, ETag and file faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import formatdate

from starlette.requests import Request
from starlette.responses import Response

from ._answers import replacement_answer
from ._delivery import Answer
from ._faults import DELIVERY_KINDS, REPLACING_KINDS
from ._files import RangeNotSatisfiable, parse_range, s3_error
from ._sandbox import Sandbox

_XML = {"content-type": "application/xml"}


def download_endpoint(sandbox: Sandbox) -> Callable[[Request], Awaitable[Response]]:
    """GET/HEAD /downloads/{name}: no API token, not rate limited, streamed from disk."""

    def xml(status: int, problem: str, **details: str) -> Answer:
        return Answer.of_bytes(status, _XML, s3_error(problem, **details), wire=sandbox.wire)

    async def endpoint(request: Request) -> Response:
        sandbox.recorder.request("download")
        name = request.path_params["name"]
        fault = sandbox.faults.take("download")
        if fault is not None:
            sandbox.recorder.fault(fault.kind)
        if fault is not None and fault.kind in REPLACING_KINDS:
            status, headers, body = replacement_answer(fault)
            if request.method == "HEAD":
                return Answer(status, headers, (), len(body), wire=sandbox.wire)
            return Answer.of_bytes(status, headers, body, wire=sandbox.wire)
        # A pre-signed URL is a credential; S3 refuses a request that brings a second one.
        if "auth-api-token" in request.headers or "authorization" in request.headers:
            return xml(400, "two_auth")
        problem = sandbox.files.check_signature(name, request.query_params, sandbox.now())
        if problem is not None:
            return xml(403, problem)
        blob = sandbox.files.get(name)
        if blob is None:
            return xml(404, "no_key", Key=name)
        kind = fault.kind if fault is not None else None
        headers = {"content-type": "text/csv", "accept-ranges": "bytes"}
        if kind == "gzip":
            # As S3 serves an object stored gzip-encoded: sizes, ETag and ranges all count
            # the compressed bytes.
            original = blob
            blob = await sandbox.run_blocking(lambda: original.gzipped(sandbox.files.directory))
            headers["content-encoding"] = "gzip"
        headers["etag"] = f'"{await sandbox.run_blocking(blob.md5)}"'
        headers["last-modified"] = formatdate(blob.path.stat().st_mtime, usegmt=True)
        header = None if kind == "ignore_range" else request.headers.get("range")
        try:
            wanted = parse_range(header, blob.size)
        except RangeNotSatisfiable:
            return Answer.of_bytes(
                416, {**_XML, "content-range": f"bytes */{blob.size}"},
                s3_error("range", RangeRequested=header or "", ActualObjectSize=str(blob.size)),
                wire=sandbox.wire,
            )
        status, (start, end) = (200, (0, blob.size - 1)) if wanted is None else (206, wanted)
        if wanted is not None:
            headers["content-range"] = f"bytes {start}-{end}/{blob.size}"
        if kind == "bad_content_range":
            status = 206
            headers["content-range"] = (
                fault.params["content_range"] if fault is not None and fault.params["content_range"]
                else f"bytes {start + 1}-{end + 1}/{blob.size}"
            )
        is_get = request.method == "GET"
        if is_get:
            sandbox.recorder.download()
        return Answer(
            status,
            headers,
            blob.read(start, end) if is_get else (),
            end - start + 1,
            wire=sandbox.wire,
            fault=fault if kind in DELIVERY_KINDS else None,
            on_sent=sandbox.recorder.sent,
        )

    return endpoint
