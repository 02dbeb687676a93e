"""The ``lexer-activity`` command: query, export, and a demo on an embedded sandbox.

Needs the ``cli`` extra (``pip install 'lexer-activity[cli]'``). The command is thin: the SDK
does the work, the command parses options, calls it once per command in ``asyncio.run`` and
renders the result. Exit codes are listed in ``_exit.TABLE`` and in ``lexer-activity --help``.
"""

from __future__ import annotations

import sys

__all__ = ["cli", "main"]

# The script is installed with the package even without the extra; say what to install
# rather than die with a traceback about click.
_EXTRA_MODULES = frozenset({"click", "rich"})

try:
    from ._app import cli, main
except ModuleNotFoundError as _missing:
    if _missing.name not in _EXTRA_MODULES:
        raise
    _MESSAGE = (
        f"lexer-activity: the command needs the cli extra ({_missing.name} is not installed): "
        "pip install 'lexer-activity[cli]'"
    )

    def main() -> None:
        """Explain the missing extra and exit 1."""
        sys.exit(_MESSAGE)
