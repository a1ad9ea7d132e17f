"""How close the report's estimated role counts come to the truth, against raw counts, on held-out folds
of the bundled labels.

For each of 5 grouped folds (reposts in one fold): fit the shipped RoleClassifier on the other four
(its calibration folds give the held-out confusion the estimates read), label the held-out fold, and
compare, over the 25 roles, each estimate's shares (count / ads in the fold) with the true shares:
mean absolute error, and how many true counts fall inside the 90% interval.

The bundled labels are not a random sample of a board (rare roles were searched for; a wave took the
ads an earlier model was unsure of), so this measures the estimators under the labels' own mix.

Usage: python benchmarks/estimates_eval.py [--folds 5]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

from pipeline.estimates import adjusted_counts
from pipeline.estimator import CONFIDENCE_BINS, RoleClassifier
from pipeline.folds import grouped_folds, repost_groups
from pipeline.taxonomy import taxonomy
from pipeline.train import load_labelled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    data = load_labelled()
    X, y, w = data.X, data.y, data.weights
    roles = [r for r in taxonomy().role_ids if taxonomy().module_of(r)]
    rows = []
    for fold, (train_idx, test_idx) in enumerate(grouped_folds(repost_groups(X["description"]), y, args.folds, 0)):
        model = RoleClassifier().fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx])
        proba = model.predict_proba(X.iloc[test_idx])
        labels = pd.Series(model.classes_[proba.argmax(axis=1)])
        confidence = pd.Series(proba.max(axis=1))
        confusion = {
            "classes": [str(c) for c in model.classes_], "bands": CONFIDENCE_BINS.tolist(),
            "counts": model.heldout_confusion_.tolist(), "posteriors": model.heldout_posteriors_.tolist(),
        }
        # What a classified file keeps of each probability vector: the top role and three alternatives.
        order = np.argsort(-proba, axis=1)[:, 1:4]
        alternatives = pd.Series([json.dumps({str(model.classes_[j]): float(p[j]) for j in js}) for js, p in zip(order, proba)])
        n = len(test_idx)
        truth = pd.Series(y[test_idx]).value_counts().reindex(roles, fill_value=0)
        raw = labels.value_counts().reindex(roles, fill_value=0)
        result = {"fold": fold, "raw": float((raw - truth).abs().mean() / n)}
        for estimator in ("banded", "acc", "pacc", "em"):
            est = adjusted_counts(labels, confidence, confusion, alternatives=alternatives, estimator=estimator).table.set_index("role").reindex(roles)
            result[estimator] = float((est["estimate"] - truth).abs().mean() / n)
            result[f"{estimator}_covered"] = int(((est["estimate_low"] <= truth) & (truth <= est["estimate_high"])).sum())
        rows.append(result)
        print(result, flush=True)
    frame = pd.DataFrame(rows)
    print(f"\nmean absolute error of the 25 roles' shares, {args.folds} held-out folds (lower is better):")
    for name in ("raw", "banded", "acc", "pacc", "em"):
        print(f"  {name:<7} {frame[name].mean():.5f}  (folds: {', '.join(f'{v:.5f}' for v in frame[name])})")
    for name in ("banded", "acc", "pacc", "em"):
        covered = frame[f"{name}_covered"]
        print(f"  {name} 90% intervals hold the true count for {covered.mean():.1f} of 25 roles on average ({covered.mean() / 25:.0%}; per fold {list(covered)})")


if __name__ == "__main__":
    main()
