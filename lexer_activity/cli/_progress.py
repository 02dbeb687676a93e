"""Download progress on stderr: a rich bar on a terminal, one plain line per file otherwise.

A bar redrawn into a log file or a CI transcript is noise, so without a terminal nothing is
drawn while bytes arrive and each finished file gets one summary line instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["DownloadProgress", "summary_line"]


def summary_line(name: str, size: int, seconds: float) -> str:
    """``cases.csv: 12,345,678 bytes in 1.2 s (10.1 MB/s)``; a MB is 10**6 bytes."""
    rate = size / seconds / 1e6 if seconds > 0 else 0.0
    # A local download takes milliseconds; "0.0 s" would say nothing.
    shown = f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.3f}"
    return f"{name}: {size:,} bytes in {shown} s ({rate:.1f} MB/s)"


class DownloadProgress:
    """Progress of one or more concurrent downloads; use as a context manager.

    The download time of a file runs from its first progress callback, that is from its
    first bytes, not from the export's start: the wait for the server is not transfer time.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._first_bytes: dict[str, float] = {}
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )

    def __enter__(self) -> DownloadProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def track(self, name: str) -> Callable[[int, int | None], None]:
        """Add a line for ``name``; returns the SDK's ``progress=`` callback for it.

        Until the first byte the line reads "waiting for the export" with a pulsing bar: the
        job may spend longer being prepared on the server than being downloaded.
        """
        progress = self._progress
        task: TaskID | None = None
        if progress is not None:
            task = self._tasks[name] = progress.add_task(
                f"{name} (waiting for the export)", total=None
            )

        def update(done: int, total: int | None) -> None:
            self._first_bytes.setdefault(name, time.monotonic())
            if progress is not None and task is not None:
                progress.update(task, description=name, completed=done, total=total)

        return update

    def finished(self, name: str, size: int) -> float:
        """Record a finished file, and return its download time in seconds.

        Fills its bar on a terminal; prints the plain summary line otherwise.
        """
        now = time.monotonic()
        seconds = now - self._first_bytes.get(name, now)
        if self._progress is not None:
            # Without a Content-Length the bar never learnt its total and would pulse on.
            self._progress.update(self._tasks[name], completed=size, total=size)
        else:
            click.echo(summary_line(name, size, seconds), err=True)
        return seconds
