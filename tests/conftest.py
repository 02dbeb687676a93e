"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lexer_activity._ratelimit import _reset_shared_windows

API = "https://api.lexer.test"
STATUS_URL = "https://clients.lexer.test/api/public/v1/activity/reports/status"
TOKEN = "tok-3f9a1c5e-secret"


@pytest.fixture(autouse=True)
def _no_lexer_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client reads these; a developer's own settings must not steer the tests.
    for name in ("LEXER_API_TOKEN", "LEXER_BASE_URL", "LEXER_STATUS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _fresh_rate_windows() -> Iterator[None]:
    # Windows are process-wide by design; a test must not inherit another test's budget.
    _reset_shared_windows()
    yield
    _reset_shared_windows()
