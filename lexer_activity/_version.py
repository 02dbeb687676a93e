"""The installed package version, looked up once."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("lexer-activity")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree never installed
    __version__ = "0+unknown"
