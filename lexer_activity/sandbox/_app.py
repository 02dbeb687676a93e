"""create_app: the Starlette application, its routes and its not-found answer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _api
from ._admin import Admin
from ._answers import error_answer
from ._config import LEGACY_STATUS_PATH, STATUS_PATH, SandboxConfig
from ._download import download_endpoint
from ._errors import NOT_FOUND
from ._files import DOWNLOAD_PREFIX
from ._sandbox import Sandbox


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """A Starlette app faking the Activity API; ``app.state.sandbox`` is its Sandbox.

    The app's lifespan closes the sandbox on shutdown. In-process tests that never run the
    lifespan (httpx.ASGITransport) should call ``app.state.sandbox.close()`` themselves.
    """
    sandbox = Sandbox(config or SandboxConfig())
    admin = Admin(sandbox)
    status = _api.api_endpoint(sandbox, "status", _api.export_status)
    routes = [
        Route("/v1/users", _api.api_endpoint(sandbox, "users", _api.users), methods=["GET"]),
        Route("/v1/groups", _api.api_endpoint(sandbox, "groups", _api.groups), methods=["GET"]),
        Route("/v1/forms", _api.api_endpoint(sandbox, "forms", _api.forms), methods=["GET"]),
        Route(
            "/v1/activity/reports",
            _api.api_endpoint(sandbox, "reports", _api.reports),
            methods=["POST"],
        ),
        Route(STATUS_PATH, status, methods=["GET"]),
        Route(LEGACY_STATUS_PATH, status, methods=["GET"]),
        Route(DOWNLOAD_PREFIX + "{name}", download_endpoint(sandbox), methods=["GET", "HEAD"]),
        Route("/_sandbox/faults", admin.faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/stats", admin.stats, methods=["GET", "DELETE"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        # Unknown paths and wrong methods both get the documented general error.
        sandbox.recorder.request("unknown")
        status, headers, body = error_answer(404, NOT_FOUND)
        return Response(body, status, headers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        sandbox.close()

    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
