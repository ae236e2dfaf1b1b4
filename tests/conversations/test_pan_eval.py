"""`evaluate --pan-dir` on a small synthetic, non-explicit corpus in PAN 2012's format and file
names (the real corpus is restricted and never shipped)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.conversations.classifier import Classifier
from safeguard.conversations.normalize import default_normalizer
from safeguard.conversations.pan_eval import evaluate_pan, window_flags
from safeguard.errors import InvalidInput
from tests.conversations.test_loaders import OFFICIAL, pan_xml

OFFENDER = ["how old are you", "are your parents home", "dont tell anyone about us",
            "add me on snap", "you are so mature", "where do you live", "r u alone"]
ORDINARY = ["gg", "did you do the homework", "see you at practice", "lol that was funny",
            "what time is the bus", "my dog ate my sock", "nice goal today", "brb dinner"]


def write_split(root: Path, seed: int = 1) -> tuple[set[str], set[str]]:
    rng = random.Random(seed)
    predators: dict[str, set[str]] = {"train": set(), "test": set()}
    for split, n in (("train", 60), ("test", 30)):
        convs = []
        for c in range(n):
            bad = c % 5 == 0
            a, b = f"{split}{c}a", f"{split}{c}b"
            if bad:
                predators[split].add(a)
            msgs = []
            for i in range(rng.randint(12, 70)):
                author = a if i % 2 == 0 else b
                late_enough = i >= 6  # the pattern starts after a few ordinary lines
                pool = OFFENDER if bad and author == a and late_enough else ORDINARY
                msgs.append((author, f"{i // 60:02d}:{i % 60:02d}", rng.choice(pool)))
            convs.append((f"{split}-{c}", msgs))
        name = OFFICIAL[0] if split == "train" else OFFICIAL[2]
        (root / name).write_text(pan_xml(convs))
        ids = OFFICIAL[1] if split == "train" else OFFICIAL[3]
        (root / ids).write_text("\n".join(sorted(predators[split])) + "\n")
    return predators["train"], predators["test"]


def test_evaluate_pan_trains_on_training_split_and_measures_the_test_split(tmp_path: Path
                                                                            ) -> None:
    _, test_predators = write_split(tmp_path)
    ticks: dict[str, int] = {}

    def progress(phase: str, n: int) -> None:
        ticks[phase] = ticks.get(phase, 0) + n

    result = evaluate_pan(tmp_path, epochs=120, skepticism=(1, 5), progress=progress)
    assert result.training is not None and result.training.positives == 12
    assert ticks == {"reading training conversations": 60, "training": 120,
                     "scoring test conversations": 30}
    assert result.conversations == 30 and result.positives == 6
    assert result.predators == len(test_predators) == 6 and result.authors == 60
    ident = result.identification["classifier"]
    assert ident["tp"] + ident["fn"] == 6
    assert ident["f05"] > 0.8  # the synthetic pattern is easy: this checks the plumbing
    assert set(result.identification) == {"classifier", "all layers (warnings)"}
    lenient, strict = result.early["classifier windows, s=1"], \
        result.early["classifier windows, s=5"]
    assert lenient["tp"] + lenient["fn"] == 6 and lenient["median_latency"] is not None
    # a more sceptical warning never comes earlier
    assert strict["median_latency"] is None or strict["median_latency"] >= \
        lenient["median_latency"]
    assert 0 <= lenient["speed"] <= 1
    assert lenient["f_latency"] == pytest.approx(lenient["f1"] * lenient["speed"])
    native = result.early["all layers: first warning"]
    assert native["conversations"] == 30


def test_window_forgets_what_left_it() -> None:
    # a model that likes one word: after 50 ordinary messages the window is clean again
    import numpy as np

    from safeguard.conversations.classifier import slot
    from safeguard.conversations.loaders import Conversation
    from safeguard.conversations.scoring import ChatMessage

    weights = np.zeros(1 << 18, np.float32)
    weights[slot("alone")] = 40.0
    model = Classifier(weights, -2.0)
    msgs = [ChatMessage("A", "r u alone")] + [ChatMessage("A", "ok")] * 60
    flags = window_flags(Conversation("x", tuple(msgs)), model, default_normalizer())
    assert flags[0] and flags[10] and not flags[50] and not flags[-1]


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="PAN 2012 files not found"):
        evaluate_pan(tmp_path)


def test_cli_evaluate_pan_dir_and_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    from safeguard.cli.main import app
    from safeguard.config import get_settings

    write_split(tmp_path)
    monkeypatch.setenv("SAFEGUARD_CONVERSATIONS_EMBEDDING", "none")
    get_settings.cache_clear()
    runner = CliRunner()
    model = tmp_path / "model.json"
    trained = runner.invoke(app, ["conversations", "train", str(tmp_path / OFFICIAL[0]),
                                  str(tmp_path / OFFICIAL[1]), "-o", str(model),
                                  "--epochs", "80"])
    assert trained.exit_code == 0, trained.output
    assert "trained on 120 author-conversations (12 offender)" in trained.stdout
    out = runner.invoke(app, ["conversations", "evaluate", "--pan-dir", str(tmp_path),
                              "--model", str(model), "--skepticism", "3"])
    assert out.exit_code == 0, out.output
    assert "Predator identification" in out.stdout and "s=3" in out.stdout
    assert "30 conversations" in out.stdout
    bad = runner.invoke(app, ["conversations", "evaluate", "--pan-dir", str(tmp_path),
                              "--skepticism", "11"])
    assert bad.exit_code == 1 and "skepticism must be 1..10" in bad.stderr
    lone = runner.invoke(app, ["conversations", "evaluate", "--model", str(model)])
    assert lone.exit_code == 1 and "--pan-dir" in lone.stderr
    wrong = runner.invoke(app, ["conversations", "train", str(tmp_path / OFFICIAL[0]),
                                str(tmp_path / OFFICIAL[1]), "-o", str(tmp_path / "m.pkl")])
    assert wrong.exit_code == 1 and "JSON" in wrong.stderr
    get_settings.cache_clear()
