"""The business-type model, cross-validated by company: per ad, pooled over the labelled ads of the
same company (as in `tobroles train`), and pooled over every ad of the same company in the bundled
corpus (as `classify` pools on a real input, where a company posts many ads), with the learning curve.

Folds are grouped by company: no company is on both sides. The role model that featurises the ads is
the shipped one (its TF-IDF only; its SVM plays no part).

Usage: python benchmarks/business_eval.py [--folds 5] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from pipeline.business import BusinessTypeClassifier, business_metrics, company_groups, company_key, pool_by_company
from pipeline.folds import grouped_folds
from pipeline.model_store import load_model
from pipeline.taxonomy import DATA_DIR
from pipeline.train import load_labelled

KEYS = ("accuracy", "macro_f1", "to_b_vs_to_c_accuracy", "to_b_to_c_unclear_accuracy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    role_model = load_model().classifier
    data = load_labelled()
    frame = data.frame[data.frame["business_type"].notna()].reset_index(drop=True)
    y = frame["business_type"].to_numpy(dtype=object)
    key = company_key(frame["company"])
    groups = company_groups(frame["company"])
    corpus = pd.read_parquet(DATA_DIR / "corpus.parquet", columns=["posting_id", "title", "description", "company", "industry"])
    corpus = corpus[~corpus["posting_id"].isin(set(data.frame["posting_id"]))]
    corpus["key"] = company_key(corpus["company"])
    corpus = corpus[corpus["key"].isin(set(key.dropna()))].reset_index(drop=True)
    print(f"{len(frame):,} labelled ads of {len(np.unique(groups)):,} companies; {len(corpus):,} unlabelled corpus ads of the same companies")
    results: dict[str, list] = {}
    for seed in args.seeds:
        for fraction in (0.25, 0.5, 1.0):
            rng = np.random.default_rng(seed)
            ways = {name: np.empty(len(y), dtype=object) for name in ("per ad", "pooled, labelled ads", "pooled, with the corpus")}
            for train_idx, test_idx in grouped_folds(groups, y, args.folds, seed):
                if fraction < 1:
                    companies = np.unique(groups[train_idx])
                    train_idx = train_idx[np.isin(groups[train_idx], rng.choice(companies, int(round(fraction * len(companies))), replace=False))]
                model = BusinessTypeClassifier().fit(role_model, frame.iloc[train_idx], y[train_idx])
                test = frame.iloc[test_idx]
                proba = model.proba(role_model.features(test[["title", "description"]]), test)
                ways["per ad"][test_idx] = model.classes_[proba.argmax(axis=1)]
                mean, _ = pool_by_company(test["company"], proba)
                ways["pooled, labelled ads"][test_idx] = model.classes_[mean.argmax(axis=1)]
                extra = corpus[corpus["key"].isin(set(key.iloc[test_idx].dropna()))]
                extra_proba = model.proba(role_model.features(extra[["title", "description"]]), extra) if len(extra) else np.empty((0, proba.shape[1]))
                mean, _ = pool_by_company(pd.concat([test["company"], extra["company"]], ignore_index=True), np.vstack([proba, extra_proba]))
                ways["pooled, with the corpus"][test_idx] = model.classes_[mean[: len(test_idx)].argmax(axis=1)]
            for name, predicted in ways.items():
                m = business_metrics(y, predicted)
                results.setdefault(f"{fraction:.0%} of the companies, {name}", []).append([m[k] for k in KEYS])
    print(f"{'':55s} " + "  ".join(f"{k:>26s}" for k in KEYS))
    for name, rows in results.items():
        a = np.array(rows, dtype=float)
        print(f"{name:55s} " + "  ".join(f"{m:.3f} (sd {sd:.3f})".rjust(26) for m, sd in zip(a.mean(0), a.std(0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1]))))


if __name__ == "__main__":
    main()
