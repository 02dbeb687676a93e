"""Admin routes for tests and benchmarks in another process: faults and stats.

No token, not rate limited, never faulted.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._faults import Fault
from ._sandbox import Sandbox


class Admin:
    """``/_sandbox/faults`` (GET, POST, DELETE) and ``/_sandbox/stats`` (GET, DELETE)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def faults(self, request: Request) -> Response:
        """POST a fault object or a list of them; GET lists the queue; DELETE empties it."""
        sandbox = self.sandbox
        sandbox.recorder.request("admin")
        if request.method == "DELETE":
            sandbox.clear_faults()
            return JSONResponse({"faults": []})
        if request.method == "POST":
            try:
                data = json.loads(await request.body())
                items = data if isinstance(data, list) else [data]
                faults = [Fault.from_json(item) for item in items]
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            for fault in faults:
                sandbox.add_fault(fault)
        return JSONResponse({"faults": [f.to_json() for f in sandbox.faults.pending()]})

    async def stats(self, request: Request) -> Response:
        """GET the counters as JSON; DELETE zeroes them (and the rate window)."""
        self.sandbox.recorder.request("admin")
        if request.method == "DELETE":
            self.sandbox.reset_stats()
        return JSONResponse(self.sandbox.stats.to_json())
