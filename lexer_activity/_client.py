"""``AsyncActivityClient``: configuration, and one method per documented endpoint."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timezone, tzinfo
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from ._constants import (
    BASE_URL_ENV_VAR,
    DEFAULT_BASE_URL,
    DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_RATE_LIMIT,
    DEFAULT_STATUS_URL,
    DEFAULT_TIMEOUT,
    STATUS_URL_ENV_VAR,
    TOKEN_ENV_VAR,
)
from ._convert import structure
from ._dates import DateLike, DateRange, resolve_range
from ._download import check_download_args, url_problem
from ._exports import EXPORT_TYPES, ExportJob, ProgressCallback
from ._models import (
    AgentSummary,
    AgentVolume,
    CaseClassification,
    CaseSummary,
    ClassificationVolume,
    Form,
    Group,
    NpsDay,
    NpsSummary,
    StateVolume,
    Summary,
    TimeSeries,
    User,
)
from ._ratelimit import shared_window
from ._reports import as_list, parse_series_map, parse_single_series, parse_workflow_states
from ._requester import Requester, TimeoutArg
from ._validate import (
    check_extra_body,
    check_form,
    check_positive,
    check_text,
    check_timeout,
    check_token,
)

__all__ = ["AsyncActivityClient"]

log = logging.getLogger("lexer_activity")

T = TypeVar("T")


def _check_url(value: object, name: str) -> str:
    text = check_text(value, name)
    problem = url_problem(text, name)
    if problem is not None:
        raise ValueError(f"{problem} (expected a URL such as {DEFAULT_BASE_URL!r})")
    return text.rstrip("/")


def _check_timezone(value: object) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {value!r} is not a known IANA zone name") from None
    raise TypeError(f"timezone must be a tzinfo or an IANA name, not {type(value).__name__}")


def _check_rate_limit(value: object) -> tuple[int, float]:
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError(f"rate_limit must be a (requests, seconds) tuple, not {value!r}")
    requests, seconds = value
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
        raise ValueError(f"rate_limit requests must be a positive int, not {requests!r}")
    return requests, check_positive(seconds, "rate_limit seconds")


def _check_retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_retries must be an int >= 0, not {value!r}")
    return value


class AsyncActivityClient:
    """An async client for Lexer's Activity API.

    ``token`` defaults to the ``LEXER_API_TOKEN`` environment variable, ``base_url`` to
    ``LEXER_BASE_URL`` and ``status_url`` to ``LEXER_STATUS_URL`` when they are set (else
    the real API's hosts). Every client in the process that uses the same token on the same
    ``base_url`` shares one rate window (the strictest ``rate_limit`` asked for wins), so any
    fan-out stays within the documented 100 requests per 5 minutes.

    Use it as an async context manager, or call ``aclose()``. An injected ``http_client`` is
    never closed by this client.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        status_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limit: tuple[int, float] = DEFAULT_RATE_LIMIT,
        max_retry_after: float | None = None,
        http_client: httpx.AsyncClient | None = None,
        timezone: tzinfo | str = timezone.utc,
    ) -> None:
        if token is None:
            token = os.environ.get(TOKEN_ENV_VAR) or None
            if token is None:
                raise ValueError(
                    "no API token: pass token=... or set the LEXER_API_TOKEN environment "
                    "variable (create an Activity API token in Lexer's settings)"
                )
        token = check_token(token)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(
                f"http_client must be an httpx.AsyncClient, not {type(http_client).__name__}"
            )
        # The environment can point an unchanged app at another host, such as the sandbox.
        if base_url is None:
            base_url = os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL
        if status_url is None:
            status_url = os.environ.get(STATUS_URL_ENV_VAR) or DEFAULT_STATUS_URL
        self.base_url = _check_url(base_url, "base_url")
        self.status_url = _check_url(status_url, "status_url")
        self.timezone = _check_timezone(timezone)
        limit, period = _check_rate_limit(rate_limit)
        client_timeout = check_timeout(timeout) or DEFAULT_TIMEOUT
        # A legitimate Retry-After never asks for more than one full window.
        retry_cap = period if max_retry_after is None else check_positive(
            max_retry_after, "max_retry_after", allow_zero=True
        )
        self._owns_http = http_client is None
        http = http_client or httpx.AsyncClient(timeout=client_timeout)
        self._requester = Requester(
            http=http,
            token=token,
            window=shared_window(token, self.base_url, limit, period),
            max_retries=_check_retries(max_retries),
            max_retry_after=retry_cap,
            timeout=client_timeout,
        )
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"AsyncActivityClient(base_url={self.base_url!r}, status_url={self.status_url!r}, "
            "token=<hidden>)"
        )

    async def __aenter__(self) -> AsyncActivityClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client this client created; an injected one is left open."""
        if not self._closed:
            self._closed = True
            if self._owns_http:
                await self._requester.http.aclose()

    # -- lists -------------------------------------------------------------------------------

    async def _get_list(self, name: str, cls: type[T], timeout: TimeoutArg) -> list[T]:
        data, body = await self._requester.request_json(
            "GET", f"{self.base_url}/v1/{name}", endpoint=name, timeout=check_timeout(timeout)
        )
        return structure(as_list(data), list[cls], endpoint=name, body=body)  # type: ignore[valid-type]

    async def users(self, *, timeout: TimeoutArg = None) -> list[User]:
        """Users with access to the account (``GET /v1/users``)."""
        return await self._get_list("users", User, timeout)

    async def groups(self, *, timeout: TimeoutArg = None) -> list[Group]:
        """Groups (teams) in the account (``GET /v1/groups``)."""
        return await self._get_list("groups", Group, timeout)

    async def forms(self, *, timeout: TimeoutArg = None) -> list[Form]:
        """Forms and surveys; NPS reports take the id of one with ``nps`` true."""
        return await self._get_list("forms", Form, timeout)

    # -- reports -----------------------------------------------------------------------------

    def _range(self, date_from: DateLike, date_to: DateLike) -> DateRange:
        return resolve_range(date_from, date_to, tz=self.timezone)

    async def _post_report(
        self,
        report_type: str,
        dates: DateRange,
        *,
        fields: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None,
        timeout: TimeoutArg,
        idempotent: bool = True,
    ) -> tuple[Any, bytes]:
        body: dict[str, Any] = {"type": report_type, **dates.body(), **(fields or {})}
        body.update(check_extra_body(extra_body))
        return await self._requester.request_json(
            "POST",
            f"{self.base_url}/v1/activity/reports",
            endpoint=report_type,
            body=body,
            timeout=check_timeout(timeout),
            idempotent=idempotent,
        )

    async def _typed_report(
        self,
        report_type: str,
        cls: Any,
        date_from: DateLike,
        date_to: DateLike,
        extra_body: Mapping[str, Any] | None,
        timeout: TimeoutArg,
        fields: Mapping[str, Any] | None = None,
    ) -> Any:
        dates = self._range(date_from, date_to)
        data, body = await self._post_report(
            report_type, dates, fields=fields, extra_body=extra_body, timeout=timeout
        )
        return structure(data, cls, endpoint=report_type, body=body)

    async def report(
        self,
        report_type: str,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> Any:
        """Any report type, with its decoded JSON returned as sent (no typing, no checks)."""
        report_type = check_text(report_type, "report_type")
        dates = self._range(date_from, date_to)
        data, _ = await self._post_report(
            report_type, dates, extra_body=extra_body, timeout=timeout
        )
        return data

    async def summary(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> Summary:
        """Headline metrics: volume handled, responses, response times, SLA breaches."""
        result: Summary = await self._typed_report(
            "summary", Summary, date_from, date_to, extra_body, timeout
        )
        return result

    async def states_volume(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> dict[str, TimeSeries]:
        """Messages per workflow state per interval: hourly when the range is under 4 days."""
        dates = self._range(date_from, date_to)
        data, body = await self._post_report(
            "states_volume", dates, extra_body=extra_body, timeout=timeout
        )
        return parse_series_map(data, report_type="states_volume", dates=dates, body=body)

    async def workflow_states(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        report_type: str = "user_volume",
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> list[StateVolume]:
        """Total messages per workflow state.

        The vendor's page requests this with type ``user_volume``, the same type as Team
        Volume (api-notes), so that is the default; ``report_type`` overrides it. If the answer
        is per-agent rows rather than ``{state, volume}``, the counts are summed per state
        across agents (``all_states`` and ``all_closed_states`` included, as the API names
        them).
        """
        report_type = check_text(report_type, "report_type")
        dates = self._range(date_from, date_to)
        data, body = await self._post_report(
            report_type, dates, extra_body=extra_body, timeout=timeout
        )
        return parse_workflow_states(data, report_type=report_type, body=body)

    async def classifications(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> list[ClassificationVolume]:
        """Messages per classification and state; ``state == "all_states"`` rows are totals."""
        result: list[ClassificationVolume] = await self._typed_report(
            "classifications", list[ClassificationVolume], date_from, date_to, extra_body, timeout
        )
        return result

    async def response_volume(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> TimeSeries:
        """Average response time per interval: hourly when the range is 3 days or less.

        The vendor calls the value "average response time in minutes" but its example values
        have the magnitude of seconds (api-notes). The value is returned exactly as sent.
        """
        dates = self._range(date_from, date_to)
        data, body = await self._post_report(
            "response_volume", dates, extra_body=extra_body, timeout=timeout
        )
        return parse_single_series(
            data, "avg_response_time", report_type="response_volume", dates=dates, body=body
        )

    async def user_summary(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> list[AgentSummary]:
        """Performance per agent (the API sends ``user_id`` as a string here; it becomes int)."""
        result: list[AgentSummary] = await self._typed_report(
            "user_summary", list[AgentSummary], date_from, date_to, extra_body, timeout
        )
        return result

    async def user_volume(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> list[AgentVolume]:
        """Messages assigned to each agent, by current workflow state."""
        result: list[AgentVolume] = await self._typed_report(
            "user_volume", list[AgentVolume], date_from, date_to, extra_body, timeout
        )
        return result

    async def case_summary(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> CaseSummary:
        """Case metrics: count, first reply and resolution times, interactions."""
        result: CaseSummary = await self._typed_report(
            "case_summary", CaseSummary, date_from, date_to, extra_body, timeout
        )
        return result

    async def case_volume(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> TimeSeries:
        """Open cases per day."""
        dates = self._range(date_from, date_to)
        data, body = await self._post_report(
            "case_volume", dates, extra_body=extra_body, timeout=timeout
        )
        return parse_single_series(
            data, "open", report_type="case_volume", dates=dates, body=body
        )

    async def case_classifications(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> list[CaseClassification]:
        """Cases per classification, each case counted once."""
        result: list[CaseClassification] = await self._typed_report(
            "case_classifications", list[CaseClassification], date_from, date_to,
            extra_body, timeout,
        )
        return result

    @staticmethod
    def _nps_fields(form: object, nps_category: object) -> dict[str, Any]:
        # Only "all" is documented; any other category is sent as given (api-notes).
        return {"form": check_form(form), "nps_category": check_text(nps_category, "nps_category")}

    async def nps_summary(
        self,
        form: int,
        date_from: DateLike,
        date_to: DateLike,
        nps_category: str = "all",
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> NpsSummary:
        """NPS totals and score for one survey form."""
        fields = self._nps_fields(form, nps_category)
        result: NpsSummary = await self._typed_report(
            "nps_summary", NpsSummary, date_from, date_to, extra_body, timeout, fields
        )
        return result

    async def nps_volume(
        self,
        form: int,
        date_from: DateLike,
        date_to: DateLike,
        nps_category: str = "all",
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> list[NpsDay]:
        """NPS totals per day for one survey form."""
        fields = self._nps_fields(form, nps_category)
        result: list[NpsDay] = await self._typed_report(
            "nps_volume", list[NpsDay], date_from, date_to, extra_body, timeout, fields
        )
        return result

    # -- exports -----------------------------------------------------------------------------

    async def start_export(
        self,
        report_type: str,
        date_from: DateLike,
        date_to: DateLike,
        *,
        form: int | None = None,
        nps_category: str = "all",
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> ExportJob:
        """Start an export job with exactly one POST, and return it (``status`` pending).

        ``report_type`` is ``case_details``, ``nps_submissions`` (which needs ``form``) or
        ``mention_sla_export``. The POST is retried only when the server cannot have acted on
        it (429, 408, connect failure), so a flaky network never starts two jobs.
        """
        report_type = check_text(report_type, "report_type")
        if report_type not in EXPORT_TYPES:
            raise ValueError(
                f"report_type {report_type!r} is not an export; use one of "
                f"{', '.join(sorted(EXPORT_TYPES))}"
            )
        fields: dict[str, Any] = {}
        if report_type == "nps_submissions":
            if form is None:
                raise ValueError("form is required for nps_submissions (see client.forms())")
            fields = self._nps_fields(form, nps_category)
        elif form is not None:
            raise ValueError(f"form applies only to nps_submissions, not {report_type}")
        dates = self._range(date_from, date_to)
        data, body = await self._post_report(
            report_type,
            dates,
            fields=fields,
            extra_body=extra_body,
            timeout=timeout,
            idempotent=False,
        )
        return ExportJob.from_answer(
            self._requester, data, body=body, report_type=report_type, status_url=self.status_url
        )

    async def export_cases(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> ExportJob:
        """Start the Case CSV export (``case_details``)."""
        return await self.start_export(
            "case_details", date_from, date_to, extra_body=extra_body, timeout=timeout
        )

    async def export_nps_submissions(
        self,
        form: int,
        date_from: DateLike,
        date_to: DateLike,
        nps_category: str = "all",
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> ExportJob:
        """Start the NPS CSV export (``nps_submissions``) for one survey form."""
        return await self.start_export(
            "nps_submissions",
            date_from,
            date_to,
            form=form,
            nps_category=nps_category,
            extra_body=extra_body,
            timeout=timeout,
        )

    async def export_responses(
        self,
        date_from: DateLike,
        date_to: DateLike,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutArg = None,
    ) -> ExportJob:
        """Start the Responses (SLA) CSV export (``mention_sla_export``)."""
        return await self.start_export(
            "mention_sla_export", date_from, date_to, extra_body=extra_body, timeout=timeout
        )

    def export_job(self, token: str, report_type: str = "case_details") -> ExportJob:
        """An export job from its saved token, to poll or download from a new process."""
        return ExportJob(
            self._requester,
            token=check_text(token, "token"),
            report_type=check_text(report_type, "report_type"),
            status_url=self.status_url,
        )

    async def export_to_file(
        self,
        report_type: str,
        path: str | PathLike[str],
        date_from: DateLike,
        date_to: DateLike,
        *,
        form: int | None = None,
        nps_category: str = "all",
        extra_body: Mapping[str, Any] | None = None,
        wait_timeout: float = DEFAULT_EXPORT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        progress: ProgressCallback | None = None,
        fsync: bool = False,
    ) -> Path:
        """Start an export, wait for it, and download it atomically to ``path``.

        ``path``, ``progress`` and the wait arguments are checked before the export is
        started, so a bad argument costs no job. See ``ExportJob.wait`` and
        ``ExportJob.download``.
        """
        check_download_args(path, progress, fsync)
        check_positive(wait_timeout, "wait_timeout")
        check_positive(poll_interval, "poll_interval")
        job = await self.start_export(
            report_type,
            date_from,
            date_to,
            form=form,
            nps_category=nps_category,
            extra_body=extra_body,
        )
        try:
            await job.wait(timeout=wait_timeout, poll_interval=poll_interval)
            return await job.download(path, progress=progress, fsync=fsync)
        except Exception:
            # The job exists on the server; its token is the only way back to it.
            log.warning(
                "export job %s (%s) was started but not downloaded; resume it with "
                "client.export_job(%r, report_type=%r)",
                job.token, job.report_type, job.token, job.report_type,
            )
            raise

