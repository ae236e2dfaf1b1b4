"""`safeguard conversations score|watch|evaluate`."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from safeguard.cli.common import cli_actor, console, err_console, friendly_errors, open_db
from safeguard.conversations.evaluate import SPLITS, evaluate_splits
from safeguard.conversations.scoring import ScoringConfig, score_conversation
from safeguard.conversations.service import score_and_raise
from safeguard.conversations.stream import StreamWatcher
from safeguard.errors import InvalidInput

app = typer.Typer(help="Grooming and sextortion risk in conversations.", no_args_is_help=True)
Threshold = Annotated[float, typer.Option(help="Warning threshold (0-1].")]


def _read_conversations(path: Path) -> dict[str, list[dict[str, Any]]]:
    """JSON lines, one message per line with a "conversation" field (default "default")."""
    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    problems = []
    with path.open("rb") as handle:
        for n, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                message = json.loads(raw.decode("utf-8", errors="replace"))
                if not isinstance(message, dict):
                    raise ValueError("expected a JSON object")
            except ValueError as exc:
                problems.append(f"line {n}: {exc}")
                continue
            conversations[str(message.get("conversation", "default"))].append(message)
    for problem in problems[:20]:
        err_console.print(f"[yellow]skipped[/] {problem}")
    if len(problems) > 20:
        err_console.print(f"[yellow]skipped[/] {len(problems) - 20} more bad lines")
    return conversations


@app.command("score")
@friendly_errors
def score(file: Path, threshold: Threshold = 0.5,
          triage: Annotated[bool, typer.Option(
              help="Hand warnings and urgent signals to triage (needs the database).")] = False,
          as_json: Annotated[bool, typer.Option("--json", help="Full reports as JSON lines.")]
          = False) -> None:
    """Score every conversation in FILE (JSON lines, one message a line)."""
    config = ScoringConfig(threshold=threshold)
    conversations = _read_conversations(file)
    if not conversations:
        raise InvalidInput(f"{file} holds no messages")
    db = open_db() if triage else None
    table = Table("conversation", "messages", "risk", "warning at", "urgent", "who → whom",
                  "indicators")
    try:
        for conversation_id, messages in conversations.items():
            if db is not None:
                with db.session() as session:
                    report, _ = score_and_raise(session, cli_actor(), conversation_id,
                                                messages, config=config)
            else:
                report = score_conversation(messages, config)
            if as_json:
                print(json.dumps({"conversation": conversation_id,
                                  **report.as_dict(include_messages=False)}))
                continue
            top = report.pairs[0] if report.pairs else None
            table.add_row(conversation_id, str(len(messages)), f"{report.risk:.2f}",
                          "" if report.warning_index is None else str(report.warning_index),
                          ", ".join(sorted({w.kind for w in report.urgent})),
                          f"{top.author} → {top.target}" if top else "",
                          ", ".join(sorted({r.family for r in top.reasons})) if top else "")
    finally:
        if db is not None:
            db.dispose()
    if not as_json:
        console.print(table)


@app.command("watch")
def watch(threshold: Threshold = 0.5) -> None:
    """Read messages as JSON lines on stdin; write one JSON event per line to stdout as each
    message arrives (scores, warnings with their message index, errors for bad lines)."""
    watcher = StreamWatcher(ScoringConfig(threshold=threshold))
    for number, line in enumerate(sys.stdin.buffer, 1):
        for event in watcher.feed([line]):
            if "line" in event:
                event["line"] = number
            print(json.dumps(event, ensure_ascii=False), flush=True)


@app.command("evaluate")
def evaluate(threshold: Threshold = 0.5) -> None:
    """Precision, recall, F0.5, F1 and warning latency on the project's non-explicit
    evaluation set (dev and held-out halves)."""
    results = evaluate_splits(SPLITS, ScoringConfig(threshold=threshold))
    table = Table("split", "conversations", "precision", "recall", "F0.5", "F1",
                  "median latency (messages)", "F latency")
    for split, result in results.items():
        m = result.metrics()
        table.add_row(split, str(m["conversations"]), f"{m['precision']:.2f}",
                      f"{m['recall']:.2f}", f"{m['f05']:.2f}", f"{m['f1']:.2f}",
                      "" if m["median_latency"] is None else f"{m['median_latency']:g}",
                      f"{m['f_latency']:.2f}")
    console.print(table)
