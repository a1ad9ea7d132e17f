"""Classification: postings → one of the 25 roles or `other`, its module, a calibrated confidence.

`RoleClassifier` is a scikit-learn estimator (fit / predict / predict_proba / explain). `classify_frame`
turns its output into the columns users get: role, names, module, confidence, alternatives, status.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from .features import TEXT_COLUMNS, PostingText, build_vectorizers
from .folds import grouped_folds, repost_groups
from .taxonomy import OTHER, taxonomy
from .tokenize import BACKENDS, DEFAULT_BACKEND

OUTPUT_COLUMNS = ["role", "role_name", "module", "module_name", "confidence", "alternatives", "status", "model"]
STATUSES = ("ok", "review", "no_text")
# A cluster of `other` needs this many ads on average; smaller ones would only fit noise.
MIN_CLUSTER_ADS = 20


def _weights(svm: LinearSVC) -> tuple[np.ndarray, np.ndarray]:
    """Weights and intercepts with one row per class, also for two classes (where sklearn keeps one)."""
    if len(svm.classes_) > 2:
        return svm.coef_, svm.intercept_
    return np.vstack([-svm.coef_[0], svm.coef_[0]]), np.array([-svm.intercept_[0], svm.intercept_[0]])


def _check_frame(X) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"expected a DataFrame with columns {TEXT_COLUMNS}, got {type(X).__name__}")
    missing = [c for c in TEXT_COLUMNS if c not in X.columns]
    if missing:
        raise ValueError(f"postings need the columns {TEXT_COLUMNS}; missing {missing}")
    return X


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y_index: np.ndarray) -> float:
    """The temperature T that makes softmax(scores / T) best predict y (log-loss).

    One parameter for all classes keeps the SVM's ranking (argmax) intact, unlike per-class sigmoids,
    which pull rare roles down and cost macro-F1.
    """
    rows = np.arange(len(y_index))

    def loss(log_t: float) -> float:
        p = _softmax(scores, np.exp(log_t))[rows, y_index]
        return float(-np.log(np.clip(p, 1e-12, None)).mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 3.0), method="bounded").x))


class RoleClassifier(ClassifierMixin, BaseEstimator):
    """Linear SVM over title and duties features, with temperature-calibrated probabilities.

    Parameters
    ----------
    backend: tokenizer backend, "rjieba" (fast) or "jieba" (reference).
    C: inverse regularisation of the SVM.
    title_weight, body_weight: how much the title and the duties/requirements features count.
    calibration_folds: folds of the held-out decision values that fit the temperature (reposts of an ad
        stay in one fold, see folds.py).
    other_clusters: `other` is every job outside the taxonomy (drivers, engineers, cashiers, ...), and
        one linear boundary cannot fence off such a mix from the 25 roles. Its ads are split into this
        many clusters (k-means over their features) that the SVM learns as classes of their own; a
        cluster's score counts for `other` (the best cluster's). 1 learns `other` as one class.
    module_weight: a second SVM learns each ad's module (acquisition, conversion, service, other) and
        this share of its score is added to every role of that module: it pools the evidence of a
        module's roles, which the role SVM keeps apart. 0 turns it off.
    """

    def __init__(
        self,
        backend: str = DEFAULT_BACKEND,
        C: float = 1.0,
        title_weight: float = 0.3,
        body_weight: float = 1.0,
        calibration_folds: int = 5,
        other_clusters: int = 8,
        module_weight: float = 0.25,
        random_state: int = 0,
    ):
        self.backend = backend
        self.C = C
        self.title_weight = title_weight
        self.body_weight = body_weight
        self.calibration_folds = calibration_folds
        self.other_clusters = other_clusters
        self.module_weight = module_weight
        self.random_state = random_state

    def _check_params(self, y: np.ndarray) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if not self.C > 0:
            raise ValueError(f"C must be positive, got {self.C}")
        if self.title_weight < 0 or self.body_weight < 0 or self.title_weight + self.body_weight == 0:
            raise ValueError("title_weight and body_weight must be >= 0 and not both 0")
        if self.calibration_folds < 2:
            raise ValueError(f"calibration_folds must be at least 2, got {self.calibration_folds}")
        if not isinstance(self.other_clusters, (int, np.integer)) or self.other_clusters < 1:
            raise ValueError(f"other_clusters must be a whole number >= 1, got {self.other_clusters!r}")
        if not self.module_weight >= 0:
            raise ValueError(f"module_weight must be >= 0, got {self.module_weight}")
        roles = pd.unique(y)
        if len(roles) < 2:
            raise ValueError(f"need at least two roles to learn, got {list(roles)}")
        unknown = sorted(set(map(str, roles)) - set(taxonomy().role_ids))
        if unknown:
            raise ValueError(f"labels must be role ids of the taxonomy; unknown: {unknown}")

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight="balanced", random_state=self.random_state)

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        X = _check_frame(X)
        y = np.asarray(y, dtype=object)
        self._check_params(y)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.text_ = PostingText(self.backend).fit(X)
        self.vectorizers_ = build_vectorizers(self.title_weight, self.body_weight)
        features = self.vectorizers_.fit_transform(self.text_.transform(X))
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self.class_modules_ = np.array([taxonomy().module_of(c) or OTHER for c in self.classes_], dtype=object)
        modules = self.class_modules_[y_index]
        labels, self.subclass_owner_ = self._subclasses(features, y_index)
        held_out = self._held_out_scores(features, labels, modules, y_index, repost_groups(X["description"]), weights)
        # A role missing from a split's training part scores -inf for its held-out ads whatever the
        # temperature, so those ads cannot inform it.
        scored = np.isfinite(held_out[np.arange(len(y_index)), y_index])
        if not scored.any():
            raise ValueError("too few ads per role to calibrate: no held-out ad was scored for its own role")
        # Unweighted: confidence must be honest on the unsure ads too, not only on the clear ones.
        self.temperature_ = fit_temperature(held_out[scored], y_index[scored])
        self.svm_, self.module_svm_ = self._fit_svms(features, labels, modules, weights)
        return self

    def _fit_svms(self, features, labels: np.ndarray, modules: np.ndarray, weights) -> tuple[LinearSVC, LinearSVC | None]:
        """The role SVM, and the module SVM (None when it is off or there is a single module)."""
        svm = self._svm().fit(features, labels, sample_weight=weights)
        if self.module_weight == 0 or len(np.unique(modules)) < 2:
            return svm, None
        return svm, self._svm().fit(features, modules, sample_weight=weights)

    def _subclasses(self, features, y_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training labels with `other` split into clusters, and the class each label stands for."""
        owner = np.arange(len(self.classes_))
        other = np.flatnonzero(self.classes_ == OTHER)
        rows = np.flatnonzero(y_index == other[0]) if len(other) else np.array([], dtype=int)
        k = min(self.other_clusters, len(rows) // MIN_CLUSTER_ADS)
        if k < 2:
            return y_index, owner
        clusters = KMeans(k, n_init=3, random_state=self.random_state).fit_predict(features[rows])
        labels = y_index.copy()
        # Cluster 0 keeps `other`'s own label; the others get new labels after the classes.
        labels[rows[clusters > 0]] = len(owner) + clusters[clusters > 0] - 1
        return labels, np.concatenate([owner, np.full(k - 1, other[0])])

    def _held_out_scores(self, features, labels: np.ndarray, modules: np.ndarray, y_index: np.ndarray, groups: np.ndarray, weights) -> np.ndarray:
        """Decision values of each ad from a model fitted without it (nor its reposts)."""
        held_out = np.full((len(y_index), len(self.classes_)), -np.inf)
        for train_idx, test_idx in grouped_folds(groups, y_index, self.calibration_folds, self.random_state):
            if len(np.unique(labels[train_idx])) < 2:
                continue
            svms = self._fit_svms(features[train_idx], labels[train_idx], modules[train_idx], None if weights is None else weights[train_idx])
            held_out[test_idx] = self._class_scores(*svms, features[test_idx])
        return held_out

    def _linear(self, svm: LinearSVC, module_svm: LinearSVC | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Both SVMs as one linear layer: per label of the role SVM (a role, or a cluster of `other`)
        its weights and intercept plus `module_weight` times those of its module, and its class.

        Scoring and explaining read these same weights, so explanations are exact."""
        coef, intercept = _weights(svm)
        owner = self.subclass_owner_[svm.classes_]
        if module_svm is not None:
            # Both SVMs learn from the same ads, so every label's module is among the module SVM's classes.
            module_row = {m: i for i, m in enumerate(module_svm.classes_)}
            rows = np.array([module_row[m] for m in self.class_modules_[owner]])
            module_coef, module_intercept = _weights(module_svm)
            coef = coef + self.module_weight * module_coef[rows]
            intercept = intercept + self.module_weight * module_intercept[rows]
        return coef, intercept, owner

    def _class_scores(self, svm: LinearSVC, module_svm: LinearSVC | None, features) -> np.ndarray:
        """Decision values per class: a class the SVMs never saw scores -inf, `other` its best cluster."""
        coef, intercept, owner = self._linear(svm, module_svm)
        raw = features @ coef.T + intercept
        scores = np.full((raw.shape[0], len(self.classes_)), -np.inf)
        scores[:, owner] = raw
        split, counts = np.unique(owner, return_counts=True)
        for c in split[counts > 1]:
            scores[:, c] = raw[:, owner == c].max(axis=1)
        return scores

    def features(self, X: pd.DataFrame):
        """The sparse feature matrix; equals `vectorizers_.transform(text_.transform(X))`.

        Real ad sets repeat themselves (reposts, a company's standard titles, one description under
        several titles), so each distinct title and each distinct description is tokenised and
        vectorised once, and the rows are gathered after.
        """
        check_is_fitted(self, "svm_")
        X = _check_frame(X)
        title_rows, titles = pd.factorize(X["title"].fillna(""))
        body_rows, bodies = pd.factorize(X["description"].fillna(""))
        texts = {**self.text_.title_columns(titles), **self.text_.body_columns(bodies)}
        rows = {"title_words": title_rows, "title_chars": title_rows, "body_words": body_rows}
        blocks = []
        for name, vectorizer, column in self.vectorizers_.transformers_:
            if vectorizer == "drop":
                continue
            weight = self.vectorizers_.transformer_weights.get(name, 1.0)
            blocks.append((vectorizer.transform(texts[column]) * weight)[rows[column]])
        return sp.hstack(blocks, format="csr")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self._class_scores(self.svm_, self.module_svm_, self.features(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.proba_of_features(self.features(X))

    def proba_of_features(self, features) -> np.ndarray:
        """`predict_proba` from the matrix `features` gives, for callers that also explain."""
        return _softmax(self._class_scores(self.svm_, self.module_svm_, features), self.temperature_)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def explain(self, X: pd.DataFrame, roles, top: int = 5) -> list[list[tuple[str, float]]]:
        """For each posting, the terms that pushed it most towards `roles[i]`: feature value × weight."""
        return self.explain_features(self.features(X), roles, top)

    def explain_features(self, features, roles, top: int = 5) -> list[list[tuple[str, float]]]:
        """`explain` from the matrix `features` gives."""
        features = features.tocsr()
        coef, intercept, owner = self._linear(self.svm_, self.module_svm_)
        names = self.vectorizers_.get_feature_names_out()
        # A split class explains with the weights of the cluster that scored the ad highest.
        rows_of = {c: np.flatnonzero(owner == i) for i, c in enumerate(self.classes_)}
        raw = features @ coef.T + intercept
        out = []
        for i, role in enumerate(roles):
            start, end = features.indptr[i], features.indptr[i + 1]
            candidates = rows_of.get(role, ())
            if len(candidates) == 0 or start == end:
                out.append([])
                continue
            row = candidates[raw[i, candidates].argmax()]
            columns = features.indices[start:end]
            contributions = features.data[start:end] * coef[row][columns]
            order = np.argsort(-contributions)[:top]
            out.append([(_term(names[columns[j]]), round(float(contributions[j]), 3)) for j in order if contributions[j] > 0])
        return out


def _term(feature_name: str) -> str:
    """'title_words__客户成功' → 'title:客户成功'; 'body_words__私域' → '私域'."""
    block, _, term = feature_name.partition("__")
    return term if block == "body_words" else f"title:{term.strip()}"


def classify_frame(
    classifier: RoleClassifier,
    postings: pd.DataFrame,
    *,
    model_id: str,
    top_k: int = 3,
    min_confidence: float = 0.5,
    min_margin: float = 0.1,
    explain: bool = False,
) -> pd.DataFrame:
    """The role columns for `postings` (title, description), one output row per input row, same index."""
    postings = _check_frame(postings)
    t = taxonomy()
    has_text = (
        (postings["title"].fillna("").astype(str).str.strip() != "")
        | (postings["description"].fillna("").astype(str).str.strip() != "")
    ).to_numpy()
    n, rows = len(postings), np.flatnonzero(has_text)
    columns = {c: np.full(n, None, dtype=object) for c in OUTPUT_COLUMNS}
    columns["confidence"] = np.full(n, np.nan)
    columns["status"][:] = "no_text"
    columns["model"][:] = model_id
    if explain:
        columns["explanation"] = np.full(n, None, dtype=object)
    if len(rows):
        # Featurised once: tokenising is the costly step, and --explain reads the same matrix.
        features = classifier.features(postings.iloc[rows])
        proba = classifier.proba_of_features(features)
        order = np.argsort(-proba, axis=1)
        classes = classifier.classes_
        # Per-class lookups, then one gather per column: no Python work per row but the JSON text.
        role_name = np.array([t.role(c).zh for c in classes], dtype=object)
        module = np.array([t.module_of(c) or "" for c in classes], dtype=object)
        module_name = np.array([t.module(m).zh if m else "" for m in module], dtype=object)
        best = order[:, 0]
        top1 = proba[np.arange(len(proba)), best]
        top2 = proba[np.arange(len(proba)), order[:, 1]] if proba.shape[1] > 1 else np.zeros(len(proba))
        columns["role"][rows] = classes[best]
        columns["role_name"][rows] = role_name[best]
        columns["module"][rows] = module[best]
        columns["module_name"][rows] = module_name[best]
        columns["confidence"][rows] = np.round(top1, 4)
        # A JSON object per row, built as text: json.dumps per row costs more than the classifier.
        alternatives = order[:, 1 : top_k + 1]
        alt_proba = np.take_along_axis(proba, alternatives, axis=1)
        quoted = [json.dumps(c) for c in classes]
        columns["alternatives"][rows] = [
            "{" + ", ".join(f"{quoted[j]}: {p:.4f}" for j, p in zip(js, ps)) + "}" for js, ps in zip(alternatives.tolist(), alt_proba.tolist())
        ]
        unsure = (top1 < min_confidence) | (top1 - top2 < min_margin)
        columns["status"][rows] = np.where(unsure, "review", "ok")
        if explain:
            columns["explanation"][rows] = [
                "; ".join(f"{term} {w:+.2f}" for term, w in terms) for terms in classifier.explain_features(features, classes[best])
            ]
    return pd.DataFrame(
        {c: pd.array(v, dtype="float64" if c == "confidence" else "string") for c, v in columns.items()},
        index=postings.index,
    )


def with_roles(base: pd.DataFrame, roles: pd.DataFrame) -> pd.DataFrame:
    """`base` rows (input columns, in order) followed by the role columns.

    An input column that an output column would shadow (a board's own `status`, say) is kept as
    `input_<name>`; only a file that is itself classify output has its old role columns replaced.
    """
    clashing = [c for c in roles.columns if c in base.columns]
    if set(OUTPUT_COLUMNS) <= set(base.columns):
        base = base.drop(columns=clashing)
    else:
        base = base.rename(columns={c: f"input_{c}" for c in clashing})
    return pd.concat([base.reset_index(drop=True), roles.reset_index(drop=True)], axis=1)
