"""Exit codes: one per kind of failure, so that a script can tell them apart.

``TABLE`` below is the one list of codes; ``--help`` prints it as the group's epilog, and
``EXIT_CODES`` maps each exception class of the SDK to its code.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType

from lexer_activity import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    DownloadError,
    ExportError,
    ExportFailedError,
    ExportFormatError,
    ExportTimeoutError,
    LexerActivityError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
)

__all__ = [
    "EXIT_CODES",
    "EXIT_CODES_HELP",
    "TABLE",
    "CommandError",
    "MissingTokenError",
    "describe",
    "exit_code_for",
    "unwrap",
]

TABLE: tuple[tuple[int, str], ...] = (
    (0, "success"),
    (1, "any other failure: a busy port, or a bug (rerun with --debug for the traceback)"),
    (2, "usage error: unknown command, option or choice, missing option (click's)"),
    (3, "authentication: no token, or the API refused it (401)"),
    (4, "bad request (400): range too long, start in the future, unknown type"),
    (5, "not found (404, the API's answer to a malformed request)"),
    (6, "rate limited (429) after every allowed retry"),
    (7, "server error (5xx) or any other HTTP error status"),
    (8, "connection failed or timed out"),
    (9, "invalid answer: not JSON, not the documented shape, or a malformed CSV"),
    (10, "export job failed, or still pending when --timeout ran out"),
    (11, "download failed: the CSV could not be fetched whole and verified"),
    (12, "bad argument, refused by the SDK before sending (dates, timeouts, -o path)"),
    (130, "interrupted (Ctrl-C); `sandbox` exits 0 on Ctrl-C instead"),
)

UNEXPECTED = 1
BAD_ARGUMENT = 12
INTERRUPTED = 130


class CommandError(Exception):
    """A failure the command explains itself (a busy port); exit 1, reported as is."""


class MissingTokenError(Exception):
    """No token from --token or the environment; reported as an authentication failure."""


# Checked in order, so each subclass comes before the class it refines: ExportFormatError is
# also a ValueError, and must not be reported as a bad argument.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (MissingTokenError, 3),
    (AuthenticationError, 3),
    (BadRequestError, 4),
    (NotFoundError, 5),
    (RateLimitError, 6),
    (APIStatusError, 7),
    (APIConnectionError, 8),
    (ResponseValidationError, 9),
    (ExportFormatError, 9),
    (ExportFailedError, 10),
    (ExportTimeoutError, 10),
    (DownloadError, 11),
    (ExportError, 10),
)

# "\b" keeps click from re-wrapping the table into one paragraph.
EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in TABLE)


# Appended to the one-line message where the fix is usually the same.
_HINTS = {
    3: "check --token or LEXER_API_TOKEN",
    8: "check --base-url / --status-url and the network",
}


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple) and inner:
        for each in inner:
            yield from _leaves(each)
    else:
        yield exc


def unwrap(exc: BaseException) -> BaseException:
    """The first SDK error inside a (nested) exception group, else its first exception.

    anyio task groups raise groups; the user needs the failure, not the wrapper.
    """
    leaves = list(_leaves(exc))
    return next((leaf for leaf in leaves if isinstance(leaf, LexerActivityError)), leaves[0])


# What the SDK's checks raise before sending anything: bad values, and (download) a
# destination whose directory is missing, read-only, or that is a directory.
_ARGUMENT_ERRORS = (
    ValueError,
    TypeError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)


def _raised_by_sdk(tb: TracebackType | None) -> bool:
    # ValueError/TypeError count as "bad argument" only when the SDK's own validation raised
    # them; the same exception from a bug in the CLI is unexpected (code 1).
    name = ""
    while tb is not None:
        name = str(tb.tb_frame.f_globals.get("__name__", ""))
        tb = tb.tb_next
    return name.startswith("lexer_activity.") and not name.startswith("lexer_activity.cli")


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an exception that ended a command."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    if isinstance(exc, _ARGUMENT_ERRORS) and _raised_by_sdk(exc.__traceback__):
        return BAD_ARGUMENT
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    return UNEXPECTED


def describe(exc: BaseException, code: int) -> str:
    """One human line for stderr, without the ``error:`` prefix."""
    if code == INTERRUPTED:
        return "interrupted"
    # Server text reaches this line: no control character may act on the terminal.
    printable = "".join(ch if ch.isprintable() else " " for ch in str(exc))
    text = " ".join(printable.split()) or type(exc).__name__
    if code == UNEXPECTED and not isinstance(exc, CommandError):
        text = f"unexpected {type(exc).__name__}: {text} (rerun with --debug for the traceback)"
    hint = _HINTS.get(code)
    return f"{text} ({hint})" if hint else text
