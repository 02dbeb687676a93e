"""The sandbox in its own process, serving files published on the command line.

``python -m lexer_activity.sandbox`` cannot publish a file (``publish_file`` is a method of
the in-process ``Sandbox``, and no admin route or option publishes one), so this script does
what that command does, plus the publishing: it runs ``SandboxServer`` (uvicorn on a
loopback port) in this separate process, publishes each ``--publish PATH``, prints one
``url: <pre-signed URL>`` line per file after the ``base_url:``/``status_url:`` lines, and
serves until its standard input closes. The benchmark process keeps only the client side,
so the server never competes with the code being measured for the GIL.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lexer_activity.sandbox import SandboxConfig, SandboxServer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", dest="tokens", default=[])
    parser.add_argument("--publish", action="append", default=[], metavar="PATH")
    parser.add_argument("--rate-limit", type=int, default=1_000_000)
    parser.add_argument("--rate-window", type=float, default=300.0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = SandboxConfig(
        tokens=tuple(args.tokens) or SandboxConfig().tokens,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        latency=args.latency,
        export_delay=0.0,
    )
    with SandboxServer(config, args.host, args.port) as server:
        lines = [f"base_url: {server.base_url}", f"status_url: {server.status_url}"]
        lines += [f"url: {server.sandbox.publish_file(path)}" for path in args.publish]
        print("\n".join(lines), flush=True)
        sys.stdin.read()  # until the parent closes the pipe (or exits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
