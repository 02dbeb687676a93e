"""Output: a typed result as a rich table, JSON or CSV, all from one flat set of rows.

Shapes, and the rows each becomes:

- an object (``Summary``): one ``field, value`` row per field;
- a list (``list[AgentSummary]``): one row per item, a column per field; nested objects and
  mappings (``states``, ``data``) are flattened into ``states.closed``, ``data.nps_score``;
- a time series (``TimeSeries``): one row per point, ``date_from`` and the series' value;
- a map of series (``dict[str, TimeSeries]``): one row per point in time, a column per series.

JSON is the result unstructured as it is, not these rows: attrs fields in declaration order,
mappings in the API's own order, datetimes as ISO-8601.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import attrs
import cattrs
import click
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from lexer_activity import TimeSeries

__all__ = ["Rows", "emit", "print_rows", "tabulate", "to_json"]

Format = Literal["table", "json", "csv"]

_json_converter = cattrs.Converter()
_json_converter.register_unstructure_hook(datetime, datetime.isoformat)


@attrs.frozen
class Rows:
    """A result as a flat table; ``count`` is the result's own size (1 for an object)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    count: int
    is_object: bool = False


def to_json(result: object) -> str:
    """The result as indented JSON, keys in a stable order (see the module docstring)."""
    return json.dumps(_json_converter.unstructure(result), indent=2, ensure_ascii=False)


def _flatten(obj: Any, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        name = prefix + field.name
        if attrs.has(type(value)):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, Mapping):
            flat.update({f"{name}.{key}": item for key, item in value.items()})
        else:
            flat[name] = value
    return flat


def _series_rows(series: Mapping[str, TimeSeries]) -> Rows:
    # Series of one map can disagree on their points; a missing point is an empty cell.
    by_time: dict[datetime, dict[str, object]] = {}
    for name, one in series.items():
        for point in one.points:
            by_time.setdefault(point.date_from, {})[name] = point.value
    names = tuple(series)
    rows = tuple(
        (moment, *(values.get(name) for name in names))
        for moment, values in sorted(by_time.items())
    )
    return Rows(("date_from", *names), rows, len(rows))


def tabulate(result: object, *, series_name: str = "value") -> Rows:
    """Flatten any typed result into rows; ``series_name`` heads a lone series' values."""
    if isinstance(result, TimeSeries):
        return _series_rows({series_name: result})
    if isinstance(result, Mapping):
        if all(isinstance(value, TimeSeries) for value in result.values()):
            return _series_rows(result)
        return Rows(("field", "value"), tuple(result.items()), 1, is_object=True)
    if attrs.has(type(result)):
        return Rows(("field", "value"), tuple(_flatten(result).items()), 1, is_object=True)
    if isinstance(result, Sequence) and not isinstance(result, str):
        flats = [_flatten(item) if attrs.has(type(item)) else {"value": item} for item in result]
        # Union of the keys in first-seen order: flattened mappings can differ per item.
        columns = tuple(dict.fromkeys(key for flat in flats for key in flat))
        rows = tuple(tuple(flat.get(column) for column in columns) for flat in flats)
        return Rows(columns, rows, len(rows))
    return Rows(("value",), ((result,),), 1)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return ",".join(str(item) for item in value)
    return value


_CONTROL = dict.fromkeys([*range(32), 127], "\N{REPLACEMENT CHARACTER}")


def _table_cell(value: object, column: str) -> Text:
    # Text, not str: a name like "[/]" or "[link=...]" from the server would be rich markup.
    # Control characters become U+FFFD so a terminal escape in the data cannot act.
    return Text(_table_text(value, column).translate(_CONTROL))


def _table_text(value: object, column: str) -> str:
    if isinstance(value, float):
        # Counts arrive as floats in time series; 174.00 reads worse than 174.
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, int) and not isinstance(value, bool):
        # Ids are names, not quantities: no thousands separator.
        return str(value) if column == "id" or column.endswith("_id") else f"{value:,}"
    return str(_csv_cell(value))


def _is_numeric(rows: Rows, index: int) -> bool:
    values = [row[index] for row in rows.rows if row[index] is not None]
    return bool(values) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    )


def rich_table(rows: Rows, title: str | None = None) -> Table:
    """A rich table of the rows, numbers right-aligned."""
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(rows.columns):
        numeric = _is_numeric(rows, index) or (rows.is_object and column == "value")
        table.add_column(column, justify="right" if numeric else "left")
    for row in rows.rows:
        cells = zip(row, rows.columns, strict=True)
        table.add_row(*(_table_cell(value, column) for value, column in cells))
    return table


def print_rows(table: Table, console: Console | None = None) -> None:
    """Print a table to stdout, as wide as it needs when stdout is not a terminal.

    Rich assumes 80 columns without a terminal, which folds a 20-column report into an
    unreadable column of fragments when redirected to a file.
    """
    console = console or Console()
    if not console.is_terminal:
        # Measured against an unbounded width: the console's own 80 would cap the answer.
        options = console.options.update_width(1 << 16)
        width = Measurement.get(console, options, table).maximum
        console = Console(width=max(80, width))
    console.print(table)


def emit(result: object, fmt: Format, *, title: str, series_name: str = "value") -> None:
    """Write a result to stdout in the chosen format."""
    if fmt == "json":
        click.echo(to_json(result))
        return
    rows = tabulate(result, series_name=series_name)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(rows.columns)
        writer.writerows([_csv_cell(value) for value in row] for row in rows.rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    if not rows.is_object:
        title = f"{title} ({rows.count} {'row' if rows.count == 1 else 'rows'})"
    print_rows(rich_table(rows, title=title))
