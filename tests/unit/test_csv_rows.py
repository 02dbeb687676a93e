"""Tests for lexer_activity._csv_rows: CSV records from a byte stream split anywhere."""

from __future__ import annotations

import csv
import io
import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexer_activity._csv_rows import _CSVRowDecoder, _dedupe_header, iter_csv_rows
from lexer_activity._errors import ExportFormatError

BOM = b"\xef\xbb\xbf"
# Characters str.splitlines() treats as line breaks but CSV does not.
SPLITLINES_ONLY = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def decode(chunks: Sequence[bytes]) -> list[dict[str, str]]:
    decoder = _CSVRowDecoder()
    rows: list[dict[str, str]] = []
    for chunk in chunks:
        rows += decoder.feed(chunk)
    rows += decoder.close()
    return rows


def every_two_way_split(data: bytes) -> Iterator[list[bytes]]:
    for cut in range(len(data) + 1):
        yield [data[:cut], data[cut:]]


def reference(text: str) -> list[dict[str, str]]:
    """What csv.reader makes of the whole text at once, as dicts (blank rows dropped)."""
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    if not rows:
        return []
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


async def aiter_chunks(chunks: Sequence[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


# A CSV exercising every quoting case, with CRLF and LF inside fields and as record ends.
TRICKY_TEXT = (
    "id,message,note\r\n"
    '1,"a, b","she said ""hi"""\r\n'
    '2,"line one\nline two","crlf\r\ninside"\n'
    '3,😀 emoji 日本語,""""\r\n'
    '4,"",plain\n'
)
TRICKY_ROWS = [
    {"id": "1", "message": "a, b", "note": 'she said "hi"'},
    {"id": "2", "message": "line one\nline two", "note": "crlf\r\ninside"},
    {"id": "3", "message": "😀 emoji 日本語", "note": '"'},
    {"id": "4", "message": "", "note": "plain"},
]


class TestQuotingAndLineEnds:
    def test_quoted_commas_quotes_and_newlines(self) -> None:
        assert decode([TRICKY_TEXT.encode()]) == TRICKY_ROWS

    def test_every_split_point_gives_the_same_rows(self) -> None:
        # Covers splits inside "" escapes, between \r and \n, and inside the 4-byte emoji.
        data = TRICKY_TEXT.encode()
        for chunks in every_two_way_split(data):
            assert decode(chunks) == TRICKY_ROWS, chunks

    def test_one_byte_chunks(self) -> None:
        assert decode(chunked(TRICKY_TEXT.encode(), 1)) == TRICKY_ROWS

    @pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
    def test_record_terminators(self, end: str) -> None:
        data = f"a,b{end}1,2{end}3,4{end}".encode()
        expected = [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
        for chunks in every_two_way_split(data):
            assert decode(chunks) == expected

    def test_mixed_terminators_and_unterminated_last_record(self) -> None:
        data = b"a,b\r\n1,2\n3,4\r5,6"
        assert decode(chunked(data, 1)) == [
            {"a": "1", "b": "2"},
            {"a": "3", "b": "4"},
            {"a": "5", "b": "6"},
        ]

    def test_crlf_split_between_cr_and_lf_adds_no_record(self) -> None:
        assert decode([b"a,b\r", b"\n1,2\r", b"\n"]) == [{"a": "1", "b": "2"}]

    def test_splitlines_only_characters_stay_inside_fields(self) -> None:
        text = f'a,b\nx{SPLITLINES_ONLY}y,"q{SPLITLINES_ONLY}"\n2,{SPLITLINES_ONLY}\n'
        expected = [
            {"a": f"x{SPLITLINES_ONLY}y", "b": f"q{SPLITLINES_ONLY}"},
            {"a": "2", "b": SPLITLINES_ONLY},
        ]
        for chunks in every_two_way_split(text.encode()):
            assert decode(chunks) == expected

    def test_text_after_closing_quote_is_an_error(self) -> None:
        with pytest.raises(ExportFormatError, match="record 1 is malformed"):
            decode([b'a,b\n"x"y,1\n'])

    def test_stray_quote_is_never_silently_misparsed(self) -> None:
        # A '"' inside an unquoted field fools the quote-parity split; whatever the chunking,
        # the result must be what csv reads from the whole text, or an ExportFormatError.
        text = 'h\na"b\n"x\ny"\nc"d\n'
        expected = reference(text)
        assert expected == [{"h": 'a"b'}, {"h": "x\ny"}, {"h": 'c"d'}]
        outcomes = set()
        for chunks in every_two_way_split(text.encode()):
            try:
                assert decode(chunks) == expected
                outcomes.add("parsed")
            except ExportFormatError:
                outcomes.add("error")
        assert outcomes == {"parsed", "error"}


class TestBOM:
    def test_bom_is_stripped_wherever_the_stream_splits(self) -> None:
        data = BOM + b"id,name\n1,x\n"
        for chunks in every_two_way_split(data):
            rows = decode(chunks)
            assert rows == [{"id": "1", "name": "x"}]
            assert "\ufeff" not in next(iter(rows[0]))

    def test_bom_split_one_byte_at_a_time(self) -> None:
        assert decode(chunked(BOM + b"id\n1\n", 1)) == [{"id": "1"}]

    def test_feff_after_the_start_is_data(self) -> None:
        data = "id\n\ufeffx\n".encode()
        assert decode(split_at(data, [3])) == [{"id": "\ufeffx"}]


class TestSizeAndMemory:
    @pytest.fixture(autouse=True)
    def _default_field_limit(self) -> Iterator[None]:
        old = csv.field_size_limit(131072)
        yield
        csv.field_size_limit(old)

    def test_one_megabyte_field(self) -> None:
        message = ('x,"\r\n😀' * 200_000)[:1_000_000]
        text = io.StringIO(newline="")
        csv.writer(text).writerows([["id", "message"], ["1", message]])
        data = text.getvalue().encode()
        assert decode(chunked(data, 65536)) == [{"id": "1", "message": message}]
        assert decode([data]) == [{"id": "1", "message": message}]

    def test_held_text_is_at_most_one_record_plus_one_chunk(self) -> None:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(["id", "message"])
        records = [[str(i), f'm,"{i}"\n' * (i % 50)] for i in range(2000)]
        writer.writerows(records)
        text = out.getvalue()
        longest_record = max(len(line) for line in text.split("\r\n"))
        decoder = _CSVRowDecoder()
        total = 0
        for chunk in chunked(text.encode(), 1000):
            total += len(decoder.feed(chunk))
            assert decoder.buffered_chars <= longest_record + len(chunk)
        total += len(decoder.close())
        assert total == len(records)

    def test_huge_field_in_small_chunks_is_linear(self) -> None:
        # Rescanning or re-joining the held text per chunk makes this quadratic: ~128 GB of
        # work instead of ~8 MB, several seconds instead of about 0.2.
        data = b'h\n"' + b"x\n" * 4_000_000 + b'"\n'
        decoder = _CSVRowDecoder()
        started = time.perf_counter()
        rows: list[dict[str, str]] = []
        for chunk in chunked(data, 256):
            rows += decoder.feed(chunk)
        rows += decoder.close()
        assert time.perf_counter() - started < 2.0
        assert len(rows) == 1
        assert len(rows[0]["h"]) == 8_000_000


class TestInvalidUTF8:
    @pytest.mark.parametrize(
        ("data", "offset"),
        [
            (b"h\nab\xffcd\n", 4),  # a byte that never occurs in UTF-8
            (b"h\n\xe2\x28\xa1\n", 2),  # broken continuation byte
            (b"h\n\xed\xa0\x80\n", 2),  # an encoded surrogate
            (b"h\n\xc0\xaf\n", 2),  # an overlong encoding
            (BOM + b"h\nx\x80\n", 6),  # the offset counts the BOM's bytes
        ],
    )
    def test_invalid_bytes_raise_with_the_byte_offset(self, data: bytes, offset: int) -> None:
        for chunks in every_two_way_split(data):
            with pytest.raises(ExportFormatError, match=f"byte offset {offset}:"):
                decode(chunks)

    def test_truncated_character_at_end_of_stream(self) -> None:
        data = "h\nx😀".encode()[:-1]
        for chunks in every_two_way_split(data):
            with pytest.raises(ExportFormatError, match="byte offset 3:"):
                decode(chunks)


class TestHeader:
    @pytest.mark.parametrize(
        ("names", "expected"),
        [
            (["Name", "Name", "Name"], ("Name", "Name.1", "Name.2")),
            (["a", "a.1", "a"], ("a", "a.1", "a.2")),
            (["a", "a", "a.1"], ("a", "a.2", "a.1")),
            (["a", "b", "a", "b", "a"], ("a", "b", "a.1", "b.1", "a.2")),
            (["", ""], ("", ".1")),
            (["x", "y"], ("x", "y")),
        ],
    )
    def test_dedupe_header(self, names: list[str], expected: tuple[str, ...]) -> None:
        assert _dedupe_header(names) == expected

    def test_duplicate_columns_are_all_kept(self) -> None:
        assert decode([b"Name,Name,id,Name\nx,y,1,z\n"]) == [
            {"Name": "x", "Name.1": "y", "id": "1", "Name.2": "z"}
        ]

    @pytest.mark.parametrize("data", [b"", BOM, b"a,b\n", b"a,b", b"\n\n", b"a,b\r\n\r\n"])
    def test_streams_without_records_yield_nothing(self, data: bytes) -> None:
        for chunks in every_two_way_split(data):
            assert decode(chunks) == []

    def test_blank_lines_are_skipped_before_and_after_the_header(self) -> None:
        data = b"\r\n\na,b\n\n1,2\r\n\r\n\n3,4\n\n"
        for chunks in every_two_way_split(data):
            assert decode(chunks) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


class TestFieldCount:
    @pytest.mark.parametrize("size", [1, 3, 7, 1000])
    def test_too_many_fields_names_record_and_counts(self, size: int) -> None:
        data = b"a,b\n1,2\n\n3,4\n5,6,7\n8,9\n"
        with pytest.raises(ExportFormatError, match=r"record 3 has 3 fields; the header has 2"):
            decode(chunked(data, size))

    def test_too_few_fields(self) -> None:
        with pytest.raises(ExportFormatError, match=r"record 1 has 1 fields; the header has 3"):
            decode([b"a,b,c\nonly\n"])

    def test_record_numbers_continue_across_chunks(self) -> None:
        data = b"a\n" + b"x\n" * 500 + b"y,z\n"
        with pytest.raises(ExportFormatError, match="record 501 has 2 fields"):
            decode(chunked(data, 64))

    def test_short_unterminated_last_record(self) -> None:
        with pytest.raises(ExportFormatError, match="record 2 has 1 fields"):
            decode([b"a,b\n1,2\n3"])


class TestEndOfStream:
    def test_unterminated_quoted_field_is_an_error(self) -> None:
        data = b'a,b\n1,2\n3,"never closed\n'
        for chunks in every_two_way_split(data):
            with pytest.raises(ExportFormatError, match="record 2: a quoted field is still open"):
                decode(chunks)

    def test_unterminated_unquoted_last_record_is_fine(self) -> None:
        assert decode([b"a,b\n1,", b"2"]) == [{"a": "1", "b": "2"}]

    def test_feed_after_close_is_refused(self) -> None:
        decoder = _CSVRowDecoder()
        decoder.close()
        with pytest.raises(RuntimeError):
            decoder.feed(b"a\n")


class TestIterCSVRows:
    @pytest.mark.asyncio
    async def test_yields_every_record(self) -> None:
        chunks = chunked(TRICKY_TEXT.encode(), 5)
        assert [row async for row in iter_csv_rows(aiter_chunks(chunks))] == TRICKY_ROWS

    @pytest.mark.asyncio
    async def test_yields_the_last_unterminated_record(self) -> None:
        rows = [row async for row in iter_csv_rows(aiter_chunks([b"a\n1\n", b"2"]))]
        assert rows == [{"a": "1"}, {"a": "2"}]

    @pytest.mark.asyncio
    async def test_aclose_early_closes_the_source(self) -> None:
        closed = False

        async def source() -> AsyncIterator[bytes]:
            nonlocal closed
            try:
                yield b"a\n1\n2\n"
                yield b"3\n"
                raise AssertionError("read past an early close")
            finally:
                closed = True

        rows = iter_csv_rows(source())
        assert isinstance(rows, AsyncGenerator)
        assert await rows.__anext__() == {"a": "1"}
        await rows.aclose()
        assert closed
        with pytest.raises(StopAsyncIteration):
            await rows.__anext__()

    @pytest.mark.asyncio
    async def test_break_early(self) -> None:
        seen = []
        rows = iter_csv_rows(aiter_chunks([b"a\n", b"1\n2\n3\n"]))
        assert isinstance(rows, AsyncGenerator)
        async for row in rows:
            seen.append(row)
            break
        await rows.aclose()
        assert seen == [{"a": "1"}]

    @pytest.mark.asyncio
    async def test_errors_propagate(self) -> None:
        with pytest.raises(ExportFormatError, match="byte offset 4"):
            async for _ in iter_csv_rows(aiter_chunks([b"a\n1\n", b"\xff"])):
                pass


# Field text: runs of the characters that break naive CSV splitting, or arbitrary text.
TRICKY_PIECES = [
    ",",
    '"',
    '""',
    "\n",
    "\r\n",
    "\r",
    "😀",
    "日本",
    "\u2028",
    "\x85",
    "\x0c",
    "a",
    " ",
]
field_text = st.one_of(
    st.lists(st.sampled_from(TRICKY_PIECES), max_size=8).map("".join),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\ufeff"), max_size=8),
)


@st.composite
def csv_streams(draw: st.DrawFn) -> tuple[bytes, str]:
    width = draw(st.integers(1, 4))
    header = draw(st.lists(field_text, min_size=width, max_size=width, unique=True))
    rows = draw(st.lists(st.lists(field_text, min_size=width, max_size=width), max_size=6))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    lines = []
    for row in [header, *rows]:
        # Written with "\r\n" and re-terminated: csv.writer only quotes a field holding a
        # lone "\r" when "\r" is part of its lineterminator.
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n").writerow(row)
        lines.append(out.getvalue()[:-2] + terminator)
    text = "".join(lines)
    data = (BOM if draw(st.booleans()) else b"") + text.encode()
    return data, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=csv_streams(), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_any_chunking_matches_csv_reader_on_the_whole_text(
    stream: tuple[bytes, str], cuts: list[int]
) -> None:
    data, text = stream
    chunks = split_at(data, [cut % (len(data) + 1) for cut in cuts])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len({len(row) for row in rows}) == 1  # the generated CSV itself is well-formed
    assert decode(chunks) == [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
