"""Watching JSON lines: several conversations at once, bad lines reported and skipped, bounded."""

from __future__ import annotations

import json

from safeguard.conversations.stream import watch_jsonl


def line(conv: str, author: str, text: str, **kw: object) -> str:
    return json.dumps({"conversation": conv, "author": author, "text": text, **kw})


def test_interleaved_conversations_are_kept_apart() -> None:
    lines = [
        line("c1", "A", "how old are you"), line("c2", "A", "ur so mature"),
        line("c1", "A", "ur so mature"), line("c2", "A", "hi"),
        line("c1", "A", "dont tell anyone about us"),
        line("c2", "A", "dont tell anyone, surprise party!"),
    ]
    events = list(watch_jsonl(lines))
    warned = [(e["conversation"], e["index"]) for e in events if e.get("warning")]
    assert warned == [("c1", 2)]
    assert all("text" not in e for e in events)  # message text is never echoed


def test_bad_lines_are_reported_and_skipped() -> None:
    lines = ["{not json", json.dumps([1, 2]), json.dumps({"text": "no author"}), "",
             line("c", "A", "hi", time="not a time"), line("c", "A", "hello")]
    events = list(watch_jsonl(lines))
    errors = [(e["line"], e["error"]) for e in events if e["event"] == "error"]
    assert [n for n, _ in errors] == [1, 2, 3, 5]
    assert "'author' is required" in errors[2][1]
    assert [e["event"] for e in events][-1] == "message"


def test_watched_conversations_are_bounded() -> None:
    lines = [line(f"c{i}", "A", "hi") for i in range(10)]
    events = list(watch_jsonl(lines, max_conversations=3))
    evicted = [e["conversation"] for e in events if e["event"] == "evicted"]
    assert evicted == [f"c{i}" for i in range(7)]
