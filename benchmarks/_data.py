"""A realistic, messy export CSV of any size, written fast.

The rows look like the Responses (SLA) export: customer messages full of commas, doubled
quotes, LF and CRLF line breaks inside quoted fields, emoji and other multi-byte characters,
U+2028, tabs, empty fields and long notes. A block of a few thousand distinct rows is made
once from a seeded ``random.Random`` and written repeatedly (with fresh row ids) until the
file reaches the size asked for, so a GiB takes seconds, not minutes.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

__all__ = ["COLUMNS", "write_messy_csv"]

COLUMNS = (
    "Row ID", "Account Name", "Source Type", "Agent First Name", "Agent Last Name",
    "Last Action Date (UTC)", "Customer Wait Time (min)", "Agent Response Time (min)",
    "Within Customer SLA", "State", "Customer Username", "Customer Fullname",
    "Customer Message", "Agent Response", "Classifications", "Agent Notes",
)

_WORDS = (
    "order", "refund", "delivery", "late", "again", "please", "thanks", "account", "password",
    "store", "Sydney", "Melbourne", "parcel", "tracking", "size", "exchange", "voucher",
    "app", "crashes", "login", "café", "naïve", "Zürich", "São", "Paulo", "日本語", "注文",
    "😀", "🙏", "📦", "👍🏽", "—", "“quoted”", "€20", "½", "x",
)
_SPICE = (
    ", and", ' said "hello"', '""', "\n", "\r\n", "\n\n", "\u2028", "\t", "; ", "...", "!",
    ",", '"', "'", " 🙂",
)
_SOURCES = ("twitter", "facebook", "instagram", "email", "chat", "sms")
_STATES = ("open", "closed", "pending", "snoozed", "all_closed_states")
_FIRST = ("Ana", "Bo", "Chloé", "Dmitri", "Eşref", "Fatima", "Grace", "Hiro", "Ivan", "Jo")
_LAST = ("Nguyen", "O'Brien", "Smith, Jr.", "Müller", "García", "Lee", "Kowalski", "Ng")


def _text(rng: random.Random, words: int) -> str:
    parts: list[str] = []
    for _ in range(words):
        parts.append(rng.choice(_WORDS))
        if rng.random() < 0.15:
            parts.append(rng.choice(_SPICE))
    return " ".join(parts)


def _row(rng: random.Random) -> list[str]:
    message_words = int(rng.paretovariate(1.3) * 6)
    return [
        "",  # Row ID, filled per copy of the block
        rng.choice(("Acme Retail", "Acme, Inc.", 'The "Good" Shop', "Zoë's Café")),
        rng.choice(_SOURCES),
        rng.choice(_FIRST),
        rng.choice(_LAST),
        f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        f"{rng.uniform(0, 600):.2f}",
        f"{rng.uniform(0, 120):.2f}" if rng.random() < 0.9 else "",
        rng.choice(("true", "false")),
        rng.choice(_STATES),
        "@" + rng.choice(_FIRST).lower() + str(rng.randint(1, 9999)),
        rng.choice(_FIRST) + " " + rng.choice(_LAST),
        _text(rng, min(message_words, 400)),
        _text(rng, rng.randint(0, 40)),
        ", ".join(rng.sample(("billing", "bug", "praise", "shipping", "vip"), rng.randint(0, 3))),
        _text(rng, rng.randint(0, 10)) if rng.random() < 0.3 else "",
    ]


def _block(seed: int, rows: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [_row(rng) for _ in range(rows)]


def write_messy_csv(path: Path, size: int, *, seed: int = 7, block_rows: int = 4000) -> int:
    """Write a CSV of at least ``size`` bytes (header included) to ``path``; return its rows.

    CRLF record ends and minimal quoting, as ``csv.writer`` and the real exports write them.
    Each row after the first column is encoded once; copies of the block differ in their
    Row ID only.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    tails: list[bytes] = []
    for row in _block(seed, block_rows):
        writer.writerow(row[1:])
        tails.append(b"," + buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
    writer.writerow(COLUMNS)
    header = buffer.getvalue().encode("utf-8")
    rows = 0
    with path.open("wb") as out:
        out.write(header)
        written = len(header)
        while written < size:
            data = b"".join(
                [b"%d%s" % (rows + i, tail) for i, tail in enumerate(tails, 1)]
            )
            rows += len(tails)
            out.write(data)
            written += len(data)
    return rows
