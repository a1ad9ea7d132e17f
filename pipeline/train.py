"""Training and evaluation: labelled postings in, a fitted model and honest metrics out.

Labelled data is anything `ingest` reads with a `role` column (role id or Chinese name) and,
optionally, a `sure` column (1 a guess between two roles, 2 probable, 3 clear) that weights samples.
Problems (unknown roles, empty texts, conflicting duplicate labels) are reported with file and row.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from . import business
from .classify import MIN_MARGIN, classify_frame, needs_review
from .estimator import CONFIDENCE_BINS, RoleClassifier
from .folds import grouped_folds, repost_groups
from .ingest import FileSummary, read_postings, reject_lines
from .ingest.sources import RawFile
from .metrics import classification_metrics, confidence_metrics, review_status_metrics, title_only_metrics
from .model_store import Model, load_model, model_folder, save_model
from .outputs import write_table
from .taxonomy import DATA_DIR, OTHER, TaxonomyError, taxonomy

log = logging.getLogger(__name__)

BUNDLED_LABELS = DATA_DIR / "labels.parquet"
# A guess between two roles teaches less than a clear case; weights fixed a priori, not tuned.
SURE_WEIGHTS = {1: 0.3, 2: 0.7, 3: 1.0}
SURE_NAMES = {3: "clear", 2: "probable", 1: "guess"}
MIN_SAMPLES_WARN = 10
# An ad that two annotators read differently is labelled with the adjudicated reading, and the other
# reading is learned too, with this share of the ad's weight (the adjudicated one keeps the rest).
# Chosen by repeated cross-validation, scored against the adjudicated readings
# (benchmarks/README.md, "two readings").
ALT_WEIGHT = 0.0


class TrainingDataError(ValueError):
    """The labelled data cannot be trained on; the message lists the problems."""


@dataclass
class LabelledData:
    frame: pd.DataFrame  # title, description, role, sure (1-3 or NA), weight, raw_file, raw_row
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

    def training_set(self, rows: np.ndarray | None = None, alt_weight: float = ALT_WEIGHT) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """X, y and sample weights to fit on `rows` (default: all): each ad with its label, and, with
        `alt_weight`, a copy of each ad that two annotators read differently with the other reading."""
        frame = self.frame if rows is None else self.frame.iloc[rows]
        weight = frame["weight"].to_numpy(dtype=float)
        if not alt_weight or "role_alt" not in frame.columns or frame["role_alt"].isna().all():
            return frame[["title", "description"]], frame["role"].to_numpy(dtype=object), weight
        two = frame["role_alt"].notna().to_numpy()
        X = pd.concat([frame[["title", "description"]], frame.loc[two, ["title", "description"]]], ignore_index=True)
        y = np.concatenate([frame["role"].to_numpy(dtype=object), frame.loc[two, "role_alt"].to_numpy(dtype=object)])
        w = np.concatenate([np.where(two, 1 - alt_weight, 1.0) * weight, alt_weight * weight[two]])
        return X, y, w

    def class_counts(self) -> dict[str, int]:
        counts = self.frame["role"].value_counts()
        return {r: int(counts[r]) for r in taxonomy().role_ids if r in counts}

    def data_hash(self) -> str:
        h = hashlib.sha256()
        cols = self.frame.reindex(columns=["title", "description", "role", "weight", "role_alt"]).astype("string").fillna("")
        h.update(pd.util.hash_pandas_object(cols, index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]


def _label_studio_export(source) -> RawFile | None:
    """A Label Studio JSON export (tasks with `data` and `annotations`) as a table of labelled ads:
    the role is the last kept annotation's choice (`annotations[].result[].value.choices`), `sure`
    its `sure` choice when the config has one. Anything else: None."""
    path = Path(str(source))
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not (isinstance(tasks, list) and tasks and all(isinstance(task, dict) and "data" in task and "annotations" in task for task in tasks)):
        return None
    rows = []
    for task in tasks:
        data = task.get("data") or {}
        kept = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        role = sure = business_type = None
        for region in (kept[-1].get("result") or []) if kept else []:
            choices = (region.get("value") or {}).get("choices") or []
            if choices and region.get("from_name") == "sure":
                sure = choices[0]
            elif choices and region.get("from_name") == "business_type":
                business_type = choices[0]
            elif choices and role is None:
                role = choices[0]
        rows.append({**{k: data.get(k) for k in ("id", "source", "title", "company", "description", "check")}, "role": role, "sure": sure, "business_type": business_type})
    buffer = io.BytesIO()
    pd.DataFrame(rows).astype("string").to_parquet(buffer, index=False)
    return RawFile(name=str(path), suffix=".parquet", data=buffer.getvalue())


def load_labelled(sources: list[str | os.PathLike] | None = None, columns: dict[str, str] | None = None) -> LabelledData:
    """Read labelled postings; rows with problems are left out and listed in `problems`.

    Rows whose role is empty are not labelled yet (a review sheet half filled) and are skipped with
    a count; a file in which no row has a role, an unknown role, or a review-sheet row whose id or
    text was changed (its `check` no longer matches) is a problem named with file and row."""
    sources = list(sources) if sources else [BUNDLED_LABELS]
    t = taxonomy()
    frames, problems, files = [], [], []
    labelled_in: dict[str, int] = {}
    readable = [_label_studio_export(s) or s for s in sources]
    with ExitStack() as stack:
        # As in ingest: a file that cannot be read, or a record in it, is listed and the rest read on.
        for batch in read_postings(readable, stack, files, columns=columns, keep_going=True):
            if batch.postings is None:
                continue
            original = batch.original
            if "role" not in original.columns:
                raise TrainingDataError(f"{batch.raw.name}: no `role` column; labelled data needs one (role id or 中文 name)")
            rows = batch.postings[["posting_id", "title", "description", "company", "industry", "raw_file", "raw_row"]].copy()
            labels, roles = _labels(original, "role", lambda label: _resolve(t, label))
            blank = labels.isna().to_numpy()
            labelled_in[batch.raw.name] = labelled_in.get(batch.raw.name, 0) + int((~blank).sum())
            rows["role"] = roles.to_numpy(dtype=object)
            unknown = ~blank & rows["role"].isna().to_numpy()
            for label, raw_row in zip(labels[unknown], rows.loc[unknown, "raw_row"]):
                problems.append(f"{batch.raw.name} row {raw_row}: unknown role {label!r} (see `tobroles roles`)")
            if blank.any():
                problems.append(f"{batch.raw.name}: {int(blank.sum()):,} rows without a role (not labelled) left out")
            if {"check", "id"} <= set(original.columns):
                from .review import check_of

                text = original.reindex(columns=["id", "title", "description"]).astype("string").fillna("")
                expected = [check_of(*r) for r in text.itertuples(index=False, name=None)]
                changed = (original["check"].astype("string").fillna("") != pd.Series(expected, index=original.index)).to_numpy() & ~blank
                for raw_row in rows.loc[changed, "raw_row"]:
                    problems.append(f"{batch.raw.name} row {raw_row}: its id or text was changed after export (the check column no longer matches); left out")
                rows.loc[changed, "role"] = None
            if "role_2" in original.columns:
                _second_reading(rows, original, t)
            if "business_type" in original.columns:
                problems += _business_types(rows, original, batch.raw.name)
            sure = pd.to_numeric(original["sure"], errors="coerce") if "sure" in original.columns else pd.Series(pd.NA, index=original.index, dtype="Float64")
            sure = sure.where(sure.isin(list(SURE_WEIGHTS))).astype("Int8")
            rows["sure"] = sure.to_numpy()
            rows["weight"] = sure.map(SURE_WEIGHTS).astype("float64").fillna(1.0).to_numpy()
            empty = rows["title"].isna() & rows["description"].isna()
            for raw_row in rows.loc[empty & rows["role"].notna(), "raw_row"]:
                problems.append(f"{batch.raw.name} row {raw_row}: no title and no description")
            frames.append(rows[~empty & rows["role"].notna()])
    problems += reject_lines(files)
    for name, n in labelled_in.items():
        if n == 0:
            raise TrainingDataError(f"{name}: the role column is empty; fill it (a role id, 中文 name or the drop-down's label) before training")
    if not frames or not sum(len(f) for f in frames):
        raise TrainingDataError(f"no labelled postings in {', '.join(map(str, sources))}")
    frame = pd.concat(frames, ignore_index=True)
    text_key = _text_key(frame)
    roles_per_text = frame.groupby(text_key)["role"].nunique()
    conflicting = text_key.isin(roles_per_text[roles_per_text > 1].index)
    for key, group in frame[conflicting].groupby(text_key[conflicting]):
        where = ", ".join(f"{f} row {r}" for f, r in zip(group["raw_file"], group["raw_row"]))
        problems.append(f"same text labelled {sorted(set(group['role']))}: {where}; left out")
    frame = frame[~conflicting].reset_index(drop=True)
    return LabelledData(frame, problems, files)


def _labels(original: pd.DataFrame, column: str, resolve) -> tuple[pd.Series, pd.Series]:
    """A label column as written (stripped, blank as missing) and resolved to ids (None where
    `resolve` knows no such label); both missing when the file has no such column."""
    if column not in original.columns:
        missing = pd.Series(None, index=original.index, dtype=object)
        return missing.astype("string"), missing
    labels = original[column].astype("string").str.strip().replace("", pd.NA)
    return labels, labels.map({label: resolve(label) for label in labels.dropna().unique()}).astype(object)


def _business_types(rows: pd.DataFrame, original: pd.DataFrame, name: str) -> list[str]:
    """The employer's business type where the file gives one (id or 中文 name); unknown ones listed."""
    labels, resolved = _labels(original, "business_type", business.resolve)
    rows["business_type"] = resolved.to_numpy(dtype=object)
    unknown = labels.notna() & resolved.isna()
    return [f"{name} row {r}: unknown business type {v!r} (one of {', '.join(business.business_types())}); left out of the business model" for v, r in zip(labels[unknown], rows.loc[unknown.to_numpy(), "raw_row"])]


def _second_reading(rows: pd.DataFrame, original: pd.DataFrame, t) -> None:
    """Labels read twice (`role_2`, and `role_adjudicated` where the two readings differ): the
    adjudicated reading becomes the label, the other one `role_alt`; both readings are kept."""
    first = pd.Series(rows["role"].to_numpy(dtype=object), index=original.index)
    second, adjudicated = (_labels(original, column, lambda label: _resolve(t, label))[1] for column in ("role_2", "role_adjudicated"))
    differ = first.notna() & second.notna() & (first != second)
    truth = first.where(~(differ & adjudicated.notna()), adjudicated)
    # The reading that lost; none when the adjudicator chose a third role.
    alt = second.where(differ & (truth == first), first.where(differ & (truth == second)))
    rows["role"] = truth.to_numpy(dtype=object)
    rows["role_alt"] = alt.to_numpy(dtype=object)
    rows["role_1"], rows["role_2"] = first.to_numpy(dtype=object), second.to_numpy(dtype=object)


def _text_key(frame: pd.DataFrame) -> pd.Series:
    return frame["title"].fillna("") + "\x00" + frame["description"].fillna("")


@dataclass
class Merged:
    data: LabelledData
    added: int  # the user's labelled ads
    overridden: int  # bundled ads the user labelled otherwise
    confirmed: int  # bundled ads the user labelled the same


def merge_labels(base: LabelledData, user: LabelledData) -> Merged:
    """The bundled labels plus the user's: on the same posting (board id or the same text) the user's
    label wins."""
    user_keys = dict(zip(_text_key(user.frame), user.frame["role"]))
    user_ids = dict(zip(user.frame["posting_id"].dropna(), user.frame.loc[user.frame["posting_id"].notna(), "role"]))
    keys, ids = _text_key(base.frame), base.frame["posting_id"]
    theirs = keys.map(user_keys).fillna(ids.map(user_ids))
    replaced = theirs.notna().to_numpy()
    overridden = int((theirs[replaced] != base.frame.loc[replaced, "role"]).sum())
    frame = pd.concat([base.frame[~replaced], user.frame], ignore_index=True)
    data = LabelledData(frame, base.problems + user.problems, base.files + user.files)
    return Merged(data, len(user.frame), overridden, int(replaced.sum()) - overridden)


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


def cross_validate(
    data: LabelledData, classifier: RoleClassifier, folds: int = 5, seed: int = 0, before: LabelledData | None = None, alt_weight: float = ALT_WEIGHT
) -> tuple[dict, np.ndarray]:
    """Held-out predictions for every sample from stratified k-fold CV with reposts kept in one fold, and their metrics.

    With `before` (the labels as they were before a user's were added), a model trained on those of
    its ads that are not in the test fold is scored on the same test folds, against the same (new)
    labels, and its metrics are `metrics["before"]`: what the added labels bought."""
    min_count = min(data.class_counts().values())
    folds = max(2, min(folds, min_count))
    predicted = np.empty(len(data.frame), dtype=object)
    predicted_before = np.empty(len(data.frame), dtype=object)
    confidence, runner_up = np.empty(len(data.frame)), np.empty(len(data.frame))
    # The same held-out ads with their title alone, as a title-only file would come.
    title_predicted = np.empty(len(data.frame), dtype=object)
    title_confidence, title_runner_up = np.empty(len(data.frame)), np.empty(len(data.frame))
    X, y = data.X, data.y
    splits = grouped_folds(repost_groups(X["description"]), y, folds, seed)
    if before is not None:
        before_keys, before_ids = _text_key(before.frame), before.frame["posting_id"]
    for train_idx, test_idx in splits:
        X_fit, y_fit, w_fit = data.training_set(train_idx, alt_weight)
        model = clone(classifier).fit(X_fit, y_fit, sample_weight=w_fit)
        proba = model.predict_proba(X.iloc[test_idx])
        predicted[test_idx] = model.classes_[proba.argmax(axis=1)]
        top_two = np.sort(proba, axis=1)[:, -2:]
        confidence[test_idx], runner_up[test_idx] = top_two[:, 1], top_two[:, 0]
        titles = X.iloc[test_idx].assign(description=None)
        proba = model.predict_proba(titles)
        title_predicted[test_idx] = model.classes_[proba.argmax(axis=1)]
        top_two = np.sort(proba, axis=1)[:, -2:]
        title_confidence[test_idx], title_runner_up[test_idx] = top_two[:, 1], top_two[:, 0]
        if before is not None:
            test = data.frame.iloc[test_idx]
            unseen = ~(before_keys.isin(set(_text_key(test))) | before_ids.isin(set(test["posting_id"].dropna()))).to_numpy()
            old = clone(classifier).fit(before.X[unseen], before.y[unseen], sample_weight=before.weights[unseen])
            predicted_before[test_idx] = old.predict(X.iloc[test_idx])
    metrics = classification_metrics(y, predicted)
    metrics["folds"] = len(splits)
    metrics["confidence"] = confidence_metrics(predicted == y, confidence)
    threshold = metrics["confidence"]["review_threshold"]
    review = needs_review(confidence, runner_up, threshold)
    metrics["review_status"] = review_status_metrics(predicted == y, review, threshold, MIN_MARGIN)
    # Title-only rows go to review below the confidence that leaves them as reliable as full ads
    # with status ok.
    ok_accuracy = float((predicted == y)[~review].mean()) if (~review).any() else 1.0
    metrics["title_only"] = title_only_metrics(y, title_predicted, title_confidence, title_runner_up, ok_accuracy, MIN_MARGIN)
    if data.frame["sure"].notna().any():
        metrics["by_sureness"] = sureness_metrics(data.frame["sure"], predicted == y)
    if "role_alt" in data.frame.columns and data.frame["role_alt"].notna().any():
        metrics["two_readings"] = two_readings_metrics(data.frame, predicted)
    if before is not None:
        metrics["before"] = classification_metrics(y, predicted_before)
    return metrics, predicted


def two_readings_metrics(frame: pd.DataFrame, predicted: np.ndarray) -> dict:
    """On the ads two annotators read differently: how often the model picks the adjudicated reading,
    the other one, or neither."""
    two = frame["role_alt"].notna().to_numpy()
    picked = predicted[two]
    truth, other = frame.loc[two, "role"].to_numpy(dtype=object), frame.loc[two, "role_alt"].to_numpy(dtype=object)
    return {
        "ads": int(two.sum()),
        "adjudicated": round(float((picked == truth).mean()), 4),
        "other_reading": round(float((picked == other).mean()), 4),
        "neither": round(float(((picked != truth) & (picked != other)).mean()), 4),
    }


def sureness_metrics(sure: pd.Series, correct: np.ndarray) -> dict:
    """Held-out accuracy by the annotator's sureness, and each level's share of the errors: where the
    errors are labels the annotator was unsure of, they are partly disagreements, not mistakes."""
    errors = max(int((~correct).sum()), 1)
    out = {}
    for level, name in SURE_NAMES.items():
        rows = (sure == level).fillna(False).to_numpy()
        if rows.any():
            out[name] = {"ads": int(rows.sum()), "accuracy": float(correct[rows].mean()), "error_share": float((~correct[rows]).sum() / errors)}
    return out


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
    merged: Merged | None = None  # with `add`: what the user's labels changed


def _file_record(source) -> dict:
    """Which labelled file a model learned from: path, and the hash of its bytes where it is local."""
    path = Path(str(source))
    inside = path.resolve().is_relative_to(DATA_DIR.parent) if path.exists() else False
    record = {"path": str(path.resolve().relative_to(DATA_DIR.parent)) if inside else str(source)}
    if path.is_file():
        record["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return record


def train(
    sources: list[str | os.PathLike] | None = None,
    output: str | os.PathLike | None = None,
    *,
    force: bool = False,
    folds: int = 5,
    classifier: RoleClassifier | None = None,
    columns: dict[str, str] | None = None,
    add: list[str | os.PathLike] | None = None,
) -> TrainResult:
    """Cross-validate, then fit on all the labelled data and save the model folder.

    `output`: the model folder (default: a new folder models/trained-DATE-TIME); the shipped
    models/default is replaced only with `force`. `add`: the user's labelled files on top of `sources` (default: the bundled labels); the user's
    label wins on the same posting, and the CV of the model without them runs on the same folds."""
    started = time.perf_counter()
    output = model_folder(output, force)
    data = load_labelled(sources, columns)
    merged = before = None
    if add:
        merged = merge_labels(data, load_labelled(add, columns))
        before, data = data, merged.data
    warnings = check_trainable(data)
    classifier = classifier or RoleClassifier()
    cv_metrics = cross_validate(data, classifier, folds, before=before)[0] if folds > 1 else None
    fitted = clone(classifier).fit(*data.training_set())
    business_model, business_cv = fit_business(data, fitted, folds)
    trained_on = [*(sources or [BUNDLED_LABELS]), *(add or [])]
    metadata = {
        "training_data_hash": data.data_hash(),
        "training_sources": [str(s) for s in (sources or [BUNDLED_LABELS.relative_to(DATA_DIR.parent)])],
        "training_files": [_file_record(s) for s in trained_on],
        "added_labels": None if merged is None else {"files": [str(s) for s in add], "ads": merged.added, "overridden": merged.overridden, "confirmed": merged.confirmed},
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
        # true class × predicted class of held-out ads (the estimator's calibration folds): the report's
        # adjusted counts read it.
        "heldout_confusion": {
            "classes": [str(c) for c in fitted.classes_],
            "bands": CONFIDENCE_BINS.tolist(),
            "counts": fitted.heldout_confusion_.tolist(),  # true × predicted × confidence band
            "posteriors": np.round(fitted.heldout_posteriors_, 6).tolist(),  # true × mean probability per class
        },
    }
    if business_model is not None:
        metadata["business_type"] = {"training_samples": int(data.frame["business_type"].notna().sum()), "cv_metrics": business_cv}
    model = save_model(fitted, output, metadata, MODEL_CARD, business_model)
    return TrainResult(model, data, warnings, cv_metrics, time.perf_counter() - started, merged)


MIN_BUSINESS_LABELS = 50
# Shares of each training fold's companies the business-type learning curve is measured at.
LEARNING_CURVE = (0.25, 0.5, 1.0)


def fit_business(data: LabelledData, role_model: RoleClassifier, folds: int) -> tuple[business.BusinessModel | None, dict | None]:
    """The business-type model, when the labelled data has enough `business_type` labels, and its
    cross-validation grouped by company (folds > 1)."""
    if "business_type" not in data.frame.columns:
        return None, None
    labelled = data.frame[data.frame["business_type"].notna()]
    if len(labelled) < MIN_BUSINESS_LABELS or labelled["business_type"].nunique() < 2:
        return None, None
    cv = business.cross_validate_business(role_model, labelled, folds, fractions=LEARNING_CURVE) if folds > 1 else None
    return business.BusinessTypeClassifier().fit(role_model, labelled, labelled["business_type"].to_numpy(dtype=object)), cv


def evaluate(sources: list[str | os.PathLike], model: Model | str | os.PathLike | None = None, columns: dict[str, str] | None = None) -> dict:
    """Metrics of `model` on labelled postings it did not see."""
    return compare_models(sources, [model], columns)[0]


def compare_models(sources: list[str | os.PathLike], models: list, columns: dict[str, str] | None = None, disagreements: str | os.PathLike | None = None) -> list[dict]:
    """Metrics of each model on the same labelled postings; with `disagreements`, the ads on which the
    first two models disagree are written there (title, description, the label, each model's role)."""
    loaded = [m if isinstance(m, Model) else load_model(m) for m in models]
    data = load_labelled(sources, columns)
    # What `classify` would write for these ads, statuses included: the review status is measured
    # as users get it, at the model's own threshold.
    def as_classify_would(m: Model, X: pd.DataFrame) -> pd.DataFrame:
        roles = classify_frame(
            m.classifier, X, model_id=m.id, min_confidence=m.review_threshold, title_min_confidence=m.title_review_threshold, min_margin=MIN_MARGIN, business=m.business
        )
        return business.pooled(roles.reset_index(drop=True), X["company"].reset_index(drop=True))

    X = data.frame[["title", "description", "company", "industry"]]
    classified = [as_classify_would(m, X) for m in loaded]
    predictions = [c["role"].to_numpy(dtype=object) for c in classified]
    results = []
    for m, c, predicted in zip(loaded, classified, predictions):
        correct = predicted == data.y
        metrics = classification_metrics(data.y, predicted)
        metrics["confidence"] = confidence_metrics(correct, c["confidence"].to_numpy())
        metrics["review_status"] = review_status_metrics(correct, (c["status"] == "review").to_numpy(dtype=bool), m.review_threshold, MIN_MARGIN)
        if data.frame["sure"].notna().any():
            metrics["by_sureness"] = sureness_metrics(data.frame["sure"], correct)
        # The same ads as a title-only file would give them: what a user with titles alone can expect.
        titles = as_classify_would(m, X.assign(description=None))
        title_correct = titles["role"].to_numpy(dtype=object) == data.y
        metrics["title_only"] = {
            **{k: v for k, v in classification_metrics(data.y, titles["role"].to_numpy(dtype=object)).items() if k in ("accuracy", "macro_f1", "module_accuracy")},
            "confidence": confidence_metrics(title_correct, titles["confidence"].to_numpy()),
            "review_status": review_status_metrics(title_correct, (titles["status"] == "review").to_numpy(dtype=bool), m.title_review_threshold, MIN_MARGIN),
        }
        if "business_type" in data.frame.columns and "business_type" in c.columns and data.frame["business_type"].notna().any():
            known = data.frame["business_type"].notna().to_numpy()
            metrics["business_type"] = business.business_metrics(data.frame.loc[known, "business_type"], c.loc[known, "business_type"].to_numpy(dtype=object))
        metrics["model_id"] = m.id
        metrics["problems"] = data.problems
        results.append(metrics)
    if disagreements is not None:
        if len(loaded) < 2:
            raise ValueError("--disagreements needs two models")
        differ = predictions[0] != predictions[1]
        t = taxonomy()
        frame = data.frame.loc[differ, ["raw_file", "raw_row", "title", "description"]].copy()
        frame["label"] = [t.label(r) for r in data.y[differ]]
        for i, (m, predicted) in enumerate(zip(loaded[:2], predictions[:2])):
            frame[f"model_{'AB'[i]} {m.id}"] = [t.label(r) for r in predicted[differ]]
        write_table(frame, disagreements)
        for metrics in results:
            metrics["disagreements"] = int(differ.sum())
    return results
