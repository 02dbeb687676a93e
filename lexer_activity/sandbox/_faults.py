"""Fault: one misbehaviour queued for the next request(s) on a route, and its queue."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

TARGETS = frozenset({"users", "groups", "forms", "reports", "status", "download", "*"})
# Routes that "*" stands for: every API route; the file host is not part of the API.
API_TARGETS = frozenset({"users", "groups", "forms", "reports", "status"})

# Kinds that replace the answer outright. They act before authentication and the rate window,
# like a gateway in front of the API, so they neither need a token nor spend the budget.
REPLACING_KINDS = frozenset({"status", "rate_limit", "malformed", "expired", "export_status"})
# Kinds that change how the real answer is delivered.
DELIVERY_KINDS = frozenset({"slow", "trickle", "drop", "short"})
DOWNLOAD_KINDS = frozenset({"ignore_range", "bad_content_range", "gzip"})

MALFORMED_BODIES = frozenset({"invalid_json", "html", "empty", "json"})

_MISSING = object()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _status_code(value: Any) -> bool:
    # What h11 can put on a status line; anything else would crash the server, not the client.
    return _integer(value) and 100 <= value <= 599


def _anything(value: Any) -> bool:
    return True


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _str_mapping(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _body(value: Any) -> bool:
    return isinstance(value, str | bytes | dict | list) or value is None


# kind -> parameter -> (check, default); a default of _MISSING makes the parameter required.
_PARAMS: dict[str, dict[str, tuple[Callable[[Any], bool], Any]]] = {
    "status": {
        "status_code": (_status_code, _MISSING),
        "body": (_body, None),
        "headers": (_str_mapping, None),
    },
    "rate_limit": {"retry_after": (lambda v: v is None or isinstance(v, str | int | float), None)},
    "slow": {"delay": (_number, _MISSING)},
    "trickle": {"chunk": (_integer, 1), "delay": (_number, 0.05)},
    "malformed": {
        "body": (lambda v: v in MALFORMED_BODIES, _MISSING),
        "json": (_anything, None),
        "status_code": (_status_code, 200),
    },
    "drop": {"after_bytes": (_integer, 0)},
    "short": {"after_bytes": (lambda v: v is None or _integer(v), None)},
    "ignore_range": {},
    "bad_content_range": {"content_range": (_optional_str, None)},
    "expired": {},
    "gzip": {},
    # `url` left out means the answer carries no "url" key at all.
    "export_status": {
        "status": (lambda v: isinstance(v, str), "complete"),
        "url": (_anything, _MISSING),
    },
}
KINDS = frozenset(_PARAMS)


class Fault:
    """One misbehaviour for the next ``times`` requests on ``target`` (None: forever).

    ``target`` is a route name (users, groups, forms, reports, status, download) or ``*``
    for every API route. ``kind`` picks the misbehaviour; ``params`` are its settings, as
    described in the package docstring. Unknown kinds, targets and parameters raise
    ValueError at once, so a typo in a test fails loudly instead of injecting nothing.
    """

    __slots__ = ("kind", "params", "target", "times")

    def __init__(self, target: str, kind: str, times: int | None = 1, **params: Any) -> None:
        if target not in TARGETS:
            raise ValueError(f"unknown fault target {target!r}; expected one of {sorted(TARGETS)}")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if times is not None and (not _integer(times) or times < 1):
            raise ValueError("times must be a positive integer or None (forever)")
        if (kind in DOWNLOAD_KINDS or kind == "expired") and target != "download":
            raise ValueError(f"fault kind {kind!r} applies to the download target only")
        if kind == "export_status" and target != "status":
            raise ValueError("fault kind 'export_status' applies to the status target only")
        spec = _PARAMS[kind]
        unknown = set(params) - set(spec)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} for fault kind {kind!r}")
        resolved: dict[str, Any] = {}
        for name, (check, default) in spec.items():
            if name not in params:
                if default is _MISSING:
                    if kind == "export_status":
                        continue
                    raise ValueError(f"fault kind {kind!r} needs the parameter {name!r}")
                resolved[name] = default
                continue
            if not check(params[name]):
                raise ValueError(f"bad value {params[name]!r} for {kind!r} parameter {name!r}")
            resolved[name] = params[name]
        if kind == "rate_limit" and resolved["retry_after"] is not None:
            resolved["retry_after"] = str(resolved["retry_after"])
        if kind == "trickle" and resolved["chunk"] < 1:
            raise ValueError("trickle chunk must be at least 1 byte")
        if kind in ("drop", "short") and (resolved["after_bytes"] or 0) < 0:
            raise ValueError("after_bytes must not be negative")
        self.target = target
        self.kind = kind
        self.times = times
        self.params = resolved

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Fault({self.target!r}, {self.kind!r}, times={self.times!r}{extra})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fault):
            return NotImplemented
        return (self.target, self.kind, self.times, self.params) == (
            other.target,
            other.kind,
            other.times,
            other.params,
        )

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, Any]:
        """The fault as the admin route takes it: target, kind, times and the parameters."""
        data: dict[str, Any] = {"target": self.target, "kind": self.kind, "times": self.times}
        for name, value in self.params.items():
            data[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from ``{"target", "kind", "times"?, params...}``."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault must be a JSON object")
        fields = dict(data)
        try:
            target = fields.pop("target")
            kind = fields.pop("kind")
        except KeyError as exc:
            raise ValueError(f"a fault needs {exc.args[0]!r}") from None
        times = fields.pop("times", 1)
        return cls(target, kind, times, **fields)

    def matches(self, route: str) -> bool:
        """Whether a request on ``route`` consumes this fault."""
        return self.target == route or (self.target == "*" and route in API_TARGETS)


class FaultQueue:
    """Faults waiting to fire; each request takes the first fault matching its route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a copy of ``fault``, so the caller's object never changes under it."""
        with self._lock:
            self._faults.append(copy.deepcopy(fault))

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        """Copies of the faults still queued, first to fire first."""
        with self._lock:
            return copy.deepcopy(self._faults)

    def take(self, route: str) -> Fault | None:
        """Consume one use of the first fault matching ``route``; return it, or None."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if not fault.matches(route):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        del self._faults[index]
                return fault
            return None
