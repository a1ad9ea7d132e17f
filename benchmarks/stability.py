"""The perturbation test: how far predictions move when the model is retrained on 0.3% fewer labels.

Fits the classifier on all bundled labels, then again without N random labelled ads (several draws),
and classifies the same postings with each: the bundled corpus minus the labelled ads (what users
classify), as `classify` would. Prints the share of postings whose role changes, of those whose
status changes, and the mean absolute change of confidence, per draw. Bar (issue 21): fewer than 2%
of predictions change when 29 ads (0.3%) are left out.

Usage: python benchmarks/stability.py [--drop 29] [--draws 2] [--postings 20000] [--param NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from pipeline.classify import classify_frame
from pipeline.estimator import RoleClassifier
from pipeline.taxonomy import DATA_DIR
from pipeline.train import LabelledData, load_labelled


def fitted(data: LabelledData, classifier: RoleClassifier, keep: np.ndarray) -> RoleClassifier:
    frame = data.frame[keep]
    return clone(classifier).fit(frame[["title", "description"]], frame["role"].to_numpy(dtype=object), sample_weight=frame["weight"].to_numpy())


def perturbation(data: LabelledData, classifier: RoleClassifier, drop: int = 29, draws: int = 2, postings: int = 20_000) -> list[dict]:
    """Per draw: the share of corpus postings whose role and status change, and the mean absolute
    change of confidence, between the model fitted on all labels and one fitted without `drop`."""
    corpus = pd.read_parquet(DATA_DIR / "corpus.parquet", columns=["posting_id", "title", "description"])
    corpus = corpus[~corpus["posting_id"].isin(set(data.frame["posting_id"]))]
    sample = corpus.sample(min(postings, len(corpus)), random_state=0)[["title", "description"]]
    every = np.ones(len(data.frame), dtype=bool)
    reference = classify_frame(fitted(data, classifier, every), sample, model_id="all")
    results = []
    for draw in range(draws):
        keep = every.copy()
        keep[np.random.default_rng(draw).choice(len(keep), drop, replace=False)] = False
        other = classify_frame(fitted(data, classifier, keep), sample, model_id=f"draw{draw}")
        results.append({
            "draw": draw, "postings": len(sample),
            "roles_changed": float((other["role"] != reference["role"]).mean()),
            "statuses_changed": float((other["status"] != reference["status"]).mean()),
            "mean_confidence_change": float((other["confidence"] - reference["confidence"]).abs().mean()),
        })
    return results


def print_perturbation(results: list[dict], drop: int) -> None:
    for r in results:
        print(f"  without {drop} ads (draw {r['draw']}): roles changed {r['roles_changed']:.2%}, statuses {r['statuses_changed']:.2%}, mean |confidence change| {r['mean_confidence_change']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drop", type=int, default=29)
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--param", action="append", default=[], help="a RoleClassifier parameter, e.g. other_clusters=1")
    args = parser.parse_args()
    params = {k: json.loads(v) for k, v in (p.split("=", 1) for p in args.param)}
    started = time.perf_counter()
    results = perturbation(load_labelled(), RoleClassifier(**params), args.drop, args.draws, args.postings)
    print(f"params {params or 'shipped'}: {results[0]['postings']:,} corpus postings, {time.perf_counter() - started:.0f}s")
    print_perturbation(results, args.drop)


if __name__ == "__main__":
    main()
