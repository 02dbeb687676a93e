"""The SDK calls behind the commands: the report types, the export kinds, how each is called."""

from __future__ import annotations

from lexer_activity import AsyncActivityClient, DateLike

__all__ = [
    "EXPORT_KINDS",
    "NPS_REPORTS",
    "REPORT_TYPES",
    "SERIES_NAMES",
    "fetch_report",
]

# Each is the name of the client's typed method, which is also the report type it sends
# (workflow_states aside: the client decides what that one sends, see its docstring).
REPORT_TYPES = (
    "summary",
    "states_volume",
    "workflow_states",
    "classifications",
    "response_volume",
    "user_summary",
    "user_volume",
    "case_summary",
    "case_volume",
    "case_classifications",
    "nps_summary",
    "nps_volume",
)
NPS_REPORTS = frozenset({"nps_summary", "nps_volume"})

# A lone series' values are headed by the key the API sends them under.
SERIES_NAMES = {"response_volume": "avg_response_time", "case_volume": "open"}

# CLI name -> the export's report type.
EXPORT_KINDS = {
    "cases": "case_details",
    "nps": "nps_submissions",
    "responses": "mention_sla_export",
}


async def fetch_report(
    client: AsyncActivityClient,
    report_type: str,
    date_from: DateLike,
    date_to: DateLike,
    *,
    form: int | None = None,
    nps_category: str = "all",
) -> object:
    """Call the typed method for ``report_type``; NPS reports take ``form`` first."""
    method = getattr(client, report_type)
    if report_type in NPS_REPORTS:
        return await method(form, date_from, date_to, nps_category)
    return await method(date_from, date_to)
