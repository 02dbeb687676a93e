"""A local fake of Lexer's Activity API, built from the vendor's page (like stripe-mock).

It shares no code with the SDK client, so it can catch the client's mistakes.

Serve it in-process (``create_app`` with ``httpx.ASGITransport``), on a loopback port in a
background thread (``SandboxServer``), or from the command line
(``python -m lexer_activity.sandbox``). Every past date has deterministic data, derived
from ``(seed, date)``; all reports and exports read the same data, so they agree.

Faults: ``Fault(target, kind, times=1, **params)`` queued with ``Sandbox.add_fault`` (or
POSTed as JSON to ``/_sandbox/faults``). Each request on a matching target consumes one
use of the first matching fault; ``times=None`` fires forever. Targets: users, groups,
forms, reports, status, download, or ``*`` for every API route. Kinds and parameters:

- ``status``: answer ``status_code`` with optional ``body`` (str, bytes or JSON) and ``headers``.
- ``rate_limit``: 429 "Rate limited exceeded"; ``retry_after`` is the raw header, or None.
- ``slow``: wait ``delay`` seconds before the answer starts.
- ``trickle``: send the body in ``chunk``-byte pieces, ``delay`` seconds apart.
- ``malformed``: ``body`` is "invalid_json", "html", "empty" or "json" (then ``json=``
  is the value sent); ``status_code`` defaults to 200.
- ``drop``: headers with the full Content-Length, ``after_bytes`` of the body, then a TCP reset.
- ``short``: the same with a clean close; ``after_bytes`` defaults to half the body.
- ``ignore_range`` (download): 200 with the whole file even when Range was sent.
- ``bad_content_range`` (download): 206 with a Content-Range not matching the request
  (``content_range=`` to choose it).
- ``expired`` (download): 403, as an expired pre-signed URL.
- ``gzip`` (download): the file served gzip-encoded; sizes, ETag and ranges count the
  compressed bytes.
- ``export_status`` (status): answer ``status=`` (default "complete") and ``url=`` (left
  out: no "url" key; None: null).

Replacing kinds (status, rate_limit, malformed, expired, export_status) answer before
authentication and the rate window, like a gateway; the others shape the real answer.
"""

from __future__ import annotations

from ._app import create_app
from ._config import DEFAULT_TOKEN, STATUS_PATH, SandboxConfig
from ._faults import Fault
from ._sandbox import Sandbox
from ._server import SandboxServer, serve_forever
from ._stats import SandboxStats

__all__ = [
    "DEFAULT_TOKEN",
    "STATUS_PATH",
    "Fault",
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
    "SandboxStats",
    "create_app",
    "serve_forever",
]
