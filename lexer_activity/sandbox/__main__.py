"""``python -m lexer_activity.sandbox``: serve the sandbox until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._config import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW,
    DEFAULT_TOKEN,
    STATUS_PATH,
    SandboxConfig,
)
from ._server import serve_forever


def build_parser() -> argparse.ArgumentParser:
    """The command line's options, one per SandboxConfig knob a benchmark needs."""
    parser = argparse.ArgumentParser(
        prog="python -m lexer_activity.sandbox",
        description="Serve a local fake of Lexer's Activity API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--token", action="append", dest="tokens", metavar="TOKEN",
        help=f"an accepted API token (repeatable; default {DEFAULT_TOKEN})",
    )
    parser.add_argument("--export-delay", type=float, default=2.0, metavar="SECONDS")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT, metavar="N")
    parser.add_argument("--rate-window", type=float, default=DEFAULT_RATE_WINDOW, metavar="SECONDS")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--volume-scale", type=float, default=1.0)
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The SandboxConfig the parsed options describe."""
    return SandboxConfig(
        tokens=tuple(args.tokens or (DEFAULT_TOKEN,)),
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        export_delay=args.export_delay,
        latency=args.latency,
        seed=args.seed,
        volume_scale=args.volume_scale,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox; print ``base_url:``, ``status_url:`` and ``token:`` lines when ready."""
    args = build_parser().parse_args(argv)
    config = config_from_args(args)

    def announce(base_url: str) -> None:
        # One "name: value" per line, flushed at once: benchmarks read these from a pipe.
        lines = [f"base_url: {base_url}", f"status_url: {base_url}{STATUS_PATH}"]
        lines += [f"token: {token}" for token in config.tokens]
        print("\n".join(lines), flush=True)

    # uvicorn re-raises the signal it handled once it has shut down. Both are a clean exit:
    # SIGINT arrives as KeyboardInterrupt, SIGTERM through this handler.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(config, args.host, args.port, on_ready=announce)
    return 0


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
