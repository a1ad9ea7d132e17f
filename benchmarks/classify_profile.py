"""Where classification time goes: each stage of `classify_files` timed on N bundled postings, one core.

Stages: reading (Parquet → chunks), normalising (layout mapping), sections + tokenising (PostingText),
vectorising (TF-IDF), predicting (SVM + softmax), building the output columns, writing (Parquet).
For a call-level view run: python -m pyinstrument -m pipeline classify IN.parquet -o OUT.parquet

Usage: python benchmarks/classify_profile.py [--postings 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pandas as pd

from pipeline.classify import classify_frame, with_roles
from pipeline.ingest import read_postings
from pipeline.linear import body_texts, title_texts
from pipeline.model_store import load_model
from pipeline.outputs import TableWriter

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=int, default=100_000)
    args = parser.parse_args()
    seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(name):
        started = time.perf_counter()
        yield
        seconds[name] += time.perf_counter() - started

    with stage("loading the model"):
        model = load_model()
    clf = model.classifier
    corpus = pd.read_parquet(REPO / "data" / "corpus.parquet")
    frame = pd.concat([corpus] * (-(-args.postings // len(corpus))), ignore_index=True).iloc[: args.postings]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        source = Path(tmp) / "in.parquet"
        frame.to_parquet(source, row_group_size=20_000)
        writer = stack.enter_context(TableWriter(Path(tmp) / "out.parquet"))
        batches = iter(read_postings([source], stack, [], chunk_rows=20_000))
        while True:
            with stage("reading + normalising"):
                batch = next(batches, None)
            if batch is None:
                break
            texts = batch.postings[["title", "description"]]
            # The production call, timed whole; its parts are timed again on the side to split it.
            started = time.perf_counter()
            roles = classify_frame(clf, texts, model_id=model.id)
            whole = time.perf_counter() - started
            started = time.perf_counter()
            title_texts(texts["title"].unique(), clf.backend)
            body_texts(texts["description"].unique(), clf.backend)
            tokenising = time.perf_counter() - started
            started = time.perf_counter()
            features = clf.features(texts)
            featurising = time.perf_counter() - started
            started = time.perf_counter()
            clf.proba_of_features(features)
            predicting = time.perf_counter() - started
            seconds["sections + tokenising"] += tokenising
            seconds["vectorising"] += featurising - tokenising
            seconds["predicting"] += predicting
            seconds["output columns"] += whole - featurising - predicting
            with stage("writing"):
                writer.write(with_roles(batch.original, roles))
    total = sum(seconds.values())
    print(f"{args.postings:,} postings, one process")
    for name, s in seconds.items():
        print(f"  {name:<24} {s:7.1f}s  {s / total:6.1%}")
    print(f"  {'total':<24} {total:7.1f}s  ({args.postings / total:,.0f} postings/s)")


if __name__ == "__main__":
    main()
