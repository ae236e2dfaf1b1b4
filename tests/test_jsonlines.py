"""The one JSON-lines reader every domain uses: how it names each kind of bad line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguard.errors import InvalidInput
from safeguard.jsonlines import (
    JsonLine,
    decode_text,
    iter_json_lines,
    parse_object,
    read_json_lines,
)

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def test_each_kind_of_line_is_described_with_its_number() -> None:
    lines = [b'{"a": 1}\n', b"\n", b"   \n", b'{"a": \n', b"[1, 2]\n", b'"text"\n',
             '{"b": "caf\xe9"}\n'.encode("cp1252"), b'{"c": 3}']
    got = list(iter_json_lines(lines))
    assert [line.number for line in got] == [1, 4, 5, 6, 7, 8]  # blanks skipped, still counted
    assert got[0] == JsonLine(1, {"a": 1})
    assert got[1].value is None and got[1].error.startswith("not valid JSON")
    assert "column" in got[1].error
    assert got[2].error == got[3].error == "expected a JSON object"
    assert got[4].value == {"b": "café"} and got[4].note == "not UTF-8: decoded as Windows-1252"
    assert got[5] == JsonLine(8, {"c": 3})


def test_an_overlong_line_is_an_error_before_it_is_read() -> None:
    huge = b'{"text": "' + b"x" * 100 + b'"}'
    got = list(iter_json_lines([huge, b'{"ok": true}'], max_line_bytes=50))
    assert got[0] == JsonLine(1, None, "line longer than 50 bytes")
    assert got[1] == JsonLine(2, {"ok": True})
    text_line = list(iter_json_lines([huge.decode()], max_line_bytes=50))[0]
    assert text_line.error == "line longer than 50 characters"


def test_deep_nesting_is_a_clear_error_not_a_crash() -> None:
    with pytest.raises(InvalidInput, match="^not valid JSON: nested too deeply$"):
        parse_object("[" * 200_000 + "]" * 200_000)


def test_byte_order_marks_are_honoured() -> None:
    for encoding in ("utf-8-sig", "utf-16", "utf-32"):
        assert decode_text('{"a": "é"}'.encode(encoding)) == ('{"a": "é"}', None)


@given(st.dictionaries(st.text(max_size=8), _json_values, max_size=5))
def test_any_object_written_as_a_line_reads_back(obj: dict[str, object]) -> None:
    line = json.dumps(obj, ensure_ascii=False).encode() + b"\n"
    assert list(iter_json_lines([line])) == [JsonLine(1, obj)]


@given(st.binary(max_size=200))
def test_any_bytes_give_an_object_or_a_named_error_never_an_exception(data: bytes) -> None:
    for line in iter_json_lines([data]):
        assert (line.value is None) == bool(line.error)


@given(st.binary(max_size=200))
def test_decoding_never_fails_and_notes_only_a_guess(data: bytes) -> None:
    text, note = decode_text(data)
    assert isinstance(text, str)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        if not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
            assert note is not None
    else:
        assert note is None


def test_a_file_is_streamed_and_a_missing_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n\nnot json\n')
    assert [(line.number, line.value) for line in read_json_lines(path)] == [(1, {"a": 1}),
                                                                             (3, None)]
    with pytest.raises(InvalidInput, match=r"cannot read .*missing\.jsonl"):
        list(read_json_lines(tmp_path / "missing.jsonl"))
