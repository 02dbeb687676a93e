"""Export jobs: start, poll until complete, then stream or download the CSV.

SKELETON: the interface the client relies on. The bodies are being written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from os import PathLike
from pathlib import Path
from typing import Any

from ._constants import DEFAULT_EXPORT_TIMEOUT, DEFAULT_POLL_INTERVAL
from ._requester import Requester

__all__ = ["EXPORT_TYPES", "ExportJob", "ProgressCallback"]

EXPORT_TYPES = frozenset({"case_details", "nps_submissions", "mention_sla_export"})

ProgressCallback = Callable[[int, "int | None"], object]


class ExportJob:
    """One export job on the server, known by its token."""

    def __init__(
        self,
        requester: Requester,
        *,
        token: str,
        report_type: str,
        status_url: str,
        status: str = "pending",
        url: str | None = None,
    ) -> None:
        self._requester = requester
        self.token = token
        self.report_type = report_type
        self.status_url = status_url
        self.status = status
        self.url = url

    @classmethod
    def from_answer(
        cls,
        requester: Requester,
        data: Any,
        *,
        body: bytes,
        report_type: str,
        status_url: str,
    ) -> ExportJob:
        raise NotImplementedError

    async def wait(
        self,
        timeout: float = DEFAULT_EXPORT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> ExportJob:
        raise NotImplementedError

    async def download(
        self, path: str | PathLike[str], *, progress: ProgressCallback | None = None
    ) -> Path:
        raise NotImplementedError

    def iter_bytes(self) -> AsyncIterator[bytes]:
        raise NotImplementedError

    def iter_rows(self) -> AsyncIterator[dict[str, str]]:
        raise NotImplementedError
