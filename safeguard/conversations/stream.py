"""Watching many conversations at once from a stream of JSON lines (what
``safeguard conversations watch`` and a streaming endpoint will call).

Each line is one message: ``{"conversation": "c1", "author": "u1", "text": "...",
"time": "2024-05-01T10:00:00Z", "to": "u2", "id": "m9"}`` (``conversation`` defaults to
``"default"``; ``time``, ``to`` and ``id`` are optional). For each line the generator yields one
event: ``{"event": "message", ...}`` with the message's score, plus ``"warning"`` and
``"urgent"`` objects when raised, or ``{"event": "error", "line": n, "error": "..."}`` for a bad
line (which is skipped: one bad line never stops the stream). Message text is never echoed.
At most ``max_conversations`` watchers are kept; the least recently active one is dropped
beyond that, with an ``{"event": "evicted"}`` notice, so memory stays bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from safeguard.conversations.affinity import AffinityLike
from safeguard.conversations.classifier import Classifier
from safeguard.conversations.indicators import IndicatorMatcher, default_matcher
from safeguard.conversations.scoring import ChatMessage, ConversationWatcher, ScoringConfig
from safeguard.conversations.tactics import TacticModel
from safeguard.errors import InvalidInput
from safeguard.jsonlines import iter_json_lines

MAX_LINE_BYTES = 4 * 1024 * 1024


class StreamWatcher:
    def __init__(self, config: ScoringConfig | None = None,
                 matcher: IndicatorMatcher | None = None,
                 affinity: AffinityLike | None = None, max_conversations: int = 100_000,
                 classifier: Classifier | None = None, tactics: TacticModel | None = None):
        if max_conversations < 1:
            raise InvalidInput("max_conversations must be at least 1")
        self.config = config or ScoringConfig()
        self.matcher = matcher or default_matcher()
        self.affinity = affinity
        self.classifier = classifier
        self.tactics = tactics
        self.max_conversations = max_conversations
        self._watchers: OrderedDict[str, ConversationWatcher] = OrderedDict()

    def __len__(self) -> int:
        return len(self._watchers)

    def push(self, conversation: str, msg: ChatMessage) -> tuple[dict[str, Any], list[str]]:
        evicted: list[str] = []
        watcher = self._watchers.get(conversation)
        if watcher is None:
            watcher = ConversationWatcher(self.config, self.matcher, self.affinity,
                                          self.classifier, self.tactics)
            self._watchers[conversation] = watcher
            while len(self._watchers) > self.max_conversations:
                evicted.append(self._watchers.popitem(last=False)[0])
        else:
            self._watchers.move_to_end(conversation)
        scored = watcher.push(msg)
        event: dict[str, Any] = {"event": "message", "conversation": conversation,
                                 "message_id": msg.id, **scored.as_dict()}
        return event, evicted

    def feed(self, lines: Iterable[str | bytes]) -> Iterator[dict[str, Any]]:
        for line in iter_json_lines(lines, max_line_bytes=MAX_LINE_BYTES):
            if line.value is None:
                yield {"event": "error", "line": line.number, "error": line.error}
                continue
            try:
                conversation = str(line.value.get("conversation", "default"))
                msg = ChatMessage.from_mapping(line.value, line.number)
            except ValueError as exc:
                yield {"event": "error", "line": line.number, "error": str(exc)}
                continue
            event, evicted = self.push(conversation, msg)
            if line.note is not None:  # the encoding had to be guessed: say so, never silently
                event["notes"] = [f"line {line.number}: {line.note}",
                                  *event.get("notes", [])]
            for gone in evicted:
                yield {"event": "evicted", "conversation": gone,
                       "reason": f"more than {self.max_conversations:,} conversations watched"}
            yield event


def watch_jsonl(lines: Iterable[str | bytes], config: ScoringConfig | None = None,
                max_conversations: int = 100_000) -> Iterator[dict[str, Any]]:
    """Events for a stream of JSON-lines messages (see module docstring)."""
    return StreamWatcher(config, max_conversations=max_conversations).feed(lines)
