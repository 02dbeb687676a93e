"""Bodies and headers of the sandbox's answers: JSON, documented errors, fault answers."""

from __future__ import annotations

import http
import json
from typing import Any

from ._errors import RATE_LIMITED
from ._faults import Fault
from ._files import s3_error

JSON_TYPE = "application/json; charset=utf-8"
Raw = tuple[int, dict[str, str], bytes]  # status, headers, body


def json_bytes(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as a Rails API sends it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Raw:
    return status, {"content-type": JSON_TYPE, **(headers or {})}, json_bytes(payload)


def error_answer(status: int, message: str, headers: dict[str, str] | None = None) -> Raw:
    """``{"error": message}``: the documented message, in the body's most common shape."""
    return json_answer({"error": message}, status, headers)


def rate_limited_answer(retry_after: str | None) -> Raw:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return error_answer(429, RATE_LIMITED, headers)


# A body cut off mid-number: what a proxy that truncates a response leaves behind.
_INVALID_JSON = b'{"total_volume":81,"avg_response_time":1817'
_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html>\n<head><title>We're sorry, but something went wrong</title></head>\n"
    b"<body><h1>We're sorry, but something went wrong.</h1>\n"
    b"<p>If you are the application owner check the logs for more information.</p></body>\n"
    b"</html>\n"
)


def replacement_answer(fault: Fault, report_token: str | None = None) -> Raw:
    """The answer a replacing fault sends instead of the real one."""
    kind = fault.kind
    if kind == "status":
        return _status_answer(fault)
    if kind == "rate_limit":
        return rate_limited_answer(fault["retry_after"])
    if kind == "malformed":
        status = fault["status_code"]
        body = fault["body"]
        if body == "html":
            return status, {"content-type": "text/html; charset=utf-8"}, _HTML_PAGE
        if body == "json":
            return json_answer(fault["json"], status)
        content = _INVALID_JSON if body == "invalid_json" else b""
        return status, {"content-type": JSON_TYPE}, content
    if kind == "expired":
        return 403, {"content-type": "application/xml"}, s3_error("expired")
    if kind == "export_status":
        payload: dict[str, Any] = {"status": fault["status"]}
        if "url" in fault.params:
            payload["url"] = fault["url"]
        payload["token"] = report_token
        return json_answer(payload)
    raise ValueError(f"fault kind {kind!r} does not replace an answer")


def _status_answer(fault: Fault) -> Raw:
    status: int = fault["status_code"]
    body = fault["body"]
    headers = {k.lower(): v for k, v in (fault["headers"] or {}).items()}
    if body is None:
        try:
            body = http.HTTPStatus(status).phrase
        except ValueError:
            body = ""
    if isinstance(body, dict | list):
        headers.setdefault("content-type", JSON_TYPE)
        return status, headers, json_bytes(body)
    headers.setdefault("content-type", "text/plain; charset=utf-8")
    return status, headers, body.encode() if isinstance(body, str) else body
