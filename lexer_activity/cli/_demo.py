"""``lexer-activity demo``: every list, report and export against an embedded sandbox.

The sandbox runs in this process on a free loopback port, so the demo needs no token, no
network and nothing beyond ``pip install 'lexer-activity[cli]'``. The steps are what a real
script would do: the three lists (to find an NPS form), every report at once through the
client's shared rate window, then the three exports streamed to files.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import anyio
import attrs
import click
from rich.console import Console
from rich.table import Table

from lexer_activity import AsyncActivityClient, Form
from lexer_activity._csv_rows import iter_csv_rows
from lexer_activity.sandbox import DEFAULT_TOKEN, SandboxConfig, SandboxServer

from ._calls import EXPORT_KINDS, NPS_REPORTS, REPORT_TYPES, fetch_report
from ._progress import DownloadProgress
from ._render import print_rows, tabulate

__all__ = ["run_demo"]

T = TypeVar("T")

# The sandbox keeps a job pending this long: long enough to show the poll, short enough for
# a demo. The first poll comes after DEMO_POLL_INTERVAL, then the SDK's schedule grows it.
DEMO_EXPORT_DELAY = 1.0
DEMO_POLL_INTERVAL = 0.25
DEMO_EXPORT_TIMEOUT = 60.0
READ_CHUNK = 1 << 20


@attrs.frozen
class Step:
    """One line of the summary."""

    kind: str
    name: str
    rows: int
    seconds: float
    size: int | None = None


async def _timed(awaitable: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    result = await awaitable
    return result, time.monotonic() - started


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(READ_CHUNK):
            yield chunk


async def count_rows(path: Path) -> int:
    """Records in a CSV file, header excluded, parsed as the SDK parses exports.

    The SDK's parser rather than ``csv.reader``: one customer message can be longer than the
    csv module's default field limit, and a malformed file should fail here, not miscount.
    """
    rows = 0
    async for _ in iter_csv_rows(_file_chunks(path)):
        rows += 1
    return rows


def _nps_form(forms: list[Form]) -> int:
    # Prefer a live survey; an archived NPS form still answers for its past.
    candidates = [form for form in forms if form.nps and form.id is not None]
    candidates.sort(key=lambda form: bool(form.archived))
    if not candidates:
        raise RuntimeError("the sandbox offers no NPS form")
    form_id = candidates[0].id
    assert form_id is not None
    return form_id


async def _export(
    client: AsyncActivityClient,
    kind: str,
    dates: tuple[date, date],
    form: int,
    out_dir: Path,
    progress: DownloadProgress,
) -> Step:
    name = f"{kind}.csv"
    started = time.monotonic()
    path = await client.export_to_file(
        EXPORT_KINDS[kind],
        out_dir / name,
        *dates,
        form=form if kind == "nps" else None,
        wait_timeout=DEMO_EXPORT_TIMEOUT,
        poll_interval=DEMO_POLL_INTERVAL,
        progress=progress.track(name),
    )
    size = path.stat().st_size
    progress.finished(name, size)
    # Counted while the other exports may still be downloading: reads go to a worker thread.
    rows = await count_rows(path)
    return Step("export", str(path), rows, time.monotonic() - started, size)


async def _run(out_dir: Path, dates: tuple[date, date], err: Console) -> tuple[list[Step], str]:
    config = SandboxConfig(tokens=(DEFAULT_TOKEN,), export_delay=DEMO_EXPORT_DELAY)
    async with SandboxServer(config, host="127.0.0.1", port=0) as server:
        err.print(f"demo: sandbox at {server.base_url}, {dates[0]} to {dates[1]}")
        async with AsyncActivityClient(
            DEFAULT_TOKEN, base_url=server.base_url, status_url=server.status_url
        ) as client:
            names = ("users", "groups", "forms")
            lists = await asyncio.gather(*(_timed(getattr(client, name)()) for name in names))
            steps = [
                Step("list", name, len(result), seconds)
                for name, (result, seconds) in zip(names, lists, strict=True)
            ]
            form = _nps_form(lists[2][0])

            reports = await asyncio.gather(
                *(
                    _timed(
                        fetch_report(
                            client, report_type, *dates,
                            form=form if report_type in NPS_REPORTS else None,
                        )
                    )
                    for report_type in REPORT_TYPES
                )
            )
            steps += [
                Step("report", report_type, tabulate(result).count, seconds)
                for report_type, (result, seconds) in zip(REPORT_TYPES, reports, strict=True)
            ]

            with DownloadProgress(err) as progress:
                steps += await asyncio.gather(
                    *(
                        _export(client, kind, dates, form, out_dir, progress)
                        for kind in EXPORT_KINDS
                    )
                )
        return steps, server.base_url


def _summary(steps: list[Step]) -> Table:
    table = Table()
    table.add_column("kind")
    table.add_column("name")
    for column in ("rows", "bytes", "seconds"):
        table.add_column(column, justify="right")
    for step in steps:
        size = "" if step.size is None else f"{step.size:,}"
        table.add_row(step.kind, step.name, f"{step.rows:,}", size, f"{step.seconds:.2f}")
    return table


def run_demo(out_dir: Path, days: int) -> None:
    """Run the demo over the last ``days`` full days (UTC) and print its summary."""
    started = time.monotonic()
    today = datetime.now(timezone.utc).date()
    dates = (today - timedelta(days=days), today - timedelta(days=1))
    out_dir.mkdir(parents=True, exist_ok=True)
    err = Console(stderr=True)
    steps, base_url = asyncio.run(_run(out_dir, dates, err))
    click.echo(f"lexer-activity demo: {dates[0]} to {dates[1]}, sandbox at {base_url}")
    print_rows(_summary(steps))
    click.echo(f"total wall time: {time.monotonic() - started:.2f} s")
