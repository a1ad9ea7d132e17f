"""The estimator: labelled postings → a fitted model of the 25 roles or `other`, its module and a
calibrated confidence.

`RoleClassifier` is a scikit-learn estimator (fit / predict / predict_proba / explain). Once fitted,
it predicts through `linear()`, the same `LinearModel` the model folder keeps for classifying without
scikit-learn, so there is one implementation of scoring.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from .classify import check_frame
from .features import PostingText, WordTfidf, build_vectorizers
from .folds import grouped_folds, repost_groups
from .linear import LinearModel, TfidfBlock, TitleView, _softmax, class_scores
from .taxonomy import OTHER, taxonomy
from .tokenize import BACKENDS, DEFAULT_BACKEND

# A cluster of `other` needs this many ads on average; smaller ones would only fit noise.
MIN_CLUSTER_ADS = 20


def _weights(svm: LinearSVC) -> tuple[np.ndarray, np.ndarray]:
    """Weights and intercepts with one row per class, also for two classes (where sklearn keeps one)."""
    if len(svm.classes_) > 2:
        return svm.coef_, svm.intercept_
    return np.vstack([-svm.coef_[0], svm.coef_[0]]), np.array([-svm.intercept_[0], svm.intercept_[0]])


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


def _stable_centres(X, k: int) -> np.ndarray:
    """Starting centres for k-means that a few ads more or less barely move: the ads grouped by the
    principal direction they lie furthest along (exact SVD, signs fixed by the data), averaged.
    Random starts land in another local optimum when 0.3% of the labels change, and the `other`
    clusters, classes of the SVM, move hundreds of predictions with them."""
    from scipy.sparse.linalg import svds

    k = min(k, min(X.shape) - 1)
    # A fixed start vector makes ARPACK's answer a function of the data alone.
    _, _, vt = svds(X.astype(np.float64), k=k, v0=np.ones(min(X.shape)) / np.sqrt(min(X.shape)))
    projection = X @ vt.T
    projection *= np.sign(projection.sum(axis=0) + 1e-12)
    group = np.asarray(projection.argmax(axis=1)).ravel()
    centres = np.vstack([np.asarray(X[group == j].mean(axis=0)) if (group == j).any() else vt[j] for j in range(k)])
    return centres


# Confidence bands of the held-out confusion (the report conditions on them, see estimates.py).
CONFIDENCE_BINS = np.array([0.0, 0.5, 0.7, 0.85, 0.95, 1.0])


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

    A second, title view (the same SVMs fitted on the title features alone, with a temperature of its
    own fitted on held-out titles) scores the postings whose description gives no feature: a title
    alone is weaker evidence, and a model that learned to lean on duties is overconfident without them.
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
        X = check_frame(X)
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
        # How often each true class is labelled as each class by a model that did not see the ad:
        # what the report needs to correct raw counts (adjusted classify-and-count).
        predicted = held_out[scored].argmax(axis=1)
        posteriors = _softmax(held_out[scored], self.temperature_)
        confidence = posteriors.max(axis=1)
        # Mean probability vector of the held-out ads of each true class: what PACC inverts.
        means = np.zeros((len(self.classes_), len(self.classes_)))
        np.add.at(means, y_index[scored], posteriors)
        per_class = np.bincount(y_index[scored], minlength=len(self.classes_))[:, None]
        self.heldout_posteriors_ = np.divide(means, per_class, out=np.eye(len(self.classes_)), where=per_class > 0)
        n, bins = len(self.classes_), len(CONFIDENCE_BINS) - 1
        band = np.clip(np.digitize(confidence, CONFIDENCE_BINS[1:-1]), 0, bins - 1)
        # true class × predicted class × confidence band: the report's estimates read it.
        self.heldout_confusion_ = np.bincount((y_index[scored] * n + predicted) * bins + band, minlength=n * n * bins).reshape(n, n, bins)
        self.svm_, self.module_svm_ = self._fit_svms(features, labels, modules, weights)
        self._fit_title_view(features, labels, modules, y_index, repost_groups(X["description"]), weights)
        return self

    def _title_features(self, features):
        """The title blocks' columns, unweighted: the title view learns its own scale."""
        return features[:, : self.title_columns_] * (1.0 / self.title_weight)

    def _fit_title_view(self, features, labels, modules, y_index, groups, weights) -> None:
        self.title_columns_ = int(self.vectorizers_.output_indices_["body_words"].start)
        if self.title_weight == 0 or self.title_columns_ == 0:
            self.title_svm_ = self.title_module_svm_ = None
            self.title_temperature_ = 1.0
            return
        titles = self._title_features(features)
        held_out = self._held_out_scores(titles, labels, modules, y_index, groups, weights)
        scored = np.isfinite(held_out[np.arange(len(y_index)), y_index])
        self.title_temperature_ = fit_temperature(held_out[scored], y_index[scored])
        self.title_svm_, self.title_module_svm_ = self._fit_svms(titles, labels, modules, weights)

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
        from sklearn.cluster import KMeans  # fitting only: classifying never imports it

        X = features[rows]
        centres = _stable_centres(X, k)
        k = len(centres)
        clusters = KMeans(k, init=centres, n_init=1).fit_predict(X)
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
        return class_scores(features @ coef.T + intercept, owner, len(self.classes_))

    def linear(self) -> LinearModel:
        """The fitted model as plain arrays (built once per instance; never saved with it)."""
        check_is_fitted(self, "svm_")
        cached = self.__dict__.get("_linear_model")
        if cached is None:
            coef, intercept, owner = self._linear(self.svm_, self.module_svm_)
            blocks = []
            for name, vectorizer, _ in self.vectorizers_.transformers_:
                if vectorizer == "drop":
                    continue
                if isinstance(vectorizer, WordTfidf) and vectorizer.ngram_range == (1, 1):
                    analyzer = "unigrams"
                else:
                    analyzer = "char_wb" if vectorizer.analyzer == "char_wb" else "words"
                stop = frozenset(vectorizer.get_stop_words() or ()) if analyzer == "words" else frozenset()
                weight = float(self.vectorizers_.transformer_weights.get(name, 1.0))
                blocks.append(TfidfBlock(name, analyzer, tuple(vectorizer.ngram_range), stop, dict(vectorizer.vocabulary_), vectorizer.idf_, weight))
            title_view = None
            if self.title_svm_ is not None:
                title_coef, title_intercept, _ = self._linear(self.title_svm_, self.title_module_svm_)
                # The view reads the weighted features that `features` gives: fold the unweighting in.
                title_view = TitleView(self.title_columns_, title_coef / self.title_weight, title_intercept, self.title_temperature_)
            cached = LinearModel(self.backend, blocks, self.classes_, coef, intercept, owner, self.temperature_, title_view)
            self.__dict__["_linear_model"] = cached
        return cached

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_linear_model", None)  # derived from the fitted attributes, rebuilt on use
        return state

    def features(self, X: pd.DataFrame):
        """The sparse feature matrix, each distinct title and description featurised once."""
        return self.linear().features(check_frame(X))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self.linear().decision_function(check_frame(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.linear().predict_proba(check_frame(X))

    def title_only(self, features) -> np.ndarray:
        """The rows whose description gave no feature: the title view scores them."""
        return self.linear().title_only(features)

    def proba_of_features(self, features, title_only: np.ndarray | None = None) -> np.ndarray:
        """`predict_proba` from the matrix `features` gives, for callers that also explain."""
        return self.linear().proba_of_features(features, title_only)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.linear().predict(check_frame(X))

    def explain(self, X: pd.DataFrame, roles, top: int = 5) -> list[list[tuple[str, float]]]:
        """For each posting, the terms that pushed it most towards `roles[i]`: feature value × weight."""
        return self.linear().explain(check_frame(X), roles, top)

    def explain_features(self, features, roles, top: int = 5) -> list[list[tuple[str, float]]]:
        return self.linear().explain_features(features, roles, top)
