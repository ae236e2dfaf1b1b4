"""Loaders for training and evaluation data the operator has: PAN 2012 XML, predator-list
files, and conversations as JSON lines.

PAN 2012 (Sexual Predator Identification) ships one XML file per split:
``<conversations><conversation id="…"><message line="1"><author>…</author><time>03:20</time>
<text>…</text></message>…</conversation>…</conversations>`` and a text file of predator ids,
one a line. The XML is large (155,128 conversations in the test split), so it is streamed with
lxml's ``iterparse``: each conversation is yielded and its elements freed before the next is
read, so memory stays flat whatever the file size. Entities are never expanded and nothing is
fetched (``resolve_entities=False``, ``no_network``, no DTD); a file declaring a DOCTYPE or
ENTITY is refused outright, since PAN files have none. The message text in PAN is HTML-escaped
before XML escaping (``&amp;lt;3``), so after the XML layer we unescape HTML once.
The data is restricted (by request to the PAN organisers): the project loads it, never ships it.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from safeguard.conversations.scoring import ChatMessage
from safeguard.errors import InvalidInput
from safeguard.jsonlines import read_json_lines

_SNIFF_BYTES = 64 * 1024
MAX_ID_LINE = 1_000


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    messages: tuple[ChatMessage, ...]

    @property
    def authors(self) -> frozenset[str]:
        return frozenset(m.author for m in self.messages)


def _refuse_dtd(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc
    upper = head.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise InvalidInput(f"{path}: DOCTYPE/ENTITY declarations are refused (PAN 2012 files "
                           "have none; entities are never expanded)")


def _text(elem: etree._Element | None) -> str:
    if elem is None:
        return ""
    raw = "".join(elem.itertext())
    return html.unescape(raw) if "&" in raw else raw


def iter_pan_xml(path: Path) -> Iterator[Conversation]:
    """Stream the conversations of a PAN 2012 XML file, one at a time."""
    _refuse_dtd(path)
    context = etree.iterparse(str(path), events=("end",), tag="conversation",
                              resolve_entities=False, no_network=True, load_dtd=False,
                              dtd_validation=False, huge_tree=False, remove_comments=True,
                              remove_pis=True)
    n = 0
    try:
        for _, elem in context:
            n += 1
            if n == 1 and (elem.getroottree().docinfo.doctype
                           or elem.getroottree().docinfo.internalDTD is not None):
                # a DOCTYPE hidden after a long prolog comment: refused here as well
                raise InvalidInput(f"{path}: DOCTYPE/ENTITY declarations are refused (PAN "
                                   "2012 files have none; entities are never expanded)")
            conv_id = elem.get("id") or f"#{n}"
            messages = []
            for i, m in enumerate(elem.iterfind("message")):
                author = _text(m.find("author")).strip()
                if not author:
                    raise InvalidInput(f"{path}: conversation {conv_id}, message {i + 1}: "
                                       "no author")
                time = _text(m.find("time")).strip() or None
                line = m.get("line") or str(i + 1)
                messages.append(ChatMessage(author, _text(m.find("text")),
                                            _pan_time(time), id=f"{conv_id}:{line}"))
            yield Conversation(conv_id, tuple(messages))
            # free what was parsed so far: memory stays flat on a multi-gigabyte file
            elem.clear()
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"{path}: malformed XML (line {exc.lineno}): {exc.msg}") from exc
    if n == 0:
        raise InvalidInput(f"{path}: no <conversation> elements")


def _pan_time(value: str | None) -> float | None:
    """PAN writes HH:MM (no date): seconds since midnight, or None if unreadable."""
    if not value:
        return None
    hh, sep, mm = value.partition(":")
    if sep and hh.isdigit() and mm[:2].isdigit() and int(hh) < 24 and int(mm[:2]) < 60:
        return int(hh) * 3600.0 + int(mm[:2]) * 60.0
    return None  # an impossible time is dropped, not guessed


def read_id_list(path: Path) -> frozenset[str]:
    """A predator-list file: one author id per line (blank lines and ``#`` comments skipped)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    ids = set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_ID_LINE or any(c.isspace() for c in line):
            raise InvalidInput(f"{path}:{n}: expected one author id per line")
        ids.add(line)
    return frozenset(ids)


def iter_jsonl_conversations(path: Path, notes: list[str] | None = None
                             ) -> Iterator[Conversation]:
    """Conversations from JSON lines, one message a line (``conversation``, ``author``,
    ``text``, optional ``time``/``to``/``id``). Messages of a conversation must be
    contiguous (a conversation that reappears later is an error, so that the file can be
    streamed without holding every conversation in memory). A line that is not UTF-8 is
    decoded as Windows-1252 / Latin-1 and said in `notes` (at most 100 kept)."""
    current: str | None = None
    messages: list[ChatMessage] = []
    done: set[str] = set()
    for line in read_json_lines(path):
        n = line.number
        if line.note is not None and notes is not None and len(notes) < 100:
            notes.append(f"{path}:{n}: {line.note}")
        if line.value is None:
            raise InvalidInput(f"{path}:{n}: {line.error}")
        conv = str(line.value.get("conversation", "default"))
        msg = ChatMessage.from_mapping(line.value, n)
        if conv != current:
            if current is not None:
                done.add(current)
                yield Conversation(current, tuple(messages))
            if conv in done:
                raise InvalidInput(f"{path}:{n}: conversation {conv!r} appears again after "
                                   "other conversations; keep its lines together")
            current, messages = conv, []
        messages.append(msg)
    if current is not None:
        yield Conversation(current, tuple(messages))


def group_jsonl_messages(path: Path) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Messages from JSON lines grouped by ``conversation`` (default ``"default"``), whose
    lines may be anywhere in the file, and a problem per line: bad lines are skipped
    ("line 3: not valid JSON: …"), guessed encodings kept and said ("… (kept)"). For scoring
    a file as it is; training and evaluation use the strict `iter_jsonl_conversations`."""
    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    problems: list[str] = []
    for line in read_json_lines(path):
        if line.note is not None:
            problems.append(f"line {line.number}: {line.note} (kept)")
        if line.value is None:
            problems.append(f"line {line.number}: {line.error}")
            continue
        conversations[str(line.value.get("conversation", "default"))].append(line.value)
    return dict(conversations), problems


def iter_conversations(path: Path, notes: list[str] | None = None
                       ) -> Iterator[Conversation]:
    """PAN XML (``.xml``) or JSON lines (anything else), by file name."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory; give a .xml or .jsonl file")
    if path.suffix.lower() == ".xml":
        return iter_pan_xml(path)
    return iter_jsonl_conversations(path, notes)


# -------------------------------------------------------------------- the official PAN split
PAN_FILES = {
    "train_xml": "*training-corpus-*.xml",
    "train_predators": "*training-corpus-predators*.txt",
    "test_xml": "*test-corpus-*.xml",
    "test_predators": "*groundtruth-problem1*.txt",
}


@dataclass(frozen=True)
class PanSplit:
    train_xml: Path
    train_predators: Path
    test_xml: Path
    test_predators: Path


def find_pan_split(directory: Path) -> PanSplit:
    """The four files of PAN 2012's official split under `directory` (any depth), by their
    published names (``pan12-sexual-predator-identification-training-corpus-2012-05-01.xml``,
    ``…-training-corpus-predators-2012-05-01.txt``, ``…-test-corpus-2012-05-17.xml``,
    ``…-groundtruth-problem1.txt``)."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory")
    found: dict[str, Path] = {}
    missing = []
    for key, pattern in PAN_FILES.items():
        hits = sorted(p for p in directory.rglob(pattern) if p.is_file())
        if len(hits) > 1:
            raise InvalidInput(f"{directory}: several files match {pattern}: "
                               + ", ".join(str(h) for h in hits[:5]))
        if not hits:
            missing.append(pattern)
        else:
            found[key] = hits[0]
    if missing:
        raise InvalidInput(f"{directory}: PAN 2012 files not found: {', '.join(missing)} "
                           "(the official training and test corpora and their predator lists)")
    return PanSplit(**found)
