"""Rebuild the bundled corpus from ../shared: data/corpus.parquet and data/labels.parquet.

- corpus.parquet: every posting of ../shared/corpus/raw, normalised by `tobroles ingest`
  (raw_file is relative to the raw folder, as in the labels).
- labels.parquet: the 3,741 labelled ads of ../shared/corpus/labels/train.csv; `posting_id` joins them
  to the corpus (a few labelled ads were merged into an identical repost and keep only their own text).

Usage: python scripts/build_data.py [--shared PATH]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd

from pipeline.ingest import ingest
from pipeline.outputs import write_table
from pipeline.run import ingest_quality
from pipeline.taxonomy import taxonomy

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    raw = (args.shared / "corpus" / "raw").resolve()
    corpus_out = REPO / "data" / "corpus.parquet"
    cwd = os.getcwd()
    os.chdir(raw)  # so that raw_file is relative to the raw folder
    try:
        result, _ = ingest(sorted(p.name for p in raw.iterdir() if p.is_dir()), corpus_out, progress=True)
    finally:
        os.chdir(cwd)
    summary = REPO / "data" / "corpus.summary.json"
    summary.write_text(json.dumps(ingest_quality(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"corpus: {result.kept:,} postings from {result.rows_read:,} rows ({result.duplicates:,} duplicates, {result.rejected:,} rejected)")

    labels = pd.read_csv(args.shared / "corpus" / "labels" / "train.csv", dtype=str)
    labels = labels.rename(columns={"posting_uid": "posting_id"})
    labels["role"] = labels["role"].map(taxonomy().resolve)
    labels["sure"] = labels["sure"].astype(int)
    write_table(labels, REPO / "data" / "labels.parquet")
    corpus_ids = set(pd.read_parquet(corpus_out, columns=["posting_id"])["posting_id"])
    print(f"labels: {len(labels):,} ads, {labels['posting_id'].isin(corpus_ids).sum():,} joined to the corpus")


if __name__ == "__main__":
    main()
