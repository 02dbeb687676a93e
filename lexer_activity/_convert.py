"""The one cattrs converter, and the strict rules it applies to every answer.

cattrs' defaults are lenient in ways that hide a broken answer: ``bool("false")`` is True and
``str(12)`` is ``"12"``. These hooks accept only what the vendor's page shows, plus the few
inconsistencies api-notes records (``user_id`` as ``"123"`` in ``user_summary``).
Anything else becomes a ``ResponseValidationError`` naming the endpoint and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from ._constants import BODY_EXCERPT_CHARS
from ._dates import parse_iso_datetime
from ._errors import ResponseValidationError

__all__ = ["converter", "excerpt", "structure"]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False)


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected an integer, got {value!r}")


_DIGITS = re.compile(r"\s*[+-]?[0-9]+\s*")


def _structure_user_id(value: Any, _: type) -> int | None:
    # user_summary sends user_id as a string of digits (api-notes: int everywhere). Only
    # user_id: a string where any other number belongs is a broken answer.
    if value is None:
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return _structure_int(value, int)


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {value!r}")


def _structure_str(value: Any, _: type) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {value!r}")


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected true or false, got {value!r}")


def _structure_datetime(value: Any, _: type) -> datetime:
    """ISO-8601 strings (``Z`` allowed) and epoch seconds; both become aware datetimes.

    The page documents every full timestamp it shows as UTC, so a naive one is taken as UTC.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if not isinstance(value, str):
        raise TypeError(f"expected a timestamp, got {value!r}")
    parsed = parse_iso_datetime(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _structure_int_tuple(value: Any, _: type) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(_structure_int(item, int) for item in value)


def _structure_state_counts(value: Any, _: type) -> dict[str, int]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return {_structure_str(k, str): _structure_int(v, int) for k, v in value.items()}


converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(datetime, _structure_datetime)
def _attrs_hook_factory(cls: type) -> Callable[[Any, type], Any]:
    # cattrs would happily read a list or a string as an object whose keys are all missing,
    # which turns a wrong-shaped answer into a result full of None.
    overrides: dict[str, Any] = {}
    if "user_id" in attrs.fields_dict(cls):
        overrides["user_id"] = override(struct_hook=_structure_user_id)
    from_dict: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, converter, **overrides)

    def structure_object(value: Any, _: type) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        return from_dict(value, cls)

    return structure_object


def _list_hook_factory(list_type: type) -> Callable[[Any, type], Any]:
    # Same trap as above: a string or an object would be iterated as if it were a list.
    (item_type,) = getattr(list_type, "__args__", (Any,))

    item_hook = converter.get_structure_hook(item_type)

    def structure_list(value: Any, _: type) -> list[Any]:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return [item_hook(item, item_type) for item in value]

    return structure_list


def _optional_inner(t: Any) -> Any:
    args = get_args(t)
    if get_origin(t) in (Union, UnionType) and len(args) == 2 and type(None) in args:
        return args[0] if args[1] is type(None) else args[1]
    return None


def _optional_hook_factory(optional_type: Any) -> Callable[[Any, type], Any]:
    # cattrs' generic union handling takes `X | None` apart on every value; every field of
    # every result is optional, so look the inner hook up once (it was the largest cost of
    # typed conversion: benchmarks/README.md, "Profiling").
    inner = _optional_inner(optional_type)
    inner_hook = converter.get_structure_hook(inner)

    def structure_optional(value: Any, _: type) -> Any:
        return None if value is None else inner_hook(value, inner)

    return structure_optional


converter.register_structure_hook_factory(attrs.has, _attrs_hook_factory)
def _is_list_type(t: Any) -> bool:
    return get_origin(t) is list


converter.register_structure_hook_factory(_is_list_type, _list_hook_factory)
converter.register_structure_hook_factory(
    lambda t: _optional_inner(t) is not None, _optional_hook_factory
)
# Generic aliases are not classes, so these two register by predicate.
converter.register_structure_hook_func(lambda t: t == tuple[int, ...], _structure_int_tuple)
converter.register_structure_hook_func(lambda t: t == dict[str, int], _structure_state_counts)


def excerpt(body: str | bytes, limit: int = BODY_EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of an answer body, for error messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text[:limit] + ("…" if len(text) > limit else "")


def _type_name(cls: Any) -> str:
    if get_origin(cls) is list:
        return f"a list of {_type_name(cls.__args__[0])}"
    return str(getattr(cls, "__name__", cls))


def structure(data: Any, cls: type[T], *, endpoint: str, body: str | bytes) -> T:
    """Structure decoded JSON into ``cls``, or raise ``ResponseValidationError``.

    A list element or object that is not a JSON object is a shape error too: cattrs would
    otherwise fail on it with whatever exception its internals happen to raise.
    """
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        detail = "; ".join(cattrs.transform_error(exc)[:3])
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        detail = str(exc)
    raise ResponseValidationError(
        f"answer does not match {_type_name(cls)} ({detail})",
        endpoint=endpoint,
        excerpt=excerpt(body),
    )
