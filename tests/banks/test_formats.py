"""Import parsers: every format, every bad line named, nothing half-parsed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.banks.formats import ImportRejected, ParsedEntry, detect_format, parse
from safeguard.errors import InvalidInput

PDQ = "f" * 64
PDQ2 = "0123456789abcdef" * 4
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_plain_lines_skip_blanks_and_comments_and_normalise_case() -> None:
    data = f"# exported list\n{PDQ.upper()}\n\n  {PDQ2}  \n".encode()
    entries = parse(data)
    assert [(e.line, e.signal_type, e.value) for e in entries] == [(2, "pdq", PDQ),
                                                                   (4, "pdq", PDQ2)]


def test_plain_lines_take_the_given_signal_type() -> None:
    assert parse(f"{MD5}\n".encode(), "lines", default_signal_type="md5")[0].signal_type == "md5"


def test_bad_lines_are_all_listed_with_reasons() -> None:
    data = f"{PDQ}\nnot-a-hash\n{PDQ[:-1]}\n{PDQ}\n{'z' * 64}\n".encode()
    with pytest.raises(ImportRejected) as err:
        parse(data)
    assert [line for line, _ in err.value.problems] == [2, 3, 5]
    assert "expected 64 hex characters, got 63" in str(err.value)
    assert "non-hex" in str(err.value)
    assert "Bad lines: 2, 3, 5" in str(err.value)


def test_threatexchange_local_file_format() -> None:
    data = f"pdq {PDQ}\nvideo_md5 {MD5}\nvideo_sha256 {SHA}\n".encode()
    assert detect_format(data.decode()) == "te-file"
    assert [(e.signal_type, e.value) for e in parse(data)] == [
        ("pdq", PDQ), ("md5", MD5), ("sha256", SHA)]


def test_threatexchange_local_file_unknown_type() -> None:
    with pytest.raises(ImportRejected) as err:
        parse(f"pdq {PDQ}\nphotodna {PDQ}\n".encode(), "te-file")
    assert err.value.problems[0][0] == 2
    assert "unknown signal type 'photodna'" in err.value.problems[0][1]


def test_threatexchange_dataset_csv() -> None:
    data = ("signal_type,signal_str,collab,category,tags\r\n"
            f"pdq,{PDQ},Sample Collab,POSITIVE_CLASS,tag1 tag2\r\n"
            f"video_md5,{MD5},Sample Collab,POSITIVE_CLASS,\r\n").encode()
    entries = parse(data)
    assert entries[0] == ParsedEntry(2, "pdq", PDQ, ("tag1", "tag2"), "threatexchange",
                                     "Sample Collab")
    assert entries[1].signal_type == "md5"


def test_threatexchange_simple_state_files_cli_and_hma() -> None:
    cli = f"{PDQ},1234,2021-01-01T00:00:00+0000,label_a label_b\n".encode()
    hma = f"{PDQ2},99,1234,2021-01-01,\n".encode()
    a = parse(cli, filename="/state/simple.HASH_PDQ.te")
    b = parse(hma, filename="simple.HASH_PDQ.te")
    assert (a[0].tags, a[0].source_id) == (("label_a", "label_b"), "1234")
    assert (b[0].value, b[0].source_id, b[0].tags) == (PDQ2, "99", ())


def test_threatexchange_simple_md5_file_takes_type_from_name() -> None:
    entries = parse(f"{MD5},1,2021-01-01,\n".encode(), filename="simple.HASH_MD5.te")
    assert entries[0].signal_type == "md5"


def test_threatexchange_query_csv_and_jsonl() -> None:
    csv_data = ("id,indicator,type,status,tags,owner_id\n"
                f"111,{PDQ},HASH_PDQ,MALICIOUS,a b,42\n").encode()
    jsonl = json.dumps({"id": "222", "indicator": MD5, "type": "HASH_MD5",
                        "tags": ["x"]}).encode()
    assert parse(csv_data)[0] == ParsedEntry(2, "pdq", PDQ, ("a", "b"), "threatexchange", "111")
    assert parse(jsonl)[0] == ParsedEntry(1, "md5", MD5, ("x",), "threatexchange", "222")


def test_our_csv_with_provenance() -> None:
    data = ("signal_type,hash,source,source_id,tags,quality\n"
            f"pdq,{PDQ},hotline-a,case-7,\"t1,t2\",90\n"
            f"sha256,{SHA},,,,\n").encode()
    first, second = parse(data)
    assert first == ParsedEntry(2, "pdq", PDQ, ("t1", "t2"), "hotline-a", "case-7", 90)
    assert second.signal_type == "sha256" and second.quality is None


def test_csv_wrong_field_count_and_bad_quality_are_listed() -> None:
    data = (f"hash,quality\n{PDQ},50\n{PDQ},101\n{PDQ},5,extra\n{PDQ},x\n").encode()
    with pytest.raises(ImportRejected) as err:
        parse(data, "csv")
    assert [line for line, _ in err.value.problems] == [3, 4, 5]


def test_csv_without_hash_column() -> None:
    with pytest.raises(ImportRejected, match="must name the column"):
        parse(b"name,other\na,b\n", "csv")


def test_malformed_csv_quote() -> None:
    with pytest.raises(ImportRejected, match="malformed CSV"):
        parse(f'hash,tags\n{PDQ},"unterminated\n'.encode(), "csv")


def test_jsonl_malformed_lines_are_listed() -> None:
    data = (json.dumps({"hash": PDQ}) + "\n{not json\n[1,2]\n"
            + json.dumps({"signal_type": "md5", "value": MD5, "tags": "a b"}) + "\n").encode()
    with pytest.raises(ImportRejected) as err:
        parse(data)
    assert [line for line, _ in err.value.problems] == [2, 3]


def test_non_utf8_is_refused_with_line() -> None:
    data = f"{PDQ}\n".encode() + "caf\u00e9\n".encode("latin-1")
    with pytest.raises(ImportRejected) as err:
        parse(data)
    assert err.value.problems[0][0] == 2
    assert "not UTF-8" in str(err.value)


def test_utf8_bom_is_accepted_and_nul_refused() -> None:
    assert parse(b"\xef\xbb\xbf" + PDQ.encode())[0].value == PDQ
    with pytest.raises(ImportRejected, match="NUL"):  # every line with NUL is named
        parse(b"\x00\x01\x02")


def test_unknown_format_and_default_type() -> None:
    with pytest.raises(InvalidInput):
        parse(b"", "xml")
    with pytest.raises(InvalidInput):
        parse(b"", "lines", default_signal_type="photodna")


def test_empty_file_gives_nothing() -> None:
    assert parse(b"") == []
    assert parse(b"\n# only a comment\n") == []


# --------------------------------------------------------------------------- properties

hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
tag = st.text(st.characters(whitelist_categories=("L", "N"), max_codepoint=0x2FF),
              min_size=1, max_size=12)


@given(st.lists(st.tuples(hex64, st.lists(tag, max_size=3, unique=True)), max_size=20))
@settings(max_examples=60, deadline=None)
def test_csv_and_jsonl_round_trip(rows: list[tuple[str, list[str]]]) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["signal_type", "value", "tags"])
    for value, tags in rows:
        writer.writerow(["pdq", value, " ".join(tags)])
    from_csv = parse(out.getvalue().encode(), "csv")
    jsonl = "".join(json.dumps({"signal_type": "pdq", "value": v, "tags": t}) + "\n"
                    for v, t in rows)
    from_jsonl = parse(jsonl.encode(), "jsonl")
    assert [(e.value, list(e.tags)) for e in from_csv] == [(v, t) for v, t in rows]
    assert [(e.value, list(e.tags)) for e in from_jsonl] == [(v, t) for v, t in rows]


@given(st.binary(max_size=400))
@settings(max_examples=200, deadline=None)
def test_any_bytes_parse_or_are_rejected_cleanly(data: bytes) -> None:
    for fmt in ("auto", "lines", "csv", "jsonl", "te-file", "te-dataset", "te-simple",
                "te-query"):
        try:
            entries = parse(data, fmt)
        except ImportRejected as exc:
            assert exc.problems
        else:
            assert all(e.signal_type in ("pdq", "md5", "sha256", "vpdq") for e in entries)


def _one_line(text: str) -> bool:
    return not any(c in text for c in "\n\r\ufeff")


@given(st.lists(st.one_of(hex64, st.text(max_size=70).filter(_one_line)), min_size=1,
                max_size=30))
@settings(max_examples=100, deadline=None)
def test_every_bad_line_is_reported_exactly(lines: list[str]) -> None:
    import re

    data = "\n".join(lines).encode()
    good = re.compile(r"^[0-9a-fA-F]{64}$")

    def bad(text: str) -> bool:
        stripped = text.strip()
        return bool(stripped) and not stripped.startswith("#") and not good.match(stripped)

    expected_bad = [n for n, text in enumerate(lines, start=1) if bad(text)]
    try:
        entries = parse(data, "lines")
    except ImportRejected as exc:
        assert sorted({line for line, _ in exc.problems}) == expected_bad
    else:
        assert expected_bad == []
        assert len(entries) == sum(1 for t in lines if good.match(t.strip()))
