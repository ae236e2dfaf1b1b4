"""`safeguard conversations score|watch|train|train-tactics|evaluate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from safeguard.cli.common import cli_actor, console, err_console, friendly_errors, open_db
from safeguard.config import get_settings
from safeguard.conversations.classifier import Classifier, documents_from, train
from safeguard.conversations.evaluate import SPLITS, evaluate_splits
from safeguard.conversations.layers import Layers, layers_for
from safeguard.conversations.loaders import (
    group_jsonl_messages,
    iter_conversations,
    iter_pan_xml,
    read_id_list,
)
from safeguard.conversations.pan_eval import SKEPTICISM, evaluate_pan
from safeguard.conversations.scoring import ScoringConfig
from safeguard.conversations.service import score_and_raise, score_with
from safeguard.conversations.stream import StreamWatcher
from safeguard.errors import InvalidInput

app = typer.Typer(help="Grooming and sextortion risk in conversations.", no_args_is_help=True)
Threshold = Annotated[float, typer.Option(help="Warning threshold (0-1].")]


def _read_conversations(path: Path) -> dict[str, list[Any]]:
    """PAN 2012 XML (``.xml``, streamed) or JSON lines, one message per line with a
    "conversation" field (default "default"; a conversation's lines need not be together)."""
    if path.suffix.lower() == ".xml":
        return {c.id: list(c.messages) for c in iter_pan_xml(path)}
    conversations, problems = group_jsonl_messages(path)
    for problem in problems[:20]:
        err_console.print(("[yellow]note:[/] " if problem.endswith("(kept)")
                           else "[yellow]skipped[/] ") + problem)
    if len(problems) > 20:
        err_console.print(f"[yellow]note:[/] {len(problems) - 20} more lines skipped or "
                          "decoded with a guessed encoding")
    return conversations


@app.command("score")
@friendly_errors
def score(file: Path, threshold: Threshold = 0.5,
          triage: Annotated[bool, typer.Option(
              help="Hand warnings and urgent signals to triage (needs the database).")] = False,
          as_json: Annotated[bool, typer.Option("--json", help="Full reports as JSON lines.")]
          = False) -> None:
    """Score every conversation in FILE (JSON lines, one message a line, or PAN 2012 XML)."""
    config = ScoringConfig(threshold=threshold)
    conversations = _read_conversations(file)
    if not conversations:
        raise InvalidInput(f"{file} holds no messages")
    layers = _layers()
    db = open_db() if triage else None
    table = Table("conversation", "messages", "risk", "warning at", "urgent", "who → whom",
                  "indicators")
    try:
        for conversation_id, messages in conversations.items():
            if db is not None:
                with db.session() as session:
                    report, _ = score_and_raise(
                        session, cli_actor(), conversation_id, messages, config=config,
                        layers=layers, store_text=get_settings().conversations_store_text)
            else:
                report = score_with(layers, messages, config)
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
    layers = _layers()
    watcher = StreamWatcher(ScoringConfig(threshold=threshold), affinity=layers.affinity,
                            classifier=layers.classifier, tactics=layers.tactics)
    for number, line in enumerate(sys.stdin.buffer, 1):
        for event in watcher.feed([line]):
            if "line" in event:
                event["line"] = number
            print(json.dumps(event, ensure_ascii=False), flush=True)


def _layers() -> Layers:
    layers = layers_for(get_settings())
    for note in (*layers.notes, *([] if layers.affinity.available else
                                  [layers.affinity.score("").note])):
        err_console.print(f"[yellow]note:[/] {note}")
    return layers


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=False)


class _Ticker:
    """One Rich task per phase, for loaders whose length is not known in advance."""

    def __init__(self, progress: Progress, totals: dict[str, int | None] | None = None):
        self.progress, self.totals = progress, totals or {}
        self.tasks: dict[str, Any] = {}

    def __call__(self, phase: str, n: int) -> None:
        task = self.tasks.get(phase)
        if task is None:
            task = self.tasks[phase] = self.progress.add_task(phase,
                                                              total=self.totals.get(phase))
        self.progress.advance(task, n)


@app.command("train")
@friendly_errors
def train_cmd(
    data: Annotated[Path, typer.Argument(help="Conversations: PAN 2012 XML (.xml) or JSON "
                                         "lines (one message a line, with 'conversation').")],
    offenders: Annotated[Path, typer.Argument(help="Author ids to learn as offenders, one a "
                                              "line (PAN 2012's predator list).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write (.json).")]
    = Path("var/conversations-model.json"),
    epochs: Annotated[int, typer.Option(min=1, max=10_000, help="Training passes.")] = 300,
) -> None:
    """Train the layer-3 classifier on your own labelled conversations (the file is streamed).
    Point SAFEGUARD_CONVERSATIONS_MODEL at the result to use it when scoring."""
    labels = read_id_list(offenders)
    if not labels:
        raise InvalidInput(f"{offenders} names no author")
    if output.suffix.lower() != ".json":
        raise InvalidInput("the model is written as JSON: give an --output ending in .json")
    with _progress() as progress:
        tick = _Ticker(progress, {"training": epochs})
        notes: list[str] = []
        docs, y, _ = documents_from(iter_conversations(data, notes), labels,
                                    progress=lambda n: tick("reading conversations", n))
        model, report = train(docs, y, epochs=epochs, progress=lambda n: tick("training", n))
    for note in notes:
        err_console.print(f"[yellow]note:[/] {note}")
    output.parent.mkdir(parents=True, exist_ok=True)
    model.meta["source"] = data.name
    model.save(output)
    console.print(f"trained on {report.documents:,} author-conversations "
                  f"({report.positives:,} offender); training precision "
                  f"{report.train_precision:.2f}, recall {report.train_recall:.2f} (optimistic: "
                  f"measured on the training data). Saved to {output}.")


@app.command("train-tactics")
@friendly_errors
def train_tactics_cmd(
    examples: Annotated[list[Path] | None, typer.Argument(
        help="Example files, <label><TAB><message> a line (default: the shipped ones in "
        "safeguard/conversations/data/families/). Add your own beside them to extend.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write (.npz).")]
    = Path("var/tactics.npz"),
    epochs: Annotated[int, typer.Option(min=1, max=5_000, help="Training passes.")] = 200,
) -> None:
    """Train the tactic model (layer 2b) on example messages labelled with a tactic family or
    'none'. Point SAFEGUARD_CONVERSATIONS_TACTICS_MODEL at the result to use it."""
    from safeguard.conversations.indicators import default_matcher
    from safeguard.conversations.normalize import normalize
    from safeguard.conversations.tactics import train_from_files, training_files

    paths = examples or training_files()
    if output.suffix.lower() != ".npz":
        raise InvalidInput("the tactic model is written as .npz: give an --output ending in .npz")
    families = [f.name for f in default_matcher().lexicon.families]
    with _progress() as progress:
        task = progress.add_task("training", total=epochs)
        model, report = train_from_files(paths, families, lambda t: normalize(t).tokens,
                                         epochs=epochs,
                                         progress=lambda n: progress.advance(task, n))
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.per_class.items()))
    console.print(f"trained on {report.examples:,} messages ({counts}); training accuracy "
                  f"{report.train_accuracy:.3f} (optimistic: measured on the training data). "
                  f"Saved to {output}.")


@app.command("evaluate")
@friendly_errors
def evaluate(
    threshold: Threshold = 0.5,
    pan_dir: Annotated[Path | None, typer.Option(
        help="Directory holding the PAN 2012 corpora (official training and test files and "
             "their predator lists): evaluate on them instead of the project's set.")] = None,
    model: Annotated[Path | None, typer.Option(
        help="With --pan-dir: a trained model to evaluate instead of training one on PAN's "
             "training split.")] = None,
    skepticism: Annotated[list[int] | None, typer.Option(
        help="With --pan-dir: skepticism values s (1-10) of the early-detection protocol; "
             "repeat the option for several.")] = None,
    watcher: Annotated[bool, typer.Option(
        help="With --pan-dir: also run the full scorer (all layers) on every test "
             "conversation.")] = True,
) -> None:
    """Precision, recall, F0.5, F1 and warning latency: on the project's non-explicit
    evaluation set (dev and held-out halves), or on PAN 2012 with --pan-dir."""
    if pan_dir is not None:
        _evaluate_pan(pan_dir, model, tuple(skepticism or SKEPTICISM), watcher, threshold)
        return
    if model is not None or skepticism:
        raise InvalidInput("--model and --skepticism go with --pan-dir")
    layers = _layers()
    results = evaluate_splits(SPLITS, ScoringConfig(threshold=threshold), layers=layers)
    table = Table("split", "conversations", "precision", "recall", "F0.5", "F1",
                  "median latency (messages)", "F latency")
    for split, result in results.items():
        m = result.metrics()
        table.add_row(split, str(m["conversations"]), f"{m['precision']:.2f}",
                      f"{m['recall']:.2f}", f"{m['f05']:.2f}", f"{m['f1']:.2f}",
                      "" if m["median_latency"] is None else f"{m['median_latency']:g}",
                      f"{m['f_latency']:.2f}")
    console.print(table)


def _evaluate_pan(directory: Path, model_path: Path | None, skepticism: tuple[int, ...],
                  watcher: bool, threshold: float) -> None:
    for s in skepticism:
        if not 1 <= s <= 10:
            raise InvalidInput(f"skepticism must be 1..10, got {s}")
    model = Classifier.load(model_path) if model_path is not None else None
    layers = _layers() if watcher else None
    with _progress() as progress:
        result = evaluate_pan(directory, model,
                              affinity=layers.affinity if layers else None,
                              tactics=layers.tactics if layers else None,
                              config=ScoringConfig(threshold=threshold),
                              skepticism=skepticism, watcher=watcher,
                              progress=_Ticker(progress))
    console.print(f"PAN 2012 test split: {result.conversations:,} conversations, "
                  f"{result.messages:,} messages, {result.authors:,} authors, "
                  f"{result.predators:,} predators present, {result.positives:,} conversations "
                  "with a predator")
    ident = Table("predator identification", "precision", "recall", "F0.5", "F1", "TP", "FP",
                  "FN", title="Predator identification (official split)")
    for name, m in result.identification.items():
        ident.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f05']:.3f}",
                      f"{m['f1']:.3f}", str(m["tp"]), str(m["fp"]), str(m["fn"]))
    console.print(ident)
    early = Table("early detection", "precision", "recall", "F1", "median latency", "speed",
                  "F latency", title="Early detection (Vogt et al. 2021: 50-message window, "
                  "warning when >= s of the last 10 windows are positive)")
    for name, m in result.early.items():
        early.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                      "" if m["median_latency"] is None else f"{m['median_latency']:g}",
                      f"{m['speed']:.3f}", f"{m['f_latency']:.3f}")
    console.print(early)
