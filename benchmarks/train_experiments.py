"""Levers tried on the shipped classifier and not adopted, measured on the folds of `tobroles train`.

1. Confidence signals for the review status: the share of held-out errors among the 20% least
   confident rows (the review capture) for the max probability (what ships), the top-two margin,
   title-vs-duties agreement (the shipped linear layer's score split into its title and its duties
   columns, so no second model), and a logistic regression over all of them plus the description's
   length, fitted fold by fold on the other folds' held-out rows.
2. Pseudo-labels from the unlabelled bundled corpus (--pseudo N): in each fold the model labels N
   corpus ads (none a repost of a labelled ad), those with confidence >= --pseudo-min join the
   training part with weight --pseudo-weight, and the model is refitted; macro-F1 before and after.
3. Word vectors from the unlabelled corpus (--word-vectors WEIGHT; needs `pip install gensim`, which
   the project does not depend on): word2vec (100 dimensions, 5 epochs) over the duties of every
   bundled corpus and labelled ad, each ad's mean vector (l2-normed) added as a fourth feature block
   with that weight; cross-validated macro-F1 against the shipped features.

Usage: python benchmarks/train_experiments.py [--pseudo 20000 --pseudo-min 0.9 --pseudo-weight 0.3]
       [--word-vectors 0.2]
"""

from __future__ import annotations

import argparse

import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression

import pipeline.estimator
from pipeline.estimator import RoleClassifier
from pipeline.features import build_vectorizers
from pipeline.folds import grouped_folds, repost_groups, repost_keys
from pipeline.linear import body_texts, class_scores
from pipeline.metrics import classification_metrics, confidence_metrics
from pipeline.taxonomy import DATA_DIR
from pipeline.tokenize import TOKEN_PATTERN, stopwords
from pipeline.train import load_labelled


def view_scores(model: RoleClassifier, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Class scores from the title columns alone and from the duties columns alone."""
    linear = model.linear()
    features = linear.features(X).tocsc()
    edges = np.cumsum([0] + [len(b.vocabulary) for b in linear.blocks])
    views = []
    for prefix in ("title", "body"):
        columns = np.concatenate([np.arange(edges[i], edges[i + 1]) for i, b in enumerate(linear.blocks) if b.name.startswith(prefix)])
        views.append(class_scores(features[:, columns] @ linear.coef[:, columns].T + linear.intercept, linear.owner, len(linear.classes_)))
    return views[0], views[1]


def unlabelled_ads(labelled: pd.DataFrame, n: int) -> pd.DataFrame:
    corpus = pd.read_parquet(DATA_DIR / "corpus.parquet", columns=["title", "description"])
    reposted = repost_keys(corpus["description"]).isin(set(repost_keys(labelled["description"]))).to_numpy()
    keep = ~reposted & (corpus["description"].fillna("").str.len() >= 40).to_numpy()
    return corpus[keep].sample(n=min(n, int(keep.sum())), random_state=0).reset_index(drop=True)


class MeanWordVector(TransformerMixin, BaseEstimator):
    """Joined duties tokens → the l2-normed mean of their word vectors (a dense block, as CSR)."""

    def __init__(self, vectors=None):
        self.vectors = vectors

    def fit(self, documents, y=None):
        return self

    def transform(self, documents):
        keys, out = self.vectors.key_to_index, np.zeros((len(documents), self.vectors.vector_size), dtype=np.float32)
        for i, doc in enumerate(documents):
            found = [t for t in doc.split(" ") if t in keys]
            if found:
                mean = self.vectors[found].mean(axis=0)
                out[i] = mean / (np.linalg.norm(mean) or 1.0)
        return sp.csr_matrix(out)


def word_vector_cv(data, weight: float) -> tuple[dict, dict]:
    from gensim.models import Word2Vec

    X, y, w = data.X, data.y, data.weights
    token, stop = re.compile(TOKEN_PATTERN), set(stopwords())
    corpus = pd.read_parquet(DATA_DIR / "corpus.parquet", columns=["description"])["description"]
    documents = body_texts(pd.concat([corpus, X["description"]], ignore_index=True), "rjieba")["body_words"]
    sentences = [[t for t in token.findall(doc) if t not in stop] for doc in documents]
    vectors = Word2Vec(sentences, vector_size=100, window=5, min_count=3, workers=2, epochs=5, seed=0).wv

    def with_vectors(title_weight, body_weight):
        columns = build_vectorizers(title_weight, body_weight)
        columns.transformers.append(("body_vectors", MeanWordVector(vectors), "body_words"))
        columns.transformer_weights["body_vectors"] = weight
        return columns

    shipped, extended = np.empty(len(y), dtype=object), np.empty(len(y), dtype=object)
    for train_idx, test_idx in grouped_folds(repost_groups(X["description"]), y, 5, 0):
        shipped[test_idx] = RoleClassifier().fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx]).predict(X.iloc[test_idx])
        # RoleClassifier builds its features with estimator.build_vectorizers; the dense block is
        # not part of LinearModel, so this model scores from its own SVMs.
        pipeline.estimator.build_vectorizers, original = with_vectors, build_vectorizers
        try:
            model = RoleClassifier().fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx])
        finally:
            pipeline.estimator.build_vectorizers = original
        features = model.vectorizers_.transform(model.text_.transform(X.iloc[test_idx]))
        extended[test_idx] = model.classes_[model._class_scores(model.svm_, model.module_svm_, features).argmax(axis=1)]
    return classification_metrics(y, shipped), classification_metrics(y, extended)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pseudo", type=int, default=0, help="unlabelled ads to pseudo-label per fold (0: skip)")
    parser.add_argument("--pseudo-min", type=float, default=0.9)
    parser.add_argument("--pseudo-weight", type=float, default=0.3)
    parser.add_argument("--word-vectors", type=float, default=0.0, help="weight of a word2vec block (0: skip)")
    args = parser.parse_args()
    data = load_labelled()
    if args.word_vectors:
        for name, m in zip(("shipped features", f"+ word vectors x{args.word_vectors}"), word_vector_cv(data, args.word_vectors)):
            print(f"{name:<24} accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}  module {m['module_accuracy']:.3f}", flush=True)
    X, y, w = data.X, data.y, data.weights
    unlabelled = unlabelled_ads(X, args.pseudo) if args.pseudo else None
    proba = title = body = None
    fold_of = np.zeros(len(y), dtype=int)
    pseudo_pred = np.empty(len(y), dtype=object)
    for k, (train_idx, test_idx) in enumerate(grouped_folds(repost_groups(X["description"]), y, 5, 0)):
        model = RoleClassifier().fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx])
        p = model.predict_proba(X.iloc[test_idx])
        t, b = view_scores(model, X.iloc[test_idx])
        if proba is None:
            proba, title, body = (np.zeros((len(y), p.shape[1])) for _ in range(3))
        proba[test_idx], title[test_idx], body[test_idx], fold_of[test_idx] = p, t, b, k
        if unlabelled is not None:
            pu = model.predict_proba(unlabelled)
            chosen = pu.max(axis=1) >= args.pseudo_min
            X2 = pd.concat([X.iloc[train_idx], unlabelled[chosen]], ignore_index=True)
            y2 = np.concatenate([y[train_idx], model.classes_[pu[chosen].argmax(axis=1)]])
            w2 = np.concatenate([w[train_idx], np.full(chosen.sum(), args.pseudo_weight)])
            refit = RoleClassifier().fit(X2, y2, sample_weight=w2)
            pseudo_pred[test_idx] = refit.predict(X.iloc[test_idx])
            print(f"fold {k}: {chosen.sum():,} pseudo-labelled ads ({(model.classes_[pu[chosen].argmax(axis=1)] == 'other').mean():.0%} other)", flush=True)
    classes = model.classes_
    best = proba.argmax(axis=1)
    correct = classes[best] == y
    rows = np.arange(len(y))
    top2 = np.sort(proba, axis=1)[:, -2:]
    title_agrees = title.argmax(axis=1) == best
    body_agrees = body.argmax(axis=1) == best
    signals = {
        "max probability (shipped)": top2[:, 1],
        "top-two margin": top2[:, 1] - top2[:, 0],
        "max probability - 0.1 title / 0.2 duties disagreeing": top2[:, 1] - 0.1 * ~title_agrees - 0.2 * ~body_agrees,
    }
    meta = np.column_stack([
        np.log(top2[:, 1]), top2[:, 1] - top2[:, 0], title_agrees, body_agrees,
        title[rows, best] - title.max(axis=1), body[rows, best] - body.max(axis=1),
        np.log1p(X["description"].fillna("").str.len().to_numpy()),
    ])
    learned = np.zeros(len(y))
    for k in range(5):
        fit, score = fold_of != k, fold_of == k
        learned[score] = LogisticRegression(max_iter=2000).fit(meta[fit], correct[fit]).predict_proba(meta[score])[:, 1]
    signals["logistic regression over all of them + length"] = learned
    print(f"{len(y):,} labelled ads, held-out accuracy {correct.mean():.3f}; the title view alone picks the same role on {title_agrees.mean():.0%}, the duties view on {body_agrees.mean():.0%}")
    print("review capture (errors among the 20% least confident rows) and ECE:")
    for name, confidence in signals.items():
        c = confidence_metrics(correct, confidence)
        ece = f"ECE {c['ece']:.3f}" if confidence.min() >= 0 and confidence.max() <= 1 else "(not a probability)"
        print(f"  {name:<55} {c['review_capture']:.1%}  {ece}")
    if unlabelled is not None:
        before = classification_metrics(y, classes[best])
        after = classification_metrics(y, pseudo_pred)
        for name, m in (("without pseudo-labels", before), ("with pseudo-labels", after)):
            print(f"{name:<24} accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}  module {m['module_accuracy']:.3f}")


if __name__ == "__main__":
    main()
