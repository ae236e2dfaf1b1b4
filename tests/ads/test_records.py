import json

import pytest

from safeguard.ads.records import iter_jsonl, load_csv, load_jsonl, make_ad
from safeguard.ads.text import MAX_TEXT_CHARS
from safeguard.errors import InvalidInput


def test_jsonl_reports_bad_lines_and_keeps_good_ones(tmp_path):
    path = tmp_path / "ads.jsonl"
    lines = [
        json.dumps({"site": "a", "id": "1", "text": "Window cleaning"}),
        "{not json",
        json.dumps({"site": "a", "id": "2", "text": "Dog walking", "region": "GBR"}),
        "",
        json.dumps([1, 2]),
        json.dumps({"site": "a", "id": "1", "text": "duplicate"}),
        json.dumps({"site": "a", "id": "3", "text": "Piano lessons"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = load_jsonl(path)
    assert [ad.ad_id for ad in result.ads] == ["1", "3"]
    assert [e.line for e in result.errors] == [2, 3, 5]
    assert "region" in result.errors[1].message
    assert result.duplicates == 1
    assert result.skipped == 3


def test_jsonl_wrong_encoding_is_read_with_a_note(tmp_path):
    path = tmp_path / "ads.jsonl"
    path.write_bytes(b'{"site": "a", "id": "1", "text": "Caf\xe9 cleaning"}\n')
    result = load_jsonl(path)
    assert result.ads[0].text == "Café cleaning"
    assert "line 1" in result.notes[0]


def test_csv_with_malformed_rows():
    data = (b"site,id,text,phone,image_hashes\n"
            b"a,1,Ironing,917-555-0142," + b"a" * 64 + b"\n"
            b"a,2,Tutoring,,nothex\n"
            b"a,3,too,many,fields,here\n"
            b"a,4,Gardening,,\n")
    result = load_csv(data)
    assert [ad.ad_id for ad in result.ads] == ["1", "4"]
    assert [e.line for e in result.errors] == [3, 4]
    assert result.ads[0].contacts == (("phone", "917-555-0142"),)
    assert result.ads[0].image_hashes == ("a" * 64,)


def test_csv_without_id_column():
    result = load_csv(b"site,text\na,hello\n")
    assert result.ads == []
    assert result.errors[0].line == 1


def test_huge_text_is_truncated_with_a_note():
    ad = make_ad({"site": "a", "id": "1", "text": "tidy " * (MAX_TEXT_CHARS // 2)})
    assert len(ad.text) == MAX_TEXT_CHARS
    assert any("truncated" in note for note in ad.notes)


def test_empty_ad_is_noted_not_rejected():
    ad = make_ad({"site": "a", "id": "1"})
    assert ad.text == ""
    assert "empty ad: no title or text" in ad.notes


def test_invalid_record_names_every_problem():
    with pytest.raises(InvalidInput) as error:
        make_ad({"text": 5.5j, "posted_at": "yesterday", "image_hashes": ["zz"]})
    message = str(error.value)
    for part in ("site is missing", "id is missing", "text must be a string", "posted_at",
                 "image hash"):
        assert part in message


def test_jsonl_streams_in_parts_with_file_line_numbers_and_duplicates_across_parts():
    lines = [json.dumps({"site": "a", "id": str(i % 7), "text": "Ironing"}).encode()
             for i in range(10)]
    lines.insert(5, b"{broken")
    parts = list(iter_jsonl(lines, chunk=3))
    assert len(parts) > 2
    assert [ad.ad_id for part in parts for ad in part.ads] == [str(i) for i in range(7)]
    assert [e.line for part in parts for e in part.errors] == [6]
    assert sum(part.duplicates for part in parts) == 3
