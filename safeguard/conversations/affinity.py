"""Layer 2: exemplar affinity, in the manner of Roblox Sentinel.

Messages are embedded; each scores by how much closer it is to examples of the harmful pattern
than to examples of ordinary chat (mean cosine similarity to the k nearest harmful exemplars
minus the same for ordinary ones), and is explained by its nearest exemplars. Any model that
turns texts into vectors fits behind the `Embedder` protocol (`embedders.py` has the default,
WordLlama, whose weights ship in its wheel); operators add their own exemplars to the shipped
ones (`data/exemplars.toml`, same format). Exemplar texts go through the same normaliser as the
messages, so both sides are compared in one canonical spelling.

Whenever a model fails to load, `load_affinity` returns an `UnavailableAffinity` that says so
and the service runs on indicators only: a clear degradation, never a crash or a silent zero.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from safeguard.errors import InvalidInput

Label = Literal["harmful", "ordinary"]
UNAVAILABLE_NOTE = "embedding unavailable: indicators only"


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 array; rows need not be normalised."""
        ...


@dataclass(frozen=True, slots=True)
class Exemplar:
    id: str
    label: Label
    text: str  # non-explicit by rule, like everything the project ships
    source: str = "builtin"  # or "operator"
    family: str | None = None  # the indicator family a harmful example illustrates
    lang: str = ""


@dataclass(frozen=True, slots=True)
class Neighbour:
    exemplar_id: str
    label: Label
    similarity: float
    family: str | None = None


@dataclass(frozen=True, slots=True)
class Affinity:
    available: bool
    score: float | None  # > 0: closer to harmful exemplars than to ordinary ones
    nearest: tuple[Neighbour, ...] = ()
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"available": self.available,
                "score": None if self.score is None else round(self.score, 4),
                "nearest": [{"id": n.exemplar_id, "label": n.label, "family": n.family,
                             "similarity": round(n.similarity, 4)} for n in self.nearest],
                "note": self.note}


_UNAVAILABLE = Affinity(False, None, (), UNAVAILABLE_NOTE)


def unavailable_affinity(reason: str | None = None) -> Affinity:
    return _UNAVAILABLE if not reason else Affinity(False, None, (),
                                                    f"{UNAVAILABLE_NOTE} ({reason})")


@dataclass
class ExemplarStore:
    """Exemplars and their vectors, per label; vectors are L2-normalised rows."""

    embedder: Embedder
    exemplars: list[Exemplar] = field(default_factory=list)
    _vectors: np.ndarray | None = None

    def add(self, items: Sequence[Exemplar],
            prepare: Callable[[str], str] | None = None) -> None:
        """Embed and keep `items`; `prepare` maps each text first (the message normaliser)."""
        seen = {ex.id for ex in self.exemplars}
        for ex in items:
            if ex.id in seen:
                raise InvalidInput(f"exemplar {ex.id}: duplicate id")
            seen.add(ex.id)
            if ex.label not in ("harmful", "ordinary"):
                raise InvalidInput(f"exemplar {ex.id}: label must be harmful or ordinary")
            if not ex.text.strip():
                raise InvalidInput(f"exemplar {ex.id}: empty text")
        if not items:
            return
        texts = [prepare(ex.text) if prepare else ex.text for ex in items]
        vecs = _normalise_rows(self.embedder.embed(texts))
        if vecs.shape != (len(items), self.embedder.dim):
            raise InvalidInput(f"embedder {self.embedder.name} returned shape {vecs.shape}")
        self.exemplars.extend(items)
        self._vectors = vecs if self._vectors is None else np.vstack([self._vectors, vecs])

    def matrix(self, label: Label) -> tuple[np.ndarray, list[Exemplar]]:
        if self._vectors is None:
            return np.zeros((0, self.embedder.dim), np.float32), []
        idx = [i for i, ex in enumerate(self.exemplars) if ex.label == label]
        return self._vectors[idx], [self.exemplars[i] for i in idx]


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim != 2:
        raise InvalidInput(f"embeddings must be a 2-D array, got {m.ndim}-D")
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


class AffinityScorer:
    """Sentinel-style score of one (normalised) message against the exemplar store."""

    available = True

    def __init__(self, store: ExemplarStore, k: int = 3, explain: int = 3):
        harmful, h_ex = store.matrix("harmful")
        ordinary, o_ex = store.matrix("ordinary")
        if not h_ex or not o_ex:
            raise InvalidInput("affinity needs at least one harmful and one ordinary exemplar")
        self.name = store.embedder.name
        self._embedder = store.embedder
        self._harmful, self._h_ex = harmful, h_ex
        self._ordinary, self._o_ex = ordinary, o_ex
        self.k, self.explain = k, explain

    def score(self, text: str) -> Affinity:
        if not text.strip():
            return Affinity(True, 0.0, (), "no words")
        v = np.asarray(self._embedder.embed([text]), dtype=np.float32)[0]
        norm = float(np.sqrt(v @ v))
        if norm < 1e-12:
            return Affinity(True, 0.0, (), "no known words")
        v = v / norm
        sh = self._harmful @ v
        so = self._ordinary @ v
        # one argsort per side serves both the top-k mean and the explanation
        oh = np.argsort(-sh)
        oo = np.argsort(-so)
        score = float(sh[oh[: self.k]].mean() - so[oo[: self.k]].mean())
        nearest = [Neighbour(self._h_ex[i].id, "harmful", float(sh[i]), self._h_ex[i].family)
                   for i in oh[: self.explain]]
        nearest.append(Neighbour(self._o_ex[oo[0]].id, "ordinary", float(so[oo[0]])))
        return Affinity(True, score, tuple(nearest))


class UnavailableAffinity:
    """Stands in for the affinity layer when no model could be loaded."""

    available = False
    name = "unavailable"

    def __init__(self, reason: str):
        self.reason = reason
        self._affinity = unavailable_affinity(reason)

    def score(self, text: str) -> Affinity:
        return self._affinity


AffinityLike = AffinityScorer | UnavailableAffinity


def load_affinity(factory: Callable[[], Embedder] | None,
                  exemplars: Sequence[Exemplar],
                  prepare: Callable[[str], str] | None = None) -> AffinityLike:
    """Build the affinity layer, or a clean "indicators only" stand-in when the embedder or the
    exemplars cannot be loaded. Never raises for a model that fails to load."""
    if factory is None:
        return UnavailableAffinity("no embedding model configured")
    try:
        embedder = factory()
        store = ExemplarStore(embedder)
        store.add(exemplars, prepare)
        return AffinityScorer(store)
    except Exception as exc:  # any model failure degrades to indicators only, never a crash
        return UnavailableAffinity(f"{type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------- exemplar files
DEFAULT_EXEMPLARS = Path(__file__).parent / "data" / "exemplars.toml"
MAX_EXEMPLARS = 20_000
MAX_EXEMPLAR_CHARS = 2_000


def parse_exemplars(text: str, source: str = "builtin", where: str = "<text>"
                    ) -> list[Exemplar]:
    """Exemplars from TOML (``[[example]]`` tables: id, label, text, family?, lang?); every
    problem is named in one error."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{where}: not valid TOML: {exc}") from exc
    items = raw.get("example")
    if not isinstance(items, list) or not items:
        raise InvalidInput(f"{where}: no [[example]] tables")
    if len(items) > MAX_EXEMPLARS:
        raise InvalidInput(f"{where}: more than {MAX_EXEMPLARS:,} examples")
    out: list[Exemplar] = []
    problems: list[str] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            problems.append(f"example {n}: not a table")
            continue
        ex_id, label, body = item.get("id"), item.get("label"), item.get("text")
        family, lang = item.get("family"), item.get("lang", "")
        if not isinstance(ex_id, str) or not ex_id.strip():
            problems.append(f"example {n}: 'id' is required")
            continue
        if label not in ("harmful", "ordinary"):
            problems.append(f"example {ex_id}: label must be 'harmful' or 'ordinary'")
        if not isinstance(body, str) or not body.strip():
            problems.append(f"example {ex_id}: 'text' is required")
        elif len(body) > MAX_EXEMPLAR_CHARS:
            problems.append(f"example {ex_id}: text longer than {MAX_EXEMPLAR_CHARS} characters")
        if family is not None and not isinstance(family, str):
            problems.append(f"example {ex_id}: 'family' must be a string")
        if not isinstance(lang, str):
            problems.append(f"example {ex_id}: 'lang' must be a string")
        if not problems or not problems[-1].startswith(f"example {ex_id}"):
            out.append(Exemplar(ex_id, label, body, source,  # type: ignore[arg-type]
                                family or None, lang))
    ids = [ex.id for ex in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append(f"duplicate ids: {', '.join(dupes[:10])}")
    if problems:
        raise InvalidInput(f"{where}: " + "; ".join(problems[:30]))
    return out


def load_exemplars(extra: Path | None = None) -> list[Exemplar]:
    """The shipped reference examples, plus an operator's file (its ids must not clash)."""
    out = parse_exemplars(DEFAULT_EXEMPLARS.read_text(encoding="utf-8"), "builtin",
                          str(DEFAULT_EXEMPLARS))
    if extra is not None:
        try:
            text = extra.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read exemplar file {extra}: {exc}") from exc
        own = parse_exemplars(text, "operator", str(extra))
        clash = sorted({ex.id for ex in out} & {ex.id for ex in own})
        if clash:
            raise InvalidInput(f"{extra}: ids already used by the shipped examples: "
                               f"{', '.join(clash[:10])}")
        out.extend(own)
    return out
