"""Rebuild the bundled corpus from ../shared: data/corpus.parquet and data/labels.parquet.

- corpus.parquet: every posting of ../shared/corpus/raw and ../shared/corpus/raw_extra, normalised
  and deduplicated by `tobroles ingest` in one run (raw_file starts with raw/ or raw_extra/).
- labels.parquet: the labelled ads of ../shared/corpus/labels/train.csv, roles resolved against the
  taxonomy; `posting_id` is the labels' posting_uid (the board's id where it has one); with the second,
  independent reading of the unsure ads from second_opinion.csv beside the first (`role_2`, `sure_2`,
  and `role_adjudicated`, `sure_adjudicated` where the two differ), the employer's business type of
  business_type.csv (`business_type`, `business_sure`), and the board's industry field from the
  corpus where the posting has one (`industry`).

Usage: python scripts/build_data.py [--shared PATH] [--labels-only]
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
    parser.add_argument("--labels-only", action="store_true", help="rebuild labels.parquet only")
    args = parser.parse_args()
    corpus = (args.shared / "corpus").resolve()
    corpus_out = REPO / "data" / "corpus.parquet"
    if not args.labels_only:
        build_corpus(corpus, corpus_out)
    build_labels(args.shared / "corpus" / "labels", corpus_out)


def build_corpus(corpus: Path, corpus_out: Path) -> None:
    cwd = os.getcwd()
    os.chdir(corpus)  # so that raw_file reads raw/... or raw_extra/...
    try:
        result, _ = ingest(["raw", "raw_extra"], corpus_out, progress=True)
    finally:
        os.chdir(cwd)
    summary = REPO / "data" / "corpus.summary.json"
    summary.write_text(json.dumps(ingest_quality(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"corpus: {result.kept:,} postings from {result.rows_read:,} rows ({result.duplicates:,} duplicates, {result.rejected:,} rejected)")


def build_labels(folder: Path, corpus_out: Path) -> None:
    labels = pd.read_csv(folder / "train.csv", dtype=str)
    labels = labels.rename(columns={"posting_uid": "posting_id"})
    labels["role"] = labels["role"].map(taxonomy().resolve)
    labels["sure"] = labels["sure"].astype(int)
    second = pd.read_csv(folder / "second_opinion.csv", dtype=str).rename(columns={"posting_uid": "posting_id"})
    if not (second.set_index("posting_id")["role_1"] == labels.set_index("posting_id")["role"].reindex(second["posting_id"])).all():
        raise SystemExit("second_opinion.csv: role_1 differs from train.csv's role")
    second = second[["posting_id", "role_2", "sure_2", "role_adjudicated", "sure_adjudicated"]]
    for column in ("role_2", "role_adjudicated"):
        second[column] = second[column].map(taxonomy().resolve, na_action="ignore")
    labels = labels.merge(second, on="posting_id", how="left", validate="one_to_one")
    for column in ("sure_2", "sure_adjudicated"):
        labels[column] = pd.to_numeric(labels[column]).astype("Int8")
    business = pd.read_csv(folder / "business_type.csv", dtype=str).rename(columns={"posting_uid": "posting_id", "sure": "business_sure"})
    labels = labels.merge(business[["posting_id", "business_type", "business_sure"]], on="posting_id", how="left", validate="one_to_one")
    labels["business_sure"] = pd.to_numeric(labels["business_sure"]).astype("Int8")
    industry = pd.read_parquet(corpus_out, columns=["posting_id", "industry"]).dropna().drop_duplicates("posting_id")
    labels = labels.merge(industry, on="posting_id", how="left", validate="one_to_one")
    write_table(labels, REPO / "data" / "labels.parquet")
    print(f"second readings: {labels['role_2'].notna().sum():,} ads, {labels['role_adjudicated'].notna().sum():,} adjudicated; business types: {labels['business_type'].notna().sum():,}; industry: {labels['industry'].notna().sum():,}")
    corpus_ids = set(pd.read_parquet(corpus_out, columns=["posting_id"])["posting_id"])
    print(f"labels: {len(labels):,} ads, {labels['posting_id'].isin(corpus_ids).sum():,} joined to the corpus by id")


if __name__ == "__main__":
    main()
