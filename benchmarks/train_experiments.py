"""Levers tried on the shipped classifier and not adopted, measured on the folds of `tobroles train`.

1. Confidence signals for the review status: the share of held-out errors among the 20% least
   confident rows (the review capture) for the max probability (what ships), the top-two margin,
   title-vs-duties agreement (the shipped linear layer's score split into its title and its duties
   columns, so no second model), and a logistic regression over all of them plus the description's
   length, fitted fold by fold on the other folds' held-out rows; then the same with one more
   input, a logistic regression over the features that predicts which ads the annotator marked a
   guess (sure = 1), fitted on each fold's training part.
2. Pseudo-labels from the unlabelled bundled corpus (--pseudo N): in each fold the model labels N
   corpus ads (none a repost of a labelled ad), those with confidence >= --pseudo-min join the
   training part with weight --pseudo-weight, and the model is refitted; macro-F1 before and after.
   --pseudo-roles-only keeps only the ads predicted as one of the 25 roles (the confident ones are
   otherwise almost all `other`).
3. Word vectors from the unlabelled corpus (--word-vectors WEIGHT; needs `pip install gensim`, which
   the project does not depend on): word2vec (100 dimensions, 5 epochs) over the duties of every
   bundled corpus and labelled ad, each ad's mean vector (l2-normed) added as a fourth feature block
   with that weight; cross-validated macro-F1 against the shipped features.
4. Character 2-3-grams of the duties (--body-chars WEIGHT) as a fourth block, the same way.
5. Other sample weights for the annotator's sureness (--sure-weights GUESS PROBABLE CLEAR; shipped
   0.3 0.7 1.0): cross-validated metrics on all ads and on the clear ones alone (sure = 3, whose
   labels are the least disputable).
6. Softer class balancing (--class-weight-power P): each class weighted (n / (k * count)) ** P
   instead of sklearn's "balanced" (P = 1), for the role, `other`-cluster and module SVMs alike.
7. Requirements apart (--requirements-apart WEIGHT): the duties block reads the duties section alone
   and the requirements section gets a block of its own with that weight (shipped: one block of both).

Usage: python benchmarks/train_experiments.py [--pseudo 20000 --pseudo-min 0.9 --pseudo-weight 0.3
       [--pseudo-roles-only]] [--word-vectors 0.2] [--body-chars 0.5] [--sure-weights 0.3 0.7 1]
       [--class-weight-power 0.5] [--requirements-apart 0.5]
Levers 3-7 print their comparison and stop; without them (or with --pseudo) the confidence signals
are measured.
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

import pipeline.estimator
from pipeline.estimator import RoleClassifier
from pipeline.features import PostingText, build_vectorizers, word_vectorizer
from pipeline.folds import grouped_folds, repost_groups, repost_keys
from pipeline.linear import body_texts, class_scores
from pipeline.metrics import classification_metrics, confidence_metrics
from pipeline.sections import split_sections
from pipeline.taxonomy import DATA_DIR
from pipeline.tokenize import TOKEN_PATTERN, get_tokenizer, stopwords
from pipeline.train import load_labelled


def view_scores(linear, features) -> tuple[np.ndarray, np.ndarray]:
    """Class scores from the title columns alone and from the duties columns alone."""
    features = features.tocsc()
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


def shipped_fit_predict(make=RoleClassifier):
    return lambda X_train, y_train, w_train, X_test: make().fit(X_train, y_train, sample_weight=w_train).predict(X_test)


def cv_predict(data, fit_predict, weights=None) -> np.ndarray:
    """Held-out predictions on the folds of `tobroles train`: fit_predict(X_train, y_train, w_train, X_test)."""
    X, y = data.X, data.y
    w = data.weights if weights is None else weights
    predicted = np.empty(len(y), dtype=object)
    for train_idx, test_idx in grouped_folds(repost_groups(X["description"]), y, 5, 0):
        predicted[test_idx] = fit_predict(X.iloc[train_idx], y[train_idx], w[train_idx], X.iloc[test_idx])
    return predicted


def patched_fit_predict(build_vectorizers_as=None, posting_text_as=None):
    """A fit_predict whose RoleClassifier builds its features with other vectorisers or another
    PostingText. Such features are not part of LinearModel, so the model scores from its own SVMs."""

    def fit_predict(X_train, y_train, w_train, X_test):
        saved = pipeline.estimator.build_vectorizers, pipeline.estimator.PostingText
        pipeline.estimator.build_vectorizers = build_vectorizers_as or saved[0]
        pipeline.estimator.PostingText = posting_text_as or saved[1]
        try:
            model = RoleClassifier().fit(X_train, y_train, sample_weight=w_train)
        finally:
            pipeline.estimator.build_vectorizers, pipeline.estimator.PostingText = saved
        features = model.vectorizers_.transform(model.text_.transform(X_test))
        return model.classes_[model._class_scores(model.svm_, model.module_svm_, features).argmax(axis=1)]

    return fit_predict


def with_block(name: str, block, column: str, weight: float):
    """build_vectorizers plus one more block over `column`."""

    def build(title_weight, body_weight):
        columns = build_vectorizers(title_weight, body_weight)
        columns.transformers.append((name, block, column))
        columns.transformer_weights[name] = weight
        return columns

    return build


def compare(data, label: str, fit_predict) -> None:
    """The shipped model and a variant on the same folds."""
    for name, predict in (("shipped features", shipped_fit_predict()), (label, fit_predict)):
        m = classification_metrics(data.y, cv_predict(data, predict))
        print(f"{name:<28} accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}  module {m['module_accuracy']:.3f}", flush=True)


class RequirementsApart(PostingText):
    """Duties in the duties column, requirements in a column of their own."""

    def body_columns(self, descriptions) -> dict[str, list[str]]:
        join = get_tokenizer(self.backend).join
        sections = [split_sections(None if pd.isna(d) else str(d)) for d in descriptions]
        return {"body_words": [join(duties) for duties, _ in sections], "requirements_words": [join(req) for _, req in sections]}


def word_vectors(data) -> MeanWordVector:
    from gensim.models import Word2Vec

    token, stop = re.compile(TOKEN_PATTERN), set(stopwords())
    corpus = pd.read_parquet(DATA_DIR / "corpus.parquet", columns=["description"])["description"]
    documents = body_texts(pd.concat([corpus, data.X["description"]], ignore_index=True), "rjieba")["body_words"]
    sentences = [[t for t in token.findall(doc) if t not in stop] for doc in documents]
    return MeanWordVector(Word2Vec(sentences, vector_size=100, window=5, min_count=3, workers=2, epochs=5, seed=0).wv)


def body_chars() -> TfidfVectorizer:
    """Character 2-3-grams of the duties text as written (the tokenizer's spaces taken out): they
    see compounds the segmenter cut differently from ad to ad."""
    return TfidfVectorizer(
        analyzer="char", ngram_range=(2, 3), min_df=3, max_df=0.5, sublinear_tf=True, dtype=np.float32,
        preprocessor=lambda text: text.replace(" ", ""),
    )


def sure_weight_cv(data, weights: list[float]) -> None:
    y, shipped, sure = data.y, data.weights, data.frame["sure"]
    alternative = sure.map(dict(zip((1, 2, 3), weights))).astype("float64").fillna(1.0).to_numpy()
    clear = (sure == 3).fillna(False).to_numpy()
    for name, w in (("shipped sure weights", shipped), (f"sure weights {' '.join(map(str, weights))}", alternative)):
        predicted = cv_predict(data, shipped_fit_predict(), w)
        for subset, rows in (("all ads", slice(None)), ("clear ads", clear)):
            m = classification_metrics(y[rows], predicted[rows])
            print(f"{name:<28} {subset:<10} accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}  module {m['module_accuracy']:.3f}", flush=True)


class PowerBalancedSVC(LinearSVC):
    """LinearSVC whose class weights are sklearn's "balanced" ones raised to `power`."""

    def __init__(self, power: float = 1.0, C: float = 1.0, random_state=None):
        super().__init__(C=C, random_state=random_state)
        self.power = power

    def fit(self, X, y, sample_weight=None):
        classes, counts = np.unique(y, return_counts=True)
        self.class_weight = dict(zip(classes, (len(y) / (len(classes) * counts)) ** self.power))
        return super().fit(X, y, sample_weight=sample_weight)


def class_weight_cv(data, power: float) -> None:
    class Softer(RoleClassifier):
        def _svm(self):
            return PowerBalancedSVC(power, C=self.C, random_state=self.random_state)

    compare(data, f"class weights balanced ** {power}", shipped_fit_predict(Softer))


def cross_fitted(inputs: np.ndarray, correct: np.ndarray, fold_of: np.ndarray) -> np.ndarray:
    """P(correct) from a logistic regression over `inputs`, each fold scored by one fitted on the others."""
    out = np.zeros(len(correct))
    for k in np.unique(fold_of):
        fit, score = fold_of != k, fold_of == k
        out[score] = LogisticRegression(max_iter=2000).fit(inputs[fit], correct[fit]).predict_proba(inputs[score])[:, 1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pseudo", type=int, default=0, help="unlabelled ads to pseudo-label per fold (0: skip)")
    parser.add_argument("--pseudo-min", type=float, default=0.9)
    parser.add_argument("--pseudo-weight", type=float, default=0.3)
    parser.add_argument("--pseudo-roles-only", action="store_true", help="pseudo-label only ads predicted as one of the 25 roles, never `other`")
    parser.add_argument("--word-vectors", type=float, default=0.0, help="weight of a word2vec block (0: skip)")
    parser.add_argument("--body-chars", type=float, default=0.0, help="weight of a duties character n-gram block (0: skip)")
    parser.add_argument("--sure-weights", type=float, nargs=3, metavar=("GUESS", "PROBABLE", "CLEAR"), help="sample weights by the annotator's sureness (shipped: 0.3 0.7 1)")
    parser.add_argument("--requirements-apart", type=float, default=0.0, help="weight of a requirements block, the duties block then holding duties alone (0: skip)")
    parser.add_argument("--class-weight-power", type=float, help="compare class weights balanced ** P with the shipped balanced ones")
    args = parser.parse_args()
    data = load_labelled()
    if args.sure_weights:
        sure_weight_cv(data, args.sure_weights)
    if args.class_weight_power is not None:
        class_weight_cv(data, args.class_weight_power)
    for weight, name, make in ((args.word_vectors, "word vectors", word_vectors), (args.body_chars, "duties chars", lambda data: body_chars())):
        if weight:
            compare(data, f"+ {name} x{weight}", patched_fit_predict(with_block(name.replace(" ", "_"), make(data), "body_words", weight)))
    if args.requirements_apart:
        block = with_block("requirements_words", word_vectorizer(min_df=2, max_df=0.5), "requirements_words", args.requirements_apart)
        compare(data, f"requirements apart x{args.requirements_apart}", patched_fit_predict(block, RequirementsApart))
    if not args.pseudo and (args.word_vectors or args.body_chars or args.sure_weights or args.class_weight_power is not None or args.requirements_apart):
        return
    X, y, w = data.X, data.y, data.weights
    unlabelled = unlabelled_ads(X, args.pseudo) if args.pseudo else None
    proba = title = body = None
    fold_of = np.zeros(len(y), dtype=int)
    guessed, unsure = (data.frame["sure"] == 1).fillna(False).to_numpy(), np.zeros(len(y))
    pseudo_pred = np.empty(len(y), dtype=object)
    for k, (train_idx, test_idx) in enumerate(grouped_folds(repost_groups(X["description"]), y, 5, 0)):
        model = RoleClassifier().fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx])
        linear = model.linear()
        test_features = linear.features(X.iloc[test_idx])
        p = linear.proba_of_features(test_features)
        t, b = view_scores(linear, test_features)
        # Where annotators hesitate, learned from the text: sure = 1 (a guess between two roles).
        hesitant = LogisticRegression(max_iter=2000, class_weight="balanced").fit(linear.features(X.iloc[train_idx]), guessed[train_idx])
        unsure[test_idx] = hesitant.predict_proba(test_features)[:, 1]
        if proba is None:
            proba, title, body = (np.zeros((len(y), p.shape[1])) for _ in range(3))
        proba[test_idx], title[test_idx], body[test_idx], fold_of[test_idx] = p, t, b, k
        if unlabelled is not None:
            pu = model.predict_proba(unlabelled)
            guess = model.classes_[pu.argmax(axis=1)]
            chosen = (pu.max(axis=1) >= args.pseudo_min) & ((guess != "other") | (not args.pseudo_roles_only))
            X2 = pd.concat([X.iloc[train_idx], unlabelled[chosen]], ignore_index=True)
            y2 = np.concatenate([y[train_idx], guess[chosen]])
            w2 = np.concatenate([w[train_idx], np.full(chosen.sum(), args.pseudo_weight)])
            refit = RoleClassifier().fit(X2, y2, sample_weight=w2)
            pseudo_pred[test_idx] = refit.predict(X.iloc[test_idx])
            print(f"fold {k}: {chosen.sum():,} pseudo-labelled ads ({(guess[chosen] == 'other').mean():.0%} other)", flush=True)
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
    signals["logistic regression over all of them + length"] = cross_fitted(meta, correct, fold_of)
    signals["... + a model of where annotators guessed"] = cross_fitted(np.column_stack([meta, unsure]), correct, fold_of)
    signals["that model alone (1 - P(guess))"] = 1 - unsure
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
