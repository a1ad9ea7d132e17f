"""The model store: save and load a trained classifier as a folder, safely and verifiably.

A model folder holds `model.skops` (the fitted estimator in skops format, never pickle: loading only
admits the types listed in TRUSTED_TYPES), `linear.npz` + `linear.json` (the same model as plain
arrays and vocabularies, see linear.py), `metadata.json` (ids, hashes, data, metrics, versions) and a
model card `README.md`. Loading refuses files whose hashes do not match the metadata (tampered or
corrupted) and a model trained against another taxonomy.

`load_model` serves classification from the arrays: no scikit-learn or skops import, no skops audit,
which cost seconds on every run. `load_estimator` returns the scikit-learn estimator itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .business import ARRAYS_FILE as BUSINESS_ARRAYS
from .business import SPEC_FILE as BUSINESS_SPEC
from .business import BusinessModel, pooled
from .classify import classify_frame, with_roles
from .ingest import postings_from_frame
from .linear import ARRAYS_FILE, SPEC_FILE, LinearModel
from .taxonomy import DEFAULT_MODEL, taxonomy

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
BUSINESS_FILES = [BUSINESS_ARRAYS, BUSINESS_SPEC]  # a model trained with business-type labels has them
# Our own classes plus the scikit-learn/numpy types that skops does not trust by default.
TRUSTED_TYPES = [
    "pipeline.estimator.RoleClassifier",
    "pipeline.features.PostingText",
    "pipeline.features.WordTfidf",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.svm._classes.LinearSVC",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "builtins.slice",
]
# What `RoleClassifier.fit` sets; a model saved before one of them existed cannot predict.
FITTED_ATTRIBUTES = [
    "text_", "vectorizers_", "classes_", "class_modules_", "subclass_owner_", "temperature_", "heldout_confusion_", "heldout_posteriors_",
    "svm_", "module_svm_", "title_columns_", "title_svm_", "title_module_svm_", "title_temperature_",
]
VERSIONED_PACKAGES = ["scikit-learn", "numpy", "scipy", "skops", "jieba", "rjieba", "pandas"]


class ModelError(Exception):
    """A model folder is missing, tampered with, or does not fit this taxonomy."""


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def model_content_hash(classifier, business: BusinessModel | None = None) -> str:
    """A hash of what the model learned (vocabularies, weights, calibration) and how it was set up.

    The skops file itself is not byte-stable (it names arrays by object id), so the id is computed
    from the fitted values: the same data and parameters give the same id.
    """
    h = hashlib.sha256()
    h.update(json.dumps(classifier.get_params(), sort_keys=True).encode())
    h.update(json.dumps([str(c) for c in classifier.classes_]).encode())
    for name, vectorizer, _ in classifier.vectorizers_.transformers_:
        if hasattr(vectorizer, "vocabulary_"):
            h.update(name.encode())
            h.update(json.dumps(sorted(vectorizer.vocabulary_.items()), ensure_ascii=False).encode())
            h.update(np.ascontiguousarray(vectorizer.idf_, dtype=np.float64).round(10).tobytes())
    h.update(np.ascontiguousarray(classifier.subclass_owner_, dtype=np.int64).tobytes())
    views = [(classifier.svm_, classifier.module_svm_, classifier.temperature_)]
    if classifier.title_svm_ is not None:
        views.append((classifier.title_svm_, classifier.title_module_svm_, classifier.title_temperature_))
    for svm, module_svm, temperature in views:
        h.update(np.ascontiguousarray(svm.coef_, dtype=np.float64).round(10).tobytes())
        h.update(np.ascontiguousarray(svm.intercept_, dtype=np.float64).round(10).tobytes())
        h.update(np.array([temperature], dtype=np.float64).round(10).tobytes())
        if module_svm is not None:
            h.update(json.dumps([str(m) for m in module_svm.classes_]).encode())
            h.update(np.ascontiguousarray(module_svm.coef_, dtype=np.float64).round(10).tobytes())
            h.update(np.ascontiguousarray(module_svm.intercept_, dtype=np.float64).round(10).tobytes())
    if business is not None:
        h.update(json.dumps([str(c) for c in business.classes_] + [b.name for b in business.blocks] + [t for b in business.blocks for t in b.terms], ensure_ascii=False).encode())
        h.update(np.ascontiguousarray(business.coef, dtype=np.float64).round(10).tobytes())
        h.update(np.ascontiguousarray(business.intercept, dtype=np.float64).round(10).tobytes())
    return h.hexdigest()[:16]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Model:
    """A loaded model: the classifier and what is known about it."""

    classifier: LinearModel  # or a RoleClassifier: both score postings the same way
    metadata: dict
    path: Path | None = None
    business: BusinessModel | None = None  # the employer's business type; None for a model trained without its labels

    @property
    def id(self) -> str:
        return self.metadata["model_id"]

    def __repr__(self) -> str:
        # The metadata holds every confusion matrix: a notebook shows the facts a person looks for.
        m = self.metadata
        cv = f", cv accuracy {m['cv_accuracy']:.3f}, macro-F1 {m['cv_macro_f1']:.3f}" if m.get("cv_accuracy") is not None else ""
        return f"Model({m.get('model_id')!r}, {type(self.classifier).__name__}, {m.get('training_samples', '?')} labelled ads{cv}, path={str(self.path)!r})"

    @property
    def review_threshold(self) -> float:
        """The confidence below which a row is sent to review: the level under which the 20% least
        confident cross-validated predictions fell (where most errors are); 0.5 for a model trained
        without cross-validation."""
        cv = self.metadata.get("cv_metrics") or {}
        return float(cv.get("confidence", {}).get("review_threshold", 0.5))

    @property
    def title_review_threshold(self) -> float:
        """The same for postings scored from their title alone, measured on title-only copies of the
        held-out ads (see train.cross_validate); the full ads' threshold where it was not measured."""
        cv = self.metadata.get("cv_metrics") or {}
        return float((cv.get("title_only") or {}).get("review_threshold", self.review_threshold))

    def classify(self, frame: pd.DataFrame, columns: dict[str, str] | None = None, **options) -> pd.DataFrame:
        """`frame` with the role columns appended, one output row per input row, in order.

        `frame` may be in any layout that `ingest` knows (a board export, our canonical schema, or
        columns named like title/description; `columns` (field → column) names them otherwise). Options are
        those of `classify.classify_frame`: top_k, min_confidence, min_margin, explain.
        """
        postings = postings_from_frame(frame, columns=columns)
        if "min_confidence" not in options:  # a threshold the caller gives holds for every row
            options.update(min_confidence=self.review_threshold, title_min_confidence=self.title_review_threshold)
        roles = classify_frame(self.classifier, postings, model_id=self.id, business=self.business, **options)
        return with_roles(frame, pooled(roles, postings["company"])).set_axis(frame.index)


def model_folder(output: str | os.PathLike | None, force: bool = False) -> Path:
    """Where a newly trained model goes: `output`, or a new folder models/trained-DATE-TIME; the
    shipped model is replaced only with `force`, never by accident."""
    if output is None:
        return DEFAULT_MODEL.parent / f"trained-{datetime.now():%Y%m%d-%H%M%S}"
    output = Path(output)
    if output.resolve() == DEFAULT_MODEL.resolve() and not force:
        raise ModelError(f"{output} is the shipped model; pass --force (force=True) to replace it, or choose another folder")
    return output


def save_model(classifier, folder: str | os.PathLike, metadata: dict, card: str, business: BusinessModel | None = None) -> Model:
    """Write the model folder atomically: a half-written folder never replaces a good one."""
    import skops.io as sio

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        # skops writes vocabularies as verbose JSON; deflate shrinks the file about tenfold.
        sio.dump(classifier, staging / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        classifier.linear().save(staging)
        arrays = [ARRAYS_FILE, SPEC_FILE]
        if business is not None:
            business.save(staging)
            arrays += BUSINESS_FILES
        metadata = {
            "model_id": model_content_hash(classifier, business),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "file_sha256": _sha256(staging / MODEL_FILE),
            "linear_sha256": {name: _sha256(staging / name) for name in arrays},
            "taxonomy_hash": taxonomy().hash,
            "params": classifier.get_params(),
            "library_versions": library_versions(),
            **metadata,
        }
        (staging / METADATA_FILE).write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (staging / "README.md").write_text(card.format(**metadata), encoding="utf-8")
        os.chmod(staging, 0o755)
        if folder.exists():
            backup = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            folder.rename(backup)
            staging.rename(folder)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Model(classifier, metadata, folder, business)


def _checked_metadata(folder: Path, files: list[str], optional: list[str] = BUSINESS_FILES) -> dict:
    """The folder's metadata, once its files (and those of `optional` that the metadata records)
    exist, match their recorded hashes and the taxonomy."""
    meta_file = folder / METADATA_FILE
    if not meta_file.is_file() or not all((folder / f).is_file() for f in files):
        raise ModelError(f"{folder}: not a model folder (needs {', '.join(files)} and {METADATA_FILE}); train one with `tobroles train`")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{meta_file}: not valid JSON ({exc})") from exc
    recorded = {MODEL_FILE: meta.get("file_sha256"), **(meta.get("linear_sha256") or {})}
    for name in files + [f for f in optional if f in recorded]:
        if name not in recorded or recorded[name] is None:
            raise ModelError(f"{folder}: made by an older tobroles (no hash for {name}); retrain it with `tobroles train`")
        if _sha256(folder / name) != recorded[name]:
            raise ModelError(f"{folder / name}: its hash does not match {METADATA_FILE}; the file was changed or corrupted, refusing to load it")
    if meta.get("taxonomy_hash") != taxonomy().hash:
        raise ModelError(
            f"{folder}: trained with taxonomy {meta.get('taxonomy_hash')}, but data/taxonomy.json is "
            f"{taxonomy().hash}; retrain it with `tobroles train`"
        )
    return meta


def load_model(path: str | os.PathLike | None = None) -> Model:
    """Load a model folder (default: the shipped `models/default`) for classifying, verifying it first."""
    folder = Path(path) if path else DEFAULT_MODEL
    meta = _checked_metadata(folder, [ARRAYS_FILE, SPEC_FILE])
    try:
        linear = LinearModel.load(folder)
        business = _business_layer(folder, meta)
    except (ValueError, KeyError, OSError) as exc:
        raise ModelError(f"{folder}: its arrays cannot be read ({exc}); retrain it with `tobroles train`") from exc
    return Model(linear, meta, folder, business)


def _business_layer(folder: Path, meta: dict) -> BusinessModel | None:
    """The business-type layer, when the (checked) metadata records it."""
    return BusinessModel.load(folder) if BUSINESS_ARRAYS in (meta.get("linear_sha256") or {}) else None


def load_estimator(path: str | os.PathLike | None = None) -> Model:
    """Load a model folder with its scikit-learn estimator (RoleClassifier), verifying it first."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    from .estimator import RoleClassifier

    folder = Path(path) if path else DEFAULT_MODEL
    meta = _checked_metadata(folder, [MODEL_FILE])
    model_file = folder / MODEL_FILE
    try:
        classifier = sio.load(model_file, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as exc:
        raise ModelError(f"{model_file}: contains types that are not trusted ({exc}); refusing to load it") from exc
    if not isinstance(classifier, RoleClassifier):
        raise ModelError(f"{model_file}: holds a {type(classifier).__name__}, not a RoleClassifier")
    missing = [a for a in FITTED_ATTRIBUTES if not hasattr(classifier, a)]
    if missing:
        raise ModelError(f"{model_file}: made by an older tobroles (it lacks {missing}); retrain it with `tobroles train`")
    return Model(classifier, meta, folder, _business_layer(folder, meta))
