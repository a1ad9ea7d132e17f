"""Training and evaluation: labelled postings in, a fitted model and honest metrics out.

Labelled data is anything `ingest` reads with a `role` column (role id or Chinese name) and,
optionally, a `sure` column (1 a guess between two roles, 2 probable, 3 clear) that weights samples.
Problems (unknown roles, empty texts, conflicting duplicate labels) are reported with file and row.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone

from .estimator import RoleClassifier
from .folds import grouped_folds, repost_groups
from .ingest import FileSummary, read_postings
from .metrics import classification_metrics, confidence_metrics
from .model_store import DEFAULT_MODEL, Model, load_model, save_model
from .taxonomy import DATA_DIR, OTHER, TaxonomyError, taxonomy

log = logging.getLogger(__name__)

BUNDLED_LABELS = DATA_DIR / "labels.parquet"
# A guess between two roles teaches less than a clear case; weights fixed a priori, not tuned.
SURE_WEIGHTS = {1: 0.3, 2: 0.7, 3: 1.0}
MIN_SAMPLES_WARN = 10


class TrainingDataError(ValueError):
    """The labelled data cannot be trained on; the message lists the problems."""


@dataclass
class LabelledData:
    frame: pd.DataFrame  # title, description, role, weight, raw_file, raw_row
    problems: list[str] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)

    @property
    def X(self) -> pd.DataFrame:
        return self.frame[["title", "description"]]

    @property
    def y(self) -> np.ndarray:
        return self.frame["role"].to_numpy(dtype=object)

    @property
    def weights(self) -> np.ndarray:
        return self.frame["weight"].to_numpy(dtype=float)

    def class_counts(self) -> dict[str, int]:
        counts = self.frame["role"].value_counts()
        return {r: int(counts[r]) for r in taxonomy().role_ids if r in counts}

    def data_hash(self) -> str:
        h = hashlib.sha256()
        cols = self.frame[["title", "description", "role", "weight"]].astype("string").fillna("")
        h.update(pd.util.hash_pandas_object(cols, index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]


def load_labelled(sources: list[str | os.PathLike] | None = None, columns: dict[str, str] | None = None) -> LabelledData:
    """Read labelled postings; rows with problems are left out and listed in `problems`."""
    sources = list(sources) if sources else [BUNDLED_LABELS]
    t = taxonomy()
    frames, problems, files = [], [], []
    with ExitStack() as stack:
        for batch in read_postings(sources, stack, files, columns=columns, keep_going=False):
            if batch.postings is None:
                continue
            if "role" not in batch.original.columns:
                raise TrainingDataError(f"{batch.raw.name}: no `role` column; labelled data needs one (role id or 中文 name)")
            rows = batch.postings[["title", "description", "raw_file", "raw_row"]].copy()
            labels = batch.original["role"].astype("string")
            role_of = {label: _resolve(t, label) for label in labels.dropna().unique()}
            rows["role"] = labels.map(role_of).to_numpy(dtype=object)
            unresolved = rows["role"].isna().to_numpy()
            for label, raw_row in zip(labels[unresolved], rows.loc[unresolved, "raw_row"]):
                problem = "empty role" if pd.isna(label) else f"unknown role {label!r}"
                problems.append(f"{batch.raw.name} row {raw_row}: {problem}")
            sure = pd.to_numeric(batch.original.get("sure", pd.Series(3, index=rows.index)), errors="coerce")
            rows["weight"] = sure.map(SURE_WEIGHTS).fillna(1.0).to_numpy()
            empty = rows["title"].isna() & rows["description"].isna()
            for raw_row in rows.loc[empty & rows["role"].notna(), "raw_row"]:
                problems.append(f"{batch.raw.name} row {raw_row}: no title and no description")
            frames.append(rows[~empty & rows["role"].notna()])
    if not frames:
        raise TrainingDataError(f"no labelled postings in {', '.join(map(str, sources))}")
    frame = pd.concat(frames, ignore_index=True)
    text_key = frame["title"].fillna("") + "\x00" + frame["description"].fillna("")
    roles_per_text = frame.groupby(text_key)["role"].nunique()
    conflicting = text_key.isin(roles_per_text[roles_per_text > 1].index)
    for key, group in frame[conflicting].groupby(text_key[conflicting]):
        where = ", ".join(f"{f} row {r}" for f, r in zip(group["raw_file"], group["raw_row"]))
        problems.append(f"same text labelled {sorted(set(group['role']))}: {where}; left out")
    frame = frame[~conflicting].reset_index(drop=True)
    return LabelledData(frame, problems, files)


def _resolve(t, label: str) -> str | None:
    """The role id of a label given as id or 中文 name; None when the taxonomy has no such role."""
    try:
        return t.resolve(label)
    except TaxonomyError:
        return None


def check_trainable(data: LabelledData) -> list[str]:
    """Raise if the data cannot train a model; return warnings about thin roles."""
    counts = data.class_counts()
    if len(counts) < 2:
        raise TrainingDataError(f"need labelled postings of at least two roles, found {list(counts) or 'none'}")
    too_few = {r: n for r, n in counts.items() if n < 2}
    if too_few:
        raise TrainingDataError(f"roles with a single sample cannot be learned or calibrated: {too_few}")
    warnings = [f"role {r!r} has only {n} samples: expect weak results for it" for r, n in counts.items() if n < MIN_SAMPLES_WARN]
    missing = [r for r in taxonomy().role_ids if r not in counts]
    if missing:
        warnings.append(f"no samples of {missing}: the model will never predict them")
    return warnings


def cross_validate(data: LabelledData, classifier: RoleClassifier, folds: int = 5, seed: int = 0) -> tuple[dict, np.ndarray]:
    """Held-out predictions for every sample from stratified k-fold CV with reposts kept in one fold, and their metrics."""
    min_count = min(data.class_counts().values())
    folds = max(2, min(folds, min_count))
    predicted = np.empty(len(data.frame), dtype=object)
    confidence = np.empty(len(data.frame))
    X, y, w = data.X, data.y, data.weights
    splits = grouped_folds(repost_groups(X["description"]), y, folds, seed)
    for train_idx, test_idx in splits:
        model = clone(classifier).fit(X.iloc[train_idx], y[train_idx], sample_weight=w[train_idx])
        proba = model.predict_proba(X.iloc[test_idx])
        predicted[test_idx] = model.classes_[proba.argmax(axis=1)]
        confidence[test_idx] = proba.max(axis=1)
    metrics = classification_metrics(y, predicted)
    metrics["folds"] = len(splits)
    metrics["confidence"] = confidence_metrics(predicted == y, confidence)
    return metrics, predicted


MODEL_CARD = """# tobroles model `{model_id}`

Classifies Chinese job ads into the 25 to-B operations roles of `data/taxonomy.json` (3 modules) or `other`.

- created: {created_at}
- taxonomy: `{taxonomy_hash}`; training data: `{training_data_hash}` ({training_samples} labelled ads)
- model: linear SVM over title words, title characters and the duties/requirements words of the ad
  (jieba tokens, backend `{tokenizer_backend}`); `other` is learned as {other_clusters} clusters of its ads
  (k-means), each a class of the SVM whose best score counts for `other`; a second SVM scores the ad's
  module, and {module_weight} of that score is added to each role of the module; probabilities are the SVM scores through a softmax
  whose temperature (`{temperature}`) was fitted on cross-validated scores
- cross-validation ({cv_folds}-fold, stratified, reposts of an ad kept in one fold): accuracy {cv_accuracy}, macro-F1 {cv_macro_f1},
  module accuracy {cv_module_accuracy}

Full metrics per role are in `metadata.json` (`cv_metrics`). Load it with `pipeline.load_model(path)`;
loading verifies `file_sha256` and the taxonomy hash.
"""


@dataclass
class TrainResult:
    model: Model
    data: LabelledData
    warnings: list[str]
    cv_metrics: dict | None
    seconds: float


def train(
    sources: list[str | os.PathLike] | None = None,
    output: str | os.PathLike = DEFAULT_MODEL,
    *,
    folds: int = 5,
    classifier: RoleClassifier | None = None,
    columns: dict[str, str] | None = None,
) -> TrainResult:
    """Cross-validate, then fit on all the labelled data and save the model folder."""
    started = time.perf_counter()
    data = load_labelled(sources, columns)
    warnings = check_trainable(data)
    classifier = classifier or RoleClassifier()
    cv_metrics = cross_validate(data, classifier, folds)[0] if folds > 1 else None
    fitted = clone(classifier).fit(data.X, data.y, sample_weight=data.weights)
    metadata = {
        "training_data_hash": data.data_hash(),
        "training_sources": [str(s) for s in (sources or [BUNDLED_LABELS.relative_to(DATA_DIR.parent)])],
        "training_samples": int(len(data.frame)),
        "samples_per_class": data.class_counts(),
        "tokenizer_backend": classifier.backend,
        "temperature": round(fitted.temperature_, 4),
        "other_clusters": int(np.sum(fitted.classes_[fitted.subclass_owner_] == OTHER)),
        "module_weight": fitted.module_weight if fitted.module_svm_ is not None else 0,
        "cv_folds": cv_metrics["folds"] if cv_metrics else 0,
        "cv_accuracy": cv_metrics["accuracy"] if cv_metrics else None,
        "cv_macro_f1": cv_metrics["macro_f1"] if cv_metrics else None,
        "cv_module_accuracy": cv_metrics["module_accuracy"] if cv_metrics else None,
        "cv_metrics": cv_metrics,
    }
    model = save_model(fitted, output, metadata, MODEL_CARD)
    return TrainResult(model, data, warnings, cv_metrics, time.perf_counter() - started)


def evaluate(sources: list[str | os.PathLike], model: Model | str | os.PathLike | None = None, columns: dict[str, str] | None = None) -> dict:
    """Metrics of `model` on labelled postings it did not see."""
    model = model if isinstance(model, Model) else load_model(model)
    data = load_labelled(sources, columns)
    predicted = model.classifier.predict(data.X)
    metrics = classification_metrics(data.y, predicted)
    metrics["model_id"] = model.id
    metrics["problems"] = data.problems
    return metrics
