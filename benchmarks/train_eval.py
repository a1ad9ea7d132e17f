"""Cross-validated quality and training time of the shipped classifier against the plain baseline.

Both are measured in the same run on the same folds of the bundled labels (data/labels.parquet), the
folds `tobroles train` uses: stratified, with reposts of one ad kept in one fold (pipeline/folds.py):
  baseline   jieba.lcut words of title + description, TfidfVectorizer and LinearSVC, default settings
  tobroles   RoleClassifier() as shipped (section-aware title/duties features, balanced linear SVM,
             `other` learned as 8 k-means clusters, a module SVM adding to its roles' scores,
             samples weighted by annotator sureness, temperature-calibrated probabilities)

Then a learning curve (the shipped model trained on 25/50/100% of each training fold, scored on the
same test folds), how well confidence ranks the errors (the share of errors among the 20% least
confident held-out predictions, and ECE), and held-out accuracy per source (campus sites vs boards).

Then a check that the shipped hyper-parameters were not tuned to these folds: on a fixed 80/20 split
(one fold of a 5-fold grouped split, seed 42), title_weight and C, then other_clusters, then
module_weight are chosen by 5-fold CV on the 80% alone (by macro-F1 plus module accuracy, the two
metrics of the quality bar); the baseline, the chosen and the shipped settings are scored on the 20%.

Then the perturbation test (benchmarks/stability.py): retrained without 29 labels, how many predictions move.

Usage: python benchmarks/train_eval.py [--folds 5] [--skip-selection] [--perturbation DRAWS]
"""

from __future__ import annotations

import argparse
import itertools
import time

import jieba
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from pipeline.estimator import RoleClassifier
from pipeline.folds import grouped_folds, repost_groups
from pipeline.metrics import classification_metrics, confidence_metrics
from pipeline.taxonomy import DATA_DIR
from pipeline.train import load_labelled, sureness_metrics


def jieba_words(text: str) -> list[str]:
    return jieba.lcut(text)


def baseline():
    return make_pipeline(TfidfVectorizer(tokenizer=jieba_words, token_pattern=None), LinearSVC())


def baseline_text(frame) -> list[str]:
    return (frame["title"].fillna("") + " " + frame["description"].fillna("")).tolist()


def cross_validate(data, make, as_input, folds: int, seed: int = 0, weighted: bool = False, share: float = 1.0):
    """Metrics of held-out predictions; `share` < 1 trains on that share of each training fold."""
    X, y, w = data.X, data.y, data.weights
    predicted = np.empty(len(y), dtype=object)
    confidence = np.full(len(y), np.nan)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    for train_idx, test_idx in grouped_folds(repost_groups(X["description"]), y, folds, seed):
        if share < 1:
            train_idx = np.sort(rng.choice(train_idx, int(share * len(train_idx)), replace=False))
        model = make()
        fit_params = {"sample_weight": w[train_idx]} if weighted else {}
        model.fit(as_input(X.iloc[train_idx]), y[train_idx], **fit_params)
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(as_input(X.iloc[test_idx]))
            predicted[test_idx] = model.classes_[proba.argmax(axis=1)]
            confidence[test_idx] = proba.max(axis=1)
        else:
            predicted[test_idx] = model.predict(as_input(X.iloc[test_idx]))
    metrics = classification_metrics(y, predicted)
    metrics["correct"] = predicted == y
    if not np.isnan(confidence).any():
        metrics["confidence"] = confidence_metrics(predicted == y, confidence)
    return metrics, time.perf_counter() - started


def line(name: str, m: dict, seconds: float | None = None) -> str:
    timing = f"  ({seconds:.0f}s)" if seconds is not None else ""
    return f"{name:<28} accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}  module {m['module_accuracy']:.3f}{timing}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-selection", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help="repeat the CV comparison with these fold seeds too")
    parser.add_argument("--perturbation", type=int, default=2, metavar="DRAWS", help="the perturbation test of stability.py (0: skip)")
    args = parser.parse_args()
    data = load_labelled()
    print(f"{len(data.frame):,} labelled ads, {len(data.class_counts())} classes, {args.folds}-fold stratified CV, reposts kept in one fold\n")

    base, base_s = cross_validate(data, baseline, baseline_text, args.folds)
    ours, ours_s = cross_validate(data, RoleClassifier, lambda X: X, args.folds, weighted=True)
    print(line("baseline (jieba+tfidf+svc)", base, base_s))
    print(line("tobroles RoleClassifier", ours, ours_s))
    print(f"{'difference':<28} accuracy {ours['accuracy'] - base['accuracy']:+.3f}  macro-F1 {ours['macro_f1'] - base['macro_f1']:+.3f}  module {ours['module_accuracy'] - base['module_accuracy']:+.3f}")
    started = time.perf_counter()
    RoleClassifier().fit(data.X, data.y, sample_weight=data.weights)
    print(f"\ntraining the shipped model on all {len(data.frame):,} ads: {time.perf_counter() - started:.1f}s")

    c = ours["confidence"]
    print(f"\nreview: the 20% least confident held-out rows (confidence < {c['review_threshold']:.2f}) hold {c['review_capture']:.1%} of the errors; ECE {c['ece']:.3f}")
    for name, m in sureness_metrics(data.frame["sure"], ours["correct"]).items():
        print(f"  annotator {name:<9} {m['ads']:>6,} ads  accuracy {m['accuracy']:.3f}  {m['error_share']:.0%} of the errors")
    print("\nlearning curve (share of each training fold; same test folds):")
    for share in (0.25, 0.5):
        m = cross_validate(data, RoleClassifier, lambda X: X, args.folds, weighted=True, share=share)[0]
        print(line(f"  {share:.0%} of the labels", m))
    print(line("  100% of the labels", ours))

    print("\nper source (tobroles CV; source of the labelled ad):")
    sources = pd.read_parquet(DATA_DIR / "labels.parquet", columns=["posting_id", "source"])
    source = data.frame[["posting_id"]].merge(sources, on="posting_id", how="left")["source"].fillna("user labels")
    by_source = pd.DataFrame({"source": source, "correct": ours["correct"], "to_b": data.y != "other"}).groupby("source")
    table = by_source.agg(ads=("correct", "size"), accuracy=("correct", "mean"), to_b_share=("to_b", "mean"))
    print(table.sort_values("ads", ascending=False).round(3).to_string())

    print("\nper role (tobroles CV):")
    for role, m in ours["per_role"].items():
        b = base["per_role"].get(role, {"f1": 0})
        print(f"  {role:<18} F1 {m['f1']:.2f} (baseline {b['f1']:.2f})  support {m['support']}")

    if args.seeds:
        print("\nrepeated with other fold seeds (macro-F1 / module accuracy):")
        rows = []
        for seed in args.seeds:
            b = cross_validate(data, baseline, baseline_text, args.folds, seed)[0]
            o = cross_validate(data, RoleClassifier, lambda X: X, args.folds, seed, weighted=True)[0]
            rows.append((o["macro_f1"] - b["macro_f1"], o["module_accuracy"] - b["module_accuracy"]))
            print(f"  seed {seed}: baseline {b['macro_f1']:.3f} / {b['module_accuracy']:.3f}   tobroles {o['macro_f1']:.3f} / {o['module_accuracy']:.3f}")
        gains = np.array(rows)
        print(f"  mean gain: macro-F1 {gains[:, 0].mean():+.3f} (sd {gains[:, 0].std():.3f}), module {gains[:, 1].mean():+.3f} (sd {gains[:, 1].std():.3f})")

    if args.perturbation:
        from stability import perturbation, print_perturbation  # benchmarks/ is on sys.path when run as a script

        print("\nperturbation test: retrained without 29 labels (0.3%), 20,000 unlabelled corpus postings classified by both:")
        print_perturbation(perturbation(data, RoleClassifier(), 29, args.perturbation), 29)

    if args.skip_selection:
        return
    print("\nhyper-parameters chosen on 80% only, scored on the held-out 20%:")
    train_idx, test_idx = grouped_folds(repost_groups(data.X["description"]), data.y, 5, 42)[0]
    inner = type(data)(data.frame.iloc[train_idx].reset_index(drop=True))

    scores: dict[tuple, float] = {}

    def inner_score(**params) -> float:
        key = tuple(sorted(RoleClassifier(**params).get_params().items()))
        if key not in scores:
            m = cross_validate(inner, lambda: RoleClassifier(**params), lambda X: X, args.folds, weighted=True)[0]
            print(f"  {params} inner CV macro-F1 {m['macro_f1']:.3f} module {m['module_accuracy']:.3f}")
            scores[key] = m["macro_f1"] + m["module_accuracy"]
        return scores[key]

    # One coordinate at a time: the full grid would take hours.
    pairs = {(tw, c): inner_score(title_weight=tw, C=c) for tw, c in itertools.product([0.3, 0.5, 1.0], [0.5, 1.0, 2.0])}
    best = dict(zip(("title_weight", "C"), max(pairs, key=pairs.get)))
    for name, values in [("other_clusters", [1, 4, 8, 16]), ("module_weight", [0.0, 0.25, 0.5])]:
        tried = {v: inner_score(**best, **{name: v}) for v in values}
        best[name] = max(tried, key=tried.get)
    print(f"  chosen: {best} (shipped: title_weight 0.3, C 1.0, other_clusters 8, module_weight 0.25)")
    X, y, w = data.X, data.y, data.weights
    chosen = RoleClassifier(**best).fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx])
    plain = clone(baseline()).fit(baseline_text(X.iloc[train_idx]), y[train_idx])
    print(line("  held-out baseline", classification_metrics(y[test_idx], plain.predict(baseline_text(X.iloc[test_idx])))))
    print(line("  held-out tobroles (chosen)", classification_metrics(y[test_idx], chosen.predict(X.iloc[test_idx]))))
    shipped = RoleClassifier().fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx])
    print(line("  held-out tobroles (shipped)", classification_metrics(y[test_idx], shipped.predict(X.iloc[test_idx]))))


if __name__ == "__main__":
    main()
