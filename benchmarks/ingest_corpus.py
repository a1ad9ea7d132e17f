"""Ingest the whole raw corpus: rows read / kept / duplicates / rejected per source, time and peak memory.

Usage: python benchmarks/ingest_corpus.py [RAW_FOLDER]   (default: ../shared/corpus/raw)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

from pipeline.ingest import ingest

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    raw = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "corpus" / "raw"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "postings.parquet"
        started = time.perf_counter()
        result, _ = ingest([raw], out)
        seconds = time.perf_counter() - started
        kept = pd.read_parquet(out, columns=["source"])["source"].value_counts()
    by_repo: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for f in result.files:
        repo = Path(f.file).relative_to(raw).parts[0]
        key = f"{repo} ({'company/tag tables' if f.layout in ('company-table', 'tag-table') else 'postings'})"
        for i, n in enumerate((1, f.rows_read, f.kept, f.duplicates, f.rejected)):
            by_repo[key][i] += n
    print(f"{'source':<62} {'files':>5} {'rows read':>9} {'kept':>7} {'dupes':>6} {'rejected':>8}")
    for key, (files, read, k, d, r) in sorted(by_repo.items()):
        print(f"{key:<62} {files:>5} {read:>9,} {k:>7,} {d:>6,} {r:>8,}")
    print(f"{'total':<62} {len(result.files):>5} {result.rows_read:>9,} {result.kept:>7,} {result.duplicates:>6,} {result.rejected:>8,}")
    print("\nkept postings per board:", ", ".join(f"{s} {n:,}" for s, n in kept.items()))
    print(f"\ningest time {seconds:.1f}s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
