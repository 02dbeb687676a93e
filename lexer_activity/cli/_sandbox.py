"""``lexer-activity sandbox``: serve the fake API until Ctrl-C, and say how to use it."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Mapping

import click

from lexer_activity.sandbox import DEFAULT_TOKEN, STATUS_PATH, SandboxConfig, serve_forever

from ._exit import CommandError

__all__ = ["serve", "usage_lines"]


def usage_lines(base_url: str, tokens: tuple[str, ...]) -> list[str]:
    """What the command prints once the server accepts requests."""
    status_url = base_url + STATUS_PATH
    token = tokens[0]
    env = " ".join(
        f"{name}={shlex.quote(value)}"
        for name, value in (
            ("LEXER_BASE_URL", base_url),
            ("LEXER_STATUS_URL", status_url),
            ("LEXER_API_TOKEN", token),
        )
    )
    flags = shlex.join(
        ["--base-url", base_url, "--status-url", status_url, "--token", token]
    )
    return [
        f"sandbox: serving the fake Lexer Activity API on {base_url}",
        f"base url:   {base_url}",
        f"status url: {status_url}",
        *(f"token:      {each}" for each in tokens),
        "",
        "Point the CLI or the SDK at it with the environment:",
        f"  export {env}",
        "or with flags:",
        f"  lexer-activity {flags} users",
        "or in Python:",
        f"  AsyncActivityClient({token!r}, base_url={base_url!r}, status_url={status_url!r})",
        "",
        "Ctrl-C stops it.",
    ]


def serve(
    *, host: str, port: int, tokens: tuple[str, ...], overrides: Mapping[str, object]
) -> None:
    """Serve until Ctrl-C (or SIGTERM), then return normally: stopping it is not an error.

    ``overrides`` are SandboxConfig fields the user set; the rest keep the sandbox's defaults.
    """
    accepted = tokens or (DEFAULT_TOKEN,)
    config = SandboxConfig(tokens=accepted, **overrides)  # type: ignore[arg-type]

    def announce(base_url: str) -> None:
        click.echo("\n".join(usage_lines(base_url, accepted)))

    # uvicorn re-raises the SIGINT it handled once it has shut down cleanly.
    with contextlib.suppress(KeyboardInterrupt):
        try:
            serve_forever(config, host, port, on_ready=announce)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    click.echo("sandbox: stopped")
