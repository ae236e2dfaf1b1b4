"""PAN 2012 XML, predator lists and JSON lines: streamed, strict about what they refuse.
All test data is synthetic and non-explicit, written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.conversations.loaders import (
    find_pan_split,
    iter_conversations,
    iter_jsonl_conversations,
    iter_pan_xml,
    read_id_list,
)
from safeguard.errors import InvalidInput


def pan_xml(conversations: list[tuple[str, list[tuple[str, str, str]]]]) -> str:
    """A PAN-format file; texts are HTML-escaped and then XML-escaped, as in PAN 2012."""
    from html import escape

    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<conversations>"]
    for cid, messages in conversations:
        out.append(f'<conversation id="{cid}">')
        for i, (author, time, text) in enumerate(messages, 1):
            body = escape(escape(text, quote=False), quote=False)
            out.append(f'<message line="{i}"><author>{author}</author><time>{time}</time>'
                       f"<text>{body}</text></message>")
        out.append("</conversation>")
    out.append("</conversations>")
    return "\n".join(out)


SAMPLE = [("c1", [("a1", "03:20", "hi <3 how r u"), ("b2", "03:21", "fine & u?")]),
          ("c2", [("a1", "10:00", "did u see the game")])]


def test_pan_xml_is_read_with_html_unescaped(tmp_path: Path) -> None:
    path = tmp_path / "train.xml"
    path.write_text(pan_xml(SAMPLE))
    assert "&amp;lt;3" in path.read_text()  # double-escaped on disk, as PAN ships it
    convs = list(iter_pan_xml(path))
    assert [c.id for c in convs] == ["c1", "c2"]
    first = convs[0].messages
    assert first[0].text == "hi <3 how r u" and first[1].text == "fine & u?"
    assert first[0].author == "a1" and first[0].time == 3 * 3600 + 20 * 60
    assert first[1].id == "c1:2" and convs[0].authors == {"a1", "b2"}


def test_pan_xml_is_streamed_not_loaded_whole(tmp_path: Path) -> None:
    # the second conversation is broken: the first one is delivered before the error,
    # which a loader that parses the whole file first could not do
    path = tmp_path / "big.xml"
    # a long valid conversation after the first puts the broken part far beyond lxml's read
    # buffer, so a streaming parser has delivered c1 before it reads that part
    filler = ("c2", [("a1", "03:20", f"message number {i}") for i in range(5000)])
    path.write_text(pan_xml([SAMPLE[0], filler]).replace("</conversations>", "")
                    + '<conversation id="c9"><message line="1"><author>x</author>'
                      "<text>unclosed</message></conversation></conversations>")
    stream = iter_pan_xml(path)
    assert next(stream).id == "c1"
    with pytest.raises(InvalidInput, match=r"malformed XML \(line \d+\)"):
        next(stream)


def test_malformed_xml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<conversations><conversation id='1'><message>")
    with pytest.raises(InvalidInput, match="malformed XML"):
        list(iter_pan_xml(path))
    path.write_text("<conversations></conversations>")
    with pytest.raises(InvalidInput, match="no <conversation>"):
        list(iter_pan_xml(path))
    path.write_text("<conversations><conversation id='1'><message line='1'><text>hi</text>"
                    "</message></conversation></conversations>")
    with pytest.raises(InvalidInput, match="no author"):
        list(iter_pan_xml(path))


LAUGHS = ('<!DOCTYPE conversations [<!ENTITY a "AAAAAAAAAA">'
          '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
          '<conversations><conversation id="1"><message line="1"><author>x</author>'
          "<text>&c;</text></message></conversation></conversations>")


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "laughs.xml"
    path.write_text(LAUGHS)
    with pytest.raises(InvalidInput, match="DOCTYPE/ENTITY declarations are refused"):
        list(iter_pan_xml(path))
    # hidden behind a long prolog comment (past the quick sniff): still refused, never expanded
    path.write_text("<!--" + "x" * 100_000 + "-->" + LAUGHS)
    with pytest.raises(InvalidInput, match="refused"):
        list(iter_pan_xml(path))
    # an external entity is refused the same way (and nothing is fetched)
    path.write_text('<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    "<conversations><conversation id='1'><message><author>a</author>"
                    "<text>&x;</text></message></conversation></conversations>")
    with pytest.raises(InvalidInput, match="refused"):
        list(iter_pan_xml(path))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_pan_loader_never_crashes_on_garbage(tmp_path: Path, garbage: str) -> None:
    path = tmp_path / "fuzz.xml"
    path.write_text("<conversations><conversation id='1'><message line='1'><author>a</author>"
                    "<text>" + garbage + "</text></message></conversation></conversations>",
                    encoding="utf-8")
    try:
        convs = list(iter_pan_xml(path))
    except InvalidInput:
        return
    assert len(convs) == 1 and isinstance(convs[0].messages[0].text, str)


def test_predator_list(tmp_path: Path) -> None:
    path = tmp_path / "predators.txt"
    path.write_bytes("\ufeffabc123\n\n# a comment\n  def456  \n".encode())
    assert read_id_list(path) == {"abc123", "def456"}
    path.write_text("abc 123\n")
    with pytest.raises(InvalidInput, match=r"predators.txt:1: expected one author id"):
        read_id_list(path)
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_id_list(path)
    with pytest.raises(InvalidInput, match="cannot read"):
        read_id_list(tmp_path / "missing.txt")


@given(st.text(max_size=200))
def test_id_list_parser_never_crashes(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ids.txt"
        path.write_text(text, encoding="utf-8")
        try:
            ids = read_id_list(path)
        except InvalidInput:
            return
        assert all(i and not any(c.isspace() for c in i) for i in ids)


def test_jsonl_conversations(tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    lines = [{"conversation": "x", "author": "a", "text": "hi"},
             {"conversation": "x", "author": "b", "text": "hey", "time": "2024-05-01T10:00Z"},
             {"conversation": "y", "author": "a", "text": "gg"}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    convs = list(iter_conversations(path))
    assert [(c.id, len(c.messages)) for c in convs] == [("x", 2), ("y", 1)]
    path.write_text("\n".join(json.dumps(line) for line in [*lines, lines[0]]))
    with pytest.raises(InvalidInput, match="appears again"):
        list(iter_jsonl_conversations(path))
    path.write_text('{"conversation": "x", "author": "a"}\nnot json\n')
    with pytest.raises(InvalidInput, match=r"chats.jsonl:2: not valid JSON"):
        list(iter_jsonl_conversations(path))
    path.write_text('{"conversation": "x", "text": "hi"}\n')
    with pytest.raises(InvalidInput, match="'author' is required"):
        list(iter_jsonl_conversations(path))
    with pytest.raises(InvalidInput, match="is a directory"):
        iter_conversations(tmp_path)


OFFICIAL = ["pan12-sexual-predator-identification-training-corpus-2012-05-01.xml",
            "pan12-sexual-predator-identification-training-corpus-predators-2012-05-01.txt",
            "pan12-sexual-predator-identification-test-corpus-2012-05-17.xml",
            "pan12-sexual-predator-identification-groundtruth-problem1.txt"]


def test_official_split_is_found_by_name(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    for name in OFFICIAL:
        (tmp_path / ("train" if "training" in name else "test") / name).write_text("")
    split = find_pan_split(tmp_path)
    assert split.train_xml.name == OFFICIAL[0] and split.train_predators.name == OFFICIAL[1]
    assert split.test_xml.name == OFFICIAL[2] and split.test_predators.name == OFFICIAL[3]
    (tmp_path / "test" / OFFICIAL[3]).unlink()
    with pytest.raises(InvalidInput, match="groundtruth-problem1"):
        find_pan_split(tmp_path)
    with pytest.raises(InvalidInput, match="not a directory"):
        find_pan_split(tmp_path / "nowhere")
