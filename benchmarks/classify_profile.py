"""Where classification time goes: each stage of `classify_files` timed on N bundled postings, one core.

Stages: reading (Parquet → chunks), normalising (layout mapping), sections + tokenising (PostingText),
vectorising (TF-IDF), predicting (SVM + softmax), building the output columns, writing (Parquet).
On the side, the linear layer computed in NumPy alone (gather the weight rows of each non-zero, sum
per ad with reduceat): what dropping SciPy from the classify path (0.15 s of its start-up) would cost.
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

import numpy as np
import pandas as pd

from pipeline.classify import classify_frame, with_roles
from pipeline.ingest import read_postings
from pipeline.linear import body_texts, title_texts
from pipeline.model_store import load_model
from pipeline.outputs import TableWriter

REPO = Path(__file__).resolve().parents[1]


def numpy_dot(features, weights: np.ndarray, rows_per_block: int = 1_000) -> np.ndarray:
    """features (CSR) @ weights without SciPy, in blocks of ads so the gathered rows stay small."""
    data, indices, indptr = features.data.astype(np.float64), features.indices, features.indptr
    out = np.zeros((features.shape[0], weights.shape[1]))
    for start in range(0, features.shape[0], rows_per_block):
        end = min(features.shape[0], start + rows_per_block)
        low, high = indptr[start], indptr[end]
        nonempty = indptr[start + 1 : end + 1] > indptr[start:end]
        if high > low:
            gathered = weights[indices[low:high]] * data[low:high, None]
            out[start:end][nonempty] = np.add.reduceat(gathered, indptr[start:end][nonempty] - low, axis=0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=int, default=100_000)
    args = parser.parse_args()
    seconds: dict[str, float] = defaultdict(float)
    side: dict[str, float] = defaultdict(float)

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
            weights = np.ascontiguousarray(clf.coef.T)
            started = time.perf_counter()
            scipy_scores = features @ weights
            side["linear layer, scipy.sparse"] += time.perf_counter() - started
            started = time.perf_counter()
            numpy_scores = numpy_dot(features, weights)
            side["linear layer, NumPy alone"] += time.perf_counter() - started
            assert np.allclose(scipy_scores, numpy_scores)
            seconds["output columns"] += whole - featurising - predicting
            with stage("writing"):
                writer.write(with_roles(batch.original, roles))
    total = sum(seconds.values())
    print(f"{args.postings:,} postings, one process")
    for name, s in seconds.items():
        print(f"  {name:<24} {s:7.1f}s  {s / total:6.1%}")
    print(f"  {'total':<24} {total:7.1f}s  ({args.postings / total:,.0f} postings/s)")
    print("timed on the side:")
    for name, s in side.items():
        print(f"  {name:<28} {s:7.2f}s")


if __name__ == "__main__":
    main()
