"""Layer 2b: a tactic model that recognises each grooming tactic in one message without a
listed phrase.

Layer 1 finds a tactic only in the phrasings its lexicon lists, and every fresh evaluation file
showed how much chat falls outside them (docs/conversations.md). This layer learns each family
(age probing ... sextortion threats, plus ``none``) from many varied, hand-written, non-explicit
example messages per language (``data/families/*.txt``: ``<label><TAB><message>``), including
hard negatives that share words with a tactic but do something innocent (a coach's meeting
point, a surprise party, a homework photo).

Features of a message, after the same normaliser as layer 1: its words, word pairs and the
character 3- to 5-grams of each word (so unseen spellings and inflections still share most
features), crc32-hashed into 2^bits slots and L2-normalised. The model is a softmax
regression (one weight row per slot, one column per class) trained in numpy with Adam,
balanced class weights and L2. A prediction names the family, its probability and the words
that pushed it most (each word's own feature, its character n-grams and half of each word pair
it is in), so a moderator sees why.

The model file is a NumPy ``.npz`` read with ``allow_pickle=False`` (loading it cannot run
code); its metadata records the SHA-256 of the training files, so a test can tell when the
shipped model is stale. Rebuild it with ``safeguard conversations train-tactics``.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from safeguard.errors import InvalidInput

FORMAT = "safeguard-conversations-tactics"
VERSION = 1
NONE = "none"
DEFAULT_BITS = 18
TRAINING_DIR = Path(__file__).parent / "data" / "families"
SHIPPED_MODEL = Path(__file__).parent / "data" / "tactics.npz"
MAX_EXAMPLE_CHARS = 2_000
MAX_MODEL_BYTES = 64 * 1024 * 1024
NGRAMS = (3, 4, 5)


@dataclass(frozen=True, slots=True)
class TacticExample:
    label: str
    text: str
    lang: str
    where: str  # file:line, for error messages and explanations


# ---------------------------------------------------------------------- training files
def parse_examples(text: str, lang: str, where: str, labels: Iterable[str]) -> list[
        TacticExample]:
    """``<label><TAB><message>`` lines (``#`` comments, blank lines skipped); every problem is
    named in one error."""
    allowed = set(labels) | {NONE}
    out: list[TacticExample] = []
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        label, sep, body = line.partition("\t")
        label, body = label.strip(), body.strip()
        if not sep:
            problems.append(f"line {n}: expected <label><TAB><message>")
        elif label not in allowed:
            problems.append(f"line {n}: unknown label {label!r}")
        elif not body:
            problems.append(f"line {n}: empty message")
        elif len(body) > MAX_EXAMPLE_CHARS:
            problems.append(f"line {n}: message longer than {MAX_EXAMPLE_CHARS} characters")
        else:
            out.append(TacticExample(label, body, lang, f"{where}:{n}"))
    if problems:
        raise InvalidInput(f"{where}: " + "; ".join(problems[:30])
                           + (f" (and {len(problems) - 30} more)" if len(problems) > 30 else ""))
    return out


def training_files(directory: Path = TRAINING_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.txt") if p.is_file())


def load_examples(paths: Sequence[Path], labels: Iterable[str]) -> list[TacticExample]:
    """Examples from files named ``<lang>.txt`` or ``<lang>-<anything>.txt`` (a second author's
    file beside the first)."""
    labels = list(labels)
    out: list[TacticExample] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read training file {path}: {exc}") from exc
        out.extend(parse_examples(text, path.stem.split("-")[0], path.name, labels))
    if not out:
        raise InvalidInput("no training examples found")
    return out


def files_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------------- features
def token_features(tokens: Sequence[str]) -> tuple[list[str], list[int]]:
    """Feature strings and, for each, the token it belongs to (-1 for a word pair, whose
    credit is split between its two words)."""
    feats: list[str] = []
    owner: list[int] = []
    for i, tok in enumerate(tokens):
        feats.append("w:" + tok)
        owner.append(i)
        padded = f"<{tok}>"
        for n in NGRAMS:
            for j in range(len(padded) - n + 1):
                feats.append("c:" + padded[j:j + n])
                owner.append(i)
    for i in range(len(tokens) - 1):
        feats.append(f"b:{tokens[i]} {tokens[i + 1]}")
        owner.append(-1 - i)
    return feats, owner


def slots(feats: Sequence[str], bits: int) -> np.ndarray:
    mask = (1 << bits) - 1
    return np.fromiter((zlib.crc32(f.encode("utf-8")) & mask for f in feats), np.int64,
                       len(feats))


# ---------------------------------------------------------------------- the model
@dataclass(frozen=True, slots=True)
class TacticPrediction:
    family: str
    probability: float
    words: tuple[str, ...]  # the words that pushed the prediction most, strongest first

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "probability": round(self.probability, 4),
                "words": list(self.words)}


@dataclass
class TacticModel:
    classes: tuple[str, ...]
    weights: np.ndarray  # (2^bits, classes) float32
    bias: np.ndarray  # (classes,) float32
    bits: int = DEFAULT_BITS
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = "tactics"

    def __post_init__(self) -> None:
        self._none = self.classes.index(NONE) if NONE in self.classes else -1

    def probabilities(self, tokens: Sequence[str]) -> np.ndarray:
        feats, _ = token_features(tokens)
        return self._softmax(self._logits(slots(feats, self.bits)))

    def _logits(self, idx: np.ndarray) -> np.ndarray:
        if not idx.size:
            return self.bias.astype(np.float64)
        rows = self.weights[idx]
        return rows.sum(axis=0, dtype=np.float64) / math.sqrt(idx.size) + self.bias

    @staticmethod
    def _softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max())
        return e / e.sum()

    def predict(self, tokens: Sequence[str], explain: int = 3) -> TacticPrediction | None:
        """The most likely tactic of one normalised message, or None when it is ``none``."""
        if not tokens:
            return None
        feats, owner = token_features(tokens)
        idx = slots(feats, self.bits)
        probs = self._softmax(self._logits(idx))
        best = int(np.argmax(probs))
        if best == self._none:
            return None
        # each word's credit towards the winning class, against the "none" class
        col = self.weights[idx, best].astype(np.float64)
        if self._none >= 0:
            col = col - self.weights[idx, self._none]
        credit = np.zeros(len(tokens))
        for value, who in zip(col.tolist(), owner, strict=True):
            if who >= 0:
                credit[who] += value
            else:
                credit[-1 - who] += value / 2
                credit[-who] += value / 2
        order = [i for i in np.argsort(-credit)[: explain] if credit[i] > 0]
        return TacticPrediction(self.classes[best], float(probs[best]),
                                tuple(tokens[i] for i in order))

    # ------------------------------------------------------------------ files
    def save(self, path: Path) -> None:
        meta = {"format": FORMAT, "version": VERSION, "bits": self.bits,
                "classes": list(self.classes), **self.meta}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, weights=self.weights.astype(np.float16), bias=self.bias,
                            meta=np.array(json.dumps(meta, sort_keys=True)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TacticModel:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InvalidInput(f"cannot read tactic model {path}: {exc}") from exc
        if size > MAX_MODEL_BYTES:
            raise InvalidInput(f"{path}: model file larger than {MAX_MODEL_BYTES:,} bytes")
        try:
            with np.load(path, allow_pickle=False) as data:
                weights = np.asarray(data["weights"], dtype=np.float32)
                bias = np.asarray(data["bias"], dtype=np.float32)
                meta = json.loads(str(data["meta"]))
        except Exception as exc:  # whatever numpy cannot read is simply not a model file
            raise InvalidInput(f"{path}: not a tactic model file "
                               f"({type(exc).__name__}: {exc})") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InvalidInput(f"{path}: not a {FORMAT} file")
        if meta.get("version") != VERSION:
            raise InvalidInput(f"{path}: model version {meta.get('version')!r}, expected "
                               f"{VERSION}")
        classes, bits = meta.get("classes"), meta.get("bits")
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes) \
                or len(set(classes)) != len(classes) or len(classes) < 2:
            raise InvalidInput(f"{path}: 'classes' must list two or more distinct names")
        if not isinstance(bits, int) or not 8 <= bits <= 24:
            raise InvalidInput(f"{path}: bits must be 8..24")
        if weights.shape != (1 << bits, len(classes)) or bias.shape != (len(classes),):
            raise InvalidInput(f"{path}: weights {weights.shape} / bias {bias.shape} do not "
                               f"fit {len(classes)} classes and {bits} bits")
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(bias))):
            raise InvalidInput(f"{path}: weights must be finite")
        rest = {k: v for k, v in meta.items()
                if k not in ("format", "version", "bits", "classes")}
        name = "tactics:shipped" if path == SHIPPED_MODEL else f"tactics:{path.name}"
        return cls(tuple(classes), weights, bias, bits, rest, name)


# ---------------------------------------------------------------------- training
@dataclass
class TacticTraining:
    examples: int
    per_class: dict[str, int]
    epochs: int
    loss: float
    train_accuracy: float


def _design(token_lists: Sequence[Sequence[str]], bits: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, slot indices and values (each row L2-normalised over its feature count)."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for r, tokens in enumerate(token_lists):
        idx = slots(token_features(tokens)[0], bits)
        if not idx.size:
            continue
        rows.append(np.full(idx.size, r, np.int64))
        cols.append(idx)
        vals.append(np.full(idx.size, 1.0 / math.sqrt(idx.size)))
    if not rows:
        raise InvalidInput("no training example has any word")
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def train_tactics(token_lists: Sequence[Sequence[str]], labels: Sequence[str], *,
                  bits: int = DEFAULT_BITS, epochs: int = 200, lr: float = 0.05,
                  l2: float = 1e-5, meta: dict[str, Any] | None = None,
                  progress: Callable[[int], None] | None = None
                  ) -> tuple[TacticModel, TacticTraining]:
    """Softmax regression on hashed features (balanced class weights, L2, Adam, full batch).
    Deterministic: the same examples give the same model."""
    if len(token_lists) != len(labels):
        raise InvalidInput("one label per example")
    classes = tuple(sorted(set(labels)))
    if len(classes) < 2:
        raise InvalidInput(f"training needs two or more labels, got {list(classes)}")
    n, c, dim = len(labels), len(classes), 1 << bits
    y = np.array([classes.index(lab) for lab in labels])
    counts = np.bincount(y, minlength=c).astype(np.float64)
    sample_w = (n / (c * counts))[y]
    onehot = np.zeros((n, c))
    onehot[np.arange(n), y] = 1.0
    rows, cols, vals = _design(token_lists, bits)
    w = np.zeros((dim, c))
    b = np.zeros(c)
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros(c), np.zeros(c)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    used = np.unique(cols)  # only these rows ever get a gradient

    def forward() -> np.ndarray:
        z = np.empty((n, c))
        for k in range(c):
            z[:, k] = np.bincount(rows, weights=vals * w[cols, k], minlength=n)
        z += b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    for t in range(1, epochs + 1):
        p = forward()
        g = (p - onehot) * sample_w[:, None] / n
        g_w = np.empty((used.size, c))
        for k in range(c):
            g_w[:, k] = np.bincount(cols, weights=vals * g[rows, k], minlength=dim)[used]
        g_w += l2 * w[used]
        g_b = g.sum(axis=0)
        m_w[used] = beta1 * m_w[used] + (1 - beta1) * g_w
        v_w[used] = beta2 * v_w[used] + (1 - beta2) * g_w * g_w
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        w[used] -= lr * (m_w[used] / c1) / (np.sqrt(v_w[used] / c2) + eps)
        b -= lr * (m_b / c1) / (np.sqrt(v_b / c2) + eps)
        if progress:
            progress(1)
    p = forward()
    loss = float(np.mean(sample_w * -np.log(p[np.arange(n), y] + 1e-12)))
    accuracy = float(np.mean(p.argmax(axis=1) == y))
    info = {"trained": datetime.now(UTC).isoformat(timespec="seconds"), "examples": n,
            "epochs": epochs, "lr": lr, "l2": l2, **(meta or {})}
    model = TacticModel(classes, w.astype(np.float32), b.astype(np.float32), bits, info)
    per_class = {cls: int(counts[i]) for i, cls in enumerate(classes)}
    return model, TacticTraining(n, per_class, epochs, loss, accuracy)


def train_from_files(paths: Sequence[Path], families: Sequence[str],
                     tokenize: Callable[[str], Sequence[str]], *, bits: int = DEFAULT_BITS,
                     epochs: int = 200, progress: Callable[[int], None] | None = None
                     ) -> tuple[TacticModel, TacticTraining]:
    """Train on example files (``<lang>.txt``); ``tokenize`` is the message normaliser, so the
    model sees the same canonical tokens at training and scoring time."""
    examples = load_examples(paths, families)
    pairs = [(tokens, ex.label) for ex in examples if (tokens := tuple(tokenize(ex.text)))]
    langs = sorted({ex.lang for ex in examples})
    meta = {"training_sha256": files_digest(paths), "files": sorted(p.name for p in paths),
            "languages": langs}
    return train_tactics([t for t, _ in pairs], [lab for _, lab in pairs], bits=bits,
                         epochs=epochs, meta=meta, progress=progress)
