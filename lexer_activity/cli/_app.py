"""The click commands. Each parses its options, makes SDK calls in one ``asyncio.run``, renders.

Errors: ``_Group.invoke`` turns any exception a command raises into one line on stderr and
the exit code ``_exit.py`` assigns to its kind; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import click

from lexer_activity import AsyncActivityClient, __version__
from lexer_activity._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_STATUS_URL,
    TOKEN_ENV_VAR,
)

from . import _calls
from ._exit import EXIT_CODES_HELP, MissingTokenError, describe, exit_code_for, unwrap
from ._progress import DownloadProgress
from ._render import Format, emit

__all__ = ["cli", "main"]

FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table for people; json (the typed result) or csv (the table's rows) for programs.",
)


def _date_options(func: Callable[..., Any]) -> Callable[..., Any]:
    # Dates go to the SDK as typed: it parses YYYY-MM-DD and ISO-8601 and checks the range.
    func = click.option(
        "--to", "date_to", required=True, metavar="DATE",
        help="Last day (inclusive), or an ISO-8601 datetime with offset.",
    )(func)
    return click.option(
        "--from", "date_from", required=True, metavar="DATE",
        help="YYYY-MM-DD (midnight UTC) or ISO-8601 with offset, e.g. 2018-04-01T00:00:00+11:00.",
    )(func)


_MIN_REDACTED = 8


@attrs.frozen
class Settings:
    """The group's options, handed to every command as ``ctx.obj``."""

    token: str | None = attrs.field(repr=False)
    base_url: str
    status_url: str
    debug: bool

    def client(self) -> AsyncActivityClient:
        """A client for these settings; call inside the event loop that will use it."""
        if not self.token:
            raise MissingTokenError("no API token given")
        return AsyncActivityClient(
            self.token, base_url=self.base_url, status_url=self.status_url
        )

    def redact(self, text: str) -> str:
        """``text`` with the token replaced: a last guard, since no SDK message carries it.

        Real tokens are UUID-like; a token under 8 characters would match ordinary words
        and garble the message (a test token of "x" would hide every x), so it is left.
        """
        if self.token and len(self.token) >= _MIN_REDACTED:
            return text.replace(self.token, "<hidden>")
        return text


_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']+")


class _RedactingFormatter(logging.Formatter):
    def __init__(self, settings: Settings) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._settings = settings

    def format(self, record: logging.LogRecord) -> str:
        # A pre-signed download URL carries its credential in the query string (httpx logs
        # every URL it requests at INFO); the API's own URLs carry nothing secret there.
        text = _QUERY.sub(r"\1?<query hidden>", super().format(record))
        return self._settings.redact(text)


def _setup_logging(ctx: click.Context, settings: Settings) -> None:
    """DEBUG logs to stderr with --debug; otherwise none at all, for the duration of the command.

    Without a handler Python prints WARNING records through its last-resort handler, and the
    SDK's retry warnings would break the one-line error. The handler is removed on exit so
    that commands run one after another in one process (tests) do not stack handlers.
    """
    root = logging.getLogger()
    if settings.debug:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_RedactingFormatter(settings))
        previous = root.level
        root.setLevel(logging.DEBUG)
        root.addHandler(handler)
        # httpcore traces every socket event at DEBUG; httpx's own INFO line per request says
        # all that a user needs.
        quiet = logging.getLogger("httpcore")
        quiet_previous = quiet.level
        quiet.setLevel(logging.INFO)

        def restore() -> None:
            root.removeHandler(handler)
            root.setLevel(previous)
            quiet.setLevel(quiet_previous)

        ctx.call_on_close(restore)
    else:
        sdk = logging.getLogger("lexer_activity")
        null = logging.NullHandler()
        sdk.addHandler(null)
        ctx.call_on_close(lambda: sdk.removeHandler(null))


class _Group(click.Group):
    """A group that maps any exception from a command to one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (Exception, KeyboardInterrupt) as raised:
            settings = ctx.obj if isinstance(ctx.obj, Settings) else None
            exc = unwrap(raised)
            code = exit_code_for(exc)
            redact = settings.redact if settings else (lambda text: text)
            if settings is not None and settings.debug:
                click.echo(redact("".join(traceback.format_exception(raised))), err=True, nl=False)
            click.echo(redact(f"error: {describe(exc, code)}"), err=True)
            raise click.exceptions.Exit(code) from None


@click.group(
    cls=_Group,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--token",
    envvar=TOKEN_ENV_VAR,
    metavar="TOKEN",
    help=f"Activity API token [default: ${TOKEN_ENV_VAR}]. Never printed.",
)
@click.option(
    "--base-url",
    envvar="LEXER_BASE_URL",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="API host [env: LEXER_BASE_URL].",
)
@click.option(
    "--status-url",
    envvar="LEXER_STATUS_URL",
    default=DEFAULT_STATUS_URL,
    show_default=True,
    help="Export status endpoint, on its own host [env: LEXER_STATUS_URL].",
)
@click.option("--debug", is_flag=True, help="Tracebacks, and DEBUG logging to stderr.")
@click.version_option(__version__, prog_name="lexer-activity")
@click.pass_context
def cli(ctx: click.Context, token: str | None, base_url: str, status_url: str, debug: bool) -> None:
    """Query and export Lexer Activity data, or try it all on a local sandbox.

    Start with `lexer-activity demo`: it needs no token and no network.
    """
    settings = Settings(token=token, base_url=base_url, status_url=status_url, debug=debug)
    ctx.obj = settings
    _setup_logging(ctx, settings)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None, "commands run under the group"
    return settings


# -- lists ------------------------------------------------------------------------------------


def _list_command(name: str, summary: str) -> None:
    @cli.command(name=name, help=summary)
    @FORMAT_OPTION
    @click.pass_context
    def command(ctx: click.Context, fmt: Format) -> None:
        settings = _settings(ctx)

        async def fetch() -> object:
            async with settings.client() as client:
                return await getattr(client, name)()

        emit(asyncio.run(fetch()), fmt, title=name)


_list_command("users", "Users with access to the account.")
_list_command("groups", "Groups (teams) in the account.")
_list_command("forms", "Forms and surveys; NPS reports need the id of one with nps true.")


# -- report -----------------------------------------------------------------------------------


@cli.command()
@click.argument("report_type", metavar="TYPE", type=click.Choice(_calls.REPORT_TYPES))
@_date_options
@click.option("--form", type=click.IntRange(min=0), help="NPS form id (nps_* reports only).")
@click.option("--nps-category", default="all", show_default=True, help="nps_* reports only.")
@FORMAT_OPTION
@click.pass_context
def report(
    ctx: click.Context,
    report_type: str,
    date_from: str,
    date_to: str,
    form: int | None,
    nps_category: str,
    fmt: Format,
) -> None:
    """Fetch one report of type TYPE.

    \b
    TYPE: summary, states_volume, workflow_states, classifications,
          response_volume, user_summary, user_volume, case_summary, case_volume,
          case_classifications, nps_summary, nps_volume (nps_* need --form).
    """
    settings = _settings(ctx)
    _check_form(report_type in _calls.NPS_REPORTS, form, report_type)

    async def fetch() -> object:
        async with settings.client() as client:
            return await _calls.fetch_report(
                client, report_type, date_from, date_to, form=form, nps_category=nps_category
            )

    result = asyncio.run(fetch())
    emit(result, fmt, title=report_type, series_name=_calls.SERIES_NAMES.get(report_type, "value"))


def _check_form(needs_form: bool, form: int | None, what: str) -> None:
    if needs_form and form is None:
        raise click.UsageError(f"{what} needs --form ID (an NPS form; see `lexer-activity forms`)")
    if not needs_form and form is not None:
        raise click.UsageError(f"--form applies only to NPS reports and exports, not {what}")


# -- export -----------------------------------------------------------------------------------


@cli.command()
@click.argument("kind", type=click.Choice(list(_calls.EXPORT_KINDS)))
@_date_options
@click.option("--form", type=click.IntRange(min=0), help="NPS form id (nps only).")
@click.option("--nps-category", default="all", show_default=True, help="nps only.")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write; replaced only once the download is whole.",
)
@click.option(
    "--timeout", type=float, default=DEFAULT_EXPORT_TIMEOUT, show_default=True,
    help="Seconds to wait for the job to complete.",
)
@click.option(
    "--poll-interval", type=float, default=DEFAULT_POLL_INTERVAL, show_default=True,
    help="Seconds before the first status poll (later polls back off).",
)
@click.pass_context
def export(
    ctx: click.Context,
    kind: str,
    date_from: str,
    date_to: str,
    form: int | None,
    nps_category: str,
    output: Path,
    timeout: float,
    poll_interval: float,
) -> None:
    """Export cases, nps submissions or responses to a CSV file.

    Progress goes to stderr: a bar on a terminal, one summary line otherwise.
    """
    settings = _settings(ctx)
    _check_form(kind == "nps", form, f"the {kind} export")

    async def download() -> None:
        async with settings.client() as client:
            with DownloadProgress() as progress:
                # export_to_file checks the destination and the wait arguments before it
                # starts the job: a typo in -o must not cost an export.
                path = await client.export_to_file(
                    _calls.EXPORT_KINDS[kind],
                    output,
                    date_from,
                    date_to,
                    form=form,
                    nps_category=nps_category,
                    wait_timeout=timeout,
                    poll_interval=poll_interval,
                    progress=progress.track(output.name),
                )
                progress.finished(output.name, path.stat().st_size)

    asyncio.run(download())


# -- sandbox and demo -------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8787, show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--token", "tokens", multiple=True, metavar="TOKEN",
    help="Token the sandbox accepts; repeatable [default: sandbox-token].",
)
@click.option(
    "--export-delay", type=click.FloatRange(min=0), default=None,
    help="Seconds an export job stays pending [default: the sandbox's].",
)
@click.option(
    "--rate-limit", type=click.IntRange(min=1), default=None,
    help="Requests per window per token [default: 100, as the API].",
)
@click.option(
    "--rate-window", type=click.FloatRange(min=0, min_open=True), default=None,
    help="Window length in seconds [default: 300, as the API].",
)
@click.option("--seed", type=int, default=None, help="Seed of the synthetic data.")
def sandbox(
    host: str,
    port: int,
    tokens: tuple[str, ...],
    export_delay: float | None,
    rate_limit: int | None,
    rate_window: float | None,
    seed: int | None,
) -> None:
    """Serve the local fake Activity API until Ctrl-C."""
    from ._sandbox import serve

    overrides = {
        "export_delay": export_delay,
        "rate_limit": rate_limit,
        "rate_window": rate_window,
        "seed": seed,
    }
    serve(
        host=host,
        port=port,
        tokens=tokens,
        overrides={name: value for name, value in overrides.items() if value is not None},
    )


@cli.command()
@click.option(
    "--out-dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path("lexer-exports"), show_default=True, help="Where the three CSV exports go.",
)
@click.option(
    "--days", type=click.IntRange(min=1, max=365), default=30, show_default=True,
    help="Range: this many full days, ending yesterday (UTC).",
)
def demo(out_dir: Path, days: int) -> None:
    """Every report and export on an embedded sandbox, summarised.

    No token and no network needed: the sandbox runs in this process on a free loopback port.
    """
    from ._demo import run_demo

    run_demo(out_dir=out_dir, days=days)


def main() -> None:
    """Entry point of the ``lexer-activity`` script."""
    cli(prog_name="lexer-activity")
