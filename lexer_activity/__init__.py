"""Async Python SDK for Lexer's Activity API.

```python
from lexer_activity import AsyncActivityClient

async with AsyncActivityClient() as client:      # token from LEXER_API_TOKEN
    summary = await client.summary("2018-04-01", "2018-04-30")
```
"""

from __future__ import annotations

import logging as _logging

from ._client import AsyncActivityClient
from ._dates import DateLike
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    DateRangeTooLongError,
    DownloadError,
    ExportError,
    ExportFailedError,
    ExportFormatError,
    ExportTimeoutError,
    FutureStartDateError,
    InvalidReportTypeError,
    LexerActivityError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from ._exports import ExportJob, ExportStream, ProgressCallback
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
    Point,
    StateVolume,
    Summary,
    TimeSeries,
    User,
)
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AgentSummary",
    "AgentVolume",
    "AsyncActivityClient",
    "AuthenticationError",
    "BadRequestError",
    "CaseClassification",
    "CaseSummary",
    "ClassificationVolume",
    "DateLike",
    "DateRangeTooLongError",
    "DownloadError",
    "ExportError",
    "ExportFailedError",
    "ExportFormatError",
    "ExportJob",
    "ExportStream",
    "ExportTimeoutError",
    "Form",
    "FutureStartDateError",
    "Group",
    "InvalidReportTypeError",
    "LexerActivityError",
    "NotFoundError",
    "NpsDay",
    "NpsSummary",
    "Point",
    "ProgressCallback",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "StateVolume",
    "Summary",
    "TimeSeries",
    "User",
    "__version__",
]


# A library configures no logging of its own; without a handler, Python's last-resort
# handler would print every retry warning to stderr.
_logging.getLogger("lexer_activity").addHandler(_logging.NullHandler())

# Tracebacks and reprs read lexer_activity.NotFoundError, not lexer_activity._errors.NotFoundError.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("lexer_activity._"):
        _obj.__module__ = __name__
del _name, _obj
