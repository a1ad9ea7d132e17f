"""Ingest the raw corpora in one run: rows read / kept / merged / rejected per source, time and peak memory.

Usage: python benchmarks/ingest_corpus.py [FOLDER...] [--per-file PATH]
(default: ../shared/corpus/raw and ../shared/corpus/raw_extra; --per-file writes a Markdown table with
every file's counts, layout and column mapping)
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

from pipeline.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path, default=[CORPUS / "raw", CORPUS / "raw_extra"])
    parser.add_argument("--per-file", type=Path)
    args = parser.parse_args()
    folders = [f.resolve() for f in args.folders]
    base = Path(os.path.commonpath(folders)) if len(folders) > 1 else folders[0].parent
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "postings.parquet"
        started = time.perf_counter()
        result, _ = ingest(folders, out)
        seconds = time.perf_counter() - started
        kept = pd.read_parquet(out, columns=["source"])["source"].value_counts()
    by_repo: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for f in result.files:
        parts = Path(f.file).relative_to(base).parts
        key = f"{parts[0]}/{parts[1]} ({'company/tag tables' if f.layout in ('company-table', 'tag-table') else 'postings'})"
        for i, n in enumerate((1, f.rows_read, f.kept, f.duplicates, f.rejected)):
            by_repo[key][i] += n
    print(f"{'source':<72} {'files':>5} {'rows read':>9} {'kept':>7} {'merged':>6} {'rejected':>8}")
    for key, (files, read, k, d, r) in sorted(by_repo.items()):
        print(f"{key:<72} {files:>5} {read:>9,} {k:>7,} {d:>6,} {r:>8,}")
    print(f"{'total':<72} {len(result.files):>5} {result.rows_read:>9,} {result.kept:>7,} {result.duplicates:>6,} {result.rejected:>8,}")
    print("\nkept postings per board:", ", ".join(f"{s} {n:,}" for s, n in kept.items()))
    print(f"warnings: {len(result.warnings)}")
    for file, warning in result.warnings:
        print(f"  {Path(file).relative_to(base)}: {warning}")
    print(f"\ningest time {seconds:.1f}s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.per_file:
        lines = ["| file | layout | rows read | kept | merged | rejected | mapping |", "|---|---|---|---|---|---|---|"]
        for f in result.files:
            mapping = ", ".join(f"{k}←{v}" + (f" ({f.confidence[k]:.2f})" if k in f.confidence else "") for k, v in f.mapping.items())
            lines.append(f"| {Path(f.file).relative_to(base)} | {f.layout} | {f.rows_read:,} | {f.kept:,} | {f.duplicates:,} | {f.rejected:,} | {mapping or f.note} |")
        args.per_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
