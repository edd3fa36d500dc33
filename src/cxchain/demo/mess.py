"""Export mess (duplicates, changed re-exports, invalid dates) and the file writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

INVALID_DATES = ["31/02/2025", "N/A", "30/02/2026", "2025-13-01", "00/00/0000", "TBC"]


@dataclass
class FileStats:
    file: str
    source: str
    rows_written: int = 0  # data rows physically in the file (all sheets / records)
    distinct_keys: int = 0
    expected_duplicates: int = 0  # exact duplicate rows (same key, same content)
    expected_reexports: int = 0  # rows with an already-seen key but changed content
    expected_invalid: int = 0  # rows carrying an unparseable date (quarantined on ingest)
    invalid_keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file, "source": self.source, "rows_written": self.rows_written,
            "distinct_keys": self.distinct_keys, "expected_duplicates": self.expected_duplicates,
            "expected_reexports": self.expected_reexports, "expected_invalid": self.expected_invalid,
            "expected_valid_records": self.distinct_keys - self.expected_invalid,
            "invalid_keys": self.invalid_keys, "notes": self.notes,
        }


def _count(n: int, rate: float, minimum: int) -> int:
    return 0 if n < 10 else min(n // 10, max(minimum, int(round(n * rate))))


def plan(rng: np.random.Generator, n: int, dup_rate: float = 0.005, re_rate: float = 0.003,
         inv_rate: float = 0.001) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint row indices for (invalid dates, exact duplicates, changed re-exports)."""
    k_inv, k_dup, k_re = _count(n, inv_rate, 3), _count(n, dup_rate, 2), _count(n, re_rate, 2)
    perm = rng.permutation(n)
    inv = np.sort(perm[:k_inv])
    dup = np.sort(perm[k_inv:k_inv + k_dup])
    re = np.sort(perm[k_inv + k_dup:k_inv + k_dup + k_re])
    return inv, dup, re


def apply(df: pl.DataFrame, rng: np.random.Generator, key: list[str], date_col: str | None,
          change_col: str, stats: FileStats, change: str = " (updated)", group: np.ndarray | None = None,
          dup_rate: float = 0.005) -> pl.DataFrame:
    """Add the mess to a frame of strings; ``group`` (optional) keeps legs of one call together."""
    n = df.height
    inv, dup, re = plan(rng, n, dup_rate=dup_rate)
    if date_col is not None and len(inv):
        bad = np.array(INVALID_DATES)[rng.integers(0, len(INVALID_DATES), len(inv))]
        col = df[date_col].to_numpy().astype(object)
        col[inv] = bad
        df = df.with_columns(pl.Series(date_col, col.tolist(), dtype=pl.String))
        keys = df.select(pl.concat_str([pl.col(k) for k in key], separator="|")).to_series().to_numpy()
        stats.invalid_keys = [str(k) for k in keys[inv]]
    else:
        inv = inv[:0]
    changed = df[re].with_columns((pl.col(change_col).fill_null("") + change).alias(change_col))
    extra = pl.concat([df[dup], changed])
    pos = np.concatenate([np.arange(n, dtype=np.float64),
                          dup + rng.integers(1, 40, len(dup)) + 0.5, re + rng.integers(5, 400, len(re)) + 0.25])
    out = pl.concat([df, extra]).with_columns(pl.Series("_pos", pos)).sort("_pos", maintain_order=True).drop("_pos")
    stats.rows_written = out.height
    stats.distinct_keys = n
    stats.expected_duplicates = len(dup)
    stats.expected_reexports = len(re)
    stats.expected_invalid = len(inv)
    return out


def write_csv(df: pl.DataFrame, path: Path, *, sep: str = ",", encoding: str = "utf-8", bom: bool = False,
              crlf: bool = False) -> None:
    text = df.write_csv(separator=sep, line_terminator="\r\n" if crlf else "\n", null_value="")
    data = text.encode(encoding, errors="replace")
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)


def trailing_spaces(values: list[str], rng: np.random.Generator, rate: float = 0.01) -> list[str]:
    mask = rng.random(len(values)) < rate
    return [v + " " if m and v else v for v, m in zip(values, mask, strict=True)]


def fmt_datetimes(ts: np.ndarray, codes: np.ndarray, formats: list[str]) -> list[str]:
    """Format datetime64[s] values, using ``formats[codes[i]]`` for row i (vectorised via polars)."""
    s = pl.Series("t", ts.astype("datetime64[us]"))
    out = pl.Series("o", [""] * len(ts), dtype=pl.String)
    frame = pl.DataFrame({"t": s, "c": codes, "o": out})
    expr = pl.lit(None, dtype=pl.String)
    for i, f in enumerate(formats):
        if f == "UNPADDED":  # 3/2/2025 9:14
            e = pl.format("{}/{}/{} {}:{}", pl.col("t").dt.day(), pl.col("t").dt.month(), pl.col("t").dt.year(),
                          pl.col("t").dt.hour(), pl.col("t").dt.strftime("%M"))
        else:
            e = pl.col("t").dt.strftime(f)
        expr = pl.when(pl.col("c") == i).then(e).otherwise(expr)
    return frame.select(expr.alias("o"))["o"].to_list()
