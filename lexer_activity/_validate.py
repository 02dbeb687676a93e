"""Argument checks for the public methods: each names the argument and says what is wrong.

They run before anything is sent, so a bad call costs no request and no rate budget.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "check_extra_body",
    "check_form",
    "check_positive",
    "check_text",
    "check_timeout",
    "check_token",
]

# Fields the SDK itself fills in; extra_body may add to the body but not silently replace them.
_RESERVED_FIELDS = frozenset({"type", "date_from", "date_to", "form", "nps_category"})


def check_text(value: object, name: str) -> str:
    """A non-empty string without control characters (they would break a header or a body)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"{name} must not contain control characters such as newlines")
    return value


def check_token(token: object) -> str:
    """An API token: printable ASCII with no surrounding spaces, as a header value must be.

    Messages never quote the token.
    """
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if not token.strip():
        raise ValueError("token must not be empty")
    if token != token.strip():
        raise ValueError("token has leading or trailing whitespace; strip it")
    if not token.isascii() or not token.isprintable():
        raise ValueError(
            "token must be printable ASCII (it travels in the Auth-Api-Token header); "
            "it contains control or non-ASCII characters"
        )
    return token


def check_form(form: object) -> int:
    """An NPS form id: a non-negative int, or a string of digits (as read from a CLI)."""
    if isinstance(form, bool):
        raise TypeError("form must be a form id (int), not a bool")
    if isinstance(form, int):
        if form < 0:
            raise ValueError(f"form must be a non-negative form id, not {form}")
        return form
    # isdecimal() alone admits other scripts' digits; 18 digits is far past any real id.
    text = form.strip() if isinstance(form, str) else ""
    if text.isascii() and text.isdecimal() and len(text) <= 18:
        return int(text)
    raise ValueError(
        f"form must be a numeric form id (see client.forms()), not {form!r}"
        if isinstance(form, str)
        else f"form must be a numeric form id (int), not {type(form).__name__}"
    )


def check_extra_body(extra_body: object) -> dict[str, Any]:
    """``extra_body`` as a dict: a mapping with string keys that the SDK does not fill itself."""
    if extra_body is None:
        return {}
    if not isinstance(extra_body, Mapping):
        raise TypeError(f"extra_body must be a mapping or None, not {type(extra_body).__name__}")
    for key in extra_body:
        if not isinstance(key, str):
            raise TypeError(f"extra_body keys must be str, not {type(key).__name__} ({key!r})")
    try:
        # The body is sent as strict JSON; find out now, before a rate slot is spent.
        json.dumps(dict(extra_body), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"extra_body is not JSON-serialisable: {exc}") from None
    clash = sorted(_RESERVED_FIELDS.intersection(extra_body))
    if clash:
        raise ValueError(
            f"extra_body must not set {', '.join(clash)}: pass them as the method's arguments"
        )
    return dict(extra_body)


def check_positive(value: object, name: str, *, allow_zero: bool = False) -> float:
    """A finite number above zero (or at least zero)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "at least 0" if allow_zero else "above 0"
        raise ValueError(f"{name} must be a finite number {bound}, not {value!r}")
    return float(value)


def check_timeout(timeout: object, name: str = "timeout") -> httpx.Timeout | None:
    """``None`` (the client's default), seconds, or an ``httpx.Timeout``."""
    if timeout is None:
        return None
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(check_positive(timeout, name))
