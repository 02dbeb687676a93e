"""SandboxConfig: every knob of the fake API, in one frozen object."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

DEFAULT_TOKEN = "sandbox-token"

# The vendor's documented limit: 100 requests per 5 minutes per API token.
DEFAULT_RATE_LIMIT = 100
DEFAULT_RATE_WINDOW = 300.0

# Lifetime of a pre-signed download URL, as S3's X-Amz-Expires (seconds).
URL_EXPIRES = 3600

# Download bodies are read from disk and sent in pieces of this size.
CHUNK_SIZE = 64 * 1024

STATUS_PATH = "/api/public/v1/activity/reports/status"
# An older version of the vendor's page put the status route on the API host (api-notes).
LEGACY_STATUS_PATH = "/v1/activity/reports/status"


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of one sandbox; use ``dataclasses.replace`` to derive variants."""

    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_window: float = DEFAULT_RATE_WINDOW
    send_retry_after: bool = True
    export_delay: float = 2.0
    latency: float = 0.0
    seed: int = 1234
    download_base_url: str | None = None
    volume_scale: float = 1.0
    now: Callable[[], datetime] | None = None
    work_dir: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        # A bare string would be accepted as a tuple of one-character tokens.
        if isinstance(self.tokens, str):
            raise TypeError("tokens must be a tuple of strings, not a string")
        object.__setattr__(self, "tokens", tuple(self.tokens))
        if self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be positive")
        for name in ("export_delay", "latency", "volume_scale"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    def current_time(self) -> datetime:
        """The sandbox's notion of now: ``now()`` if given, else the real clock (UTC)."""
        if self.now is None:
            return datetime.now(timezone.utc)
        value = self.now()
        if value.tzinfo is None:
            raise ValueError("SandboxConfig.now must return an aware datetime")
        return value
