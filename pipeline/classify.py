"""Classification: a model's scores for postings → the columns users get (role, names, module,
confidence, alternatives, status). Works with any model that has `features`, `title_only`,
`proba_of_features`, `explain_features` and `classes_`: the shipped `LinearModel` (no scikit-learn) or
a `RoleClassifier`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .business import BUSINESS_COLUMNS, HIDDEN, hidden_columns
from .taxonomy import taxonomy

OUTPUT_COLUMNS = ["role", "role_name", "module", "module_name", "confidence", "alternatives", "status", "model"]
# Every column classify may add to a row: the role's, the employer's business type, --explain.
ADDED_COLUMNS = OUTPUT_COLUMNS + BUSINESS_COLUMNS + ["explanation"]
STATUSES = ("ok", "review", "no_text")
TEXT_COLUMNS = ("title", "description")
# Top two roles closer than this: status `review` whatever the confidence.
MIN_MARGIN = 0.1


def needs_review(top1: np.ndarray, top2: np.ndarray, min_confidence: float | np.ndarray, min_margin: float = MIN_MARGIN) -> np.ndarray:
    """Status `review`: the best role's probability is under min_confidence, or the runner-up is
    within min_margin of it."""
    return (top1 < min_confidence) | (top1 - top2 < min_margin)


def check_frame(X) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"expected a DataFrame with columns {TEXT_COLUMNS}, got {type(X).__name__}")
    missing = [c for c in TEXT_COLUMNS if c not in X.columns]
    if missing:
        raise ValueError(f"postings need the columns {TEXT_COLUMNS}; missing {missing}")
    return X


def classify_frame(
    classifier,
    postings: pd.DataFrame,
    *,
    model_id: str,
    top_k: int = 3,
    min_confidence: float = 0.5,
    min_margin: float = MIN_MARGIN,
    explain: bool = False,
    title_min_confidence: float | None = None,
    business=None,
) -> pd.DataFrame:
    """The role columns for `postings` (title, description), one output row per input row, same index.

    Rows that the model scored from their title alone (no description, or none of its words known)
    go to review under `title_min_confidence` (default: min_confidence). With `business` (a
    BusinessModel; `postings` may then carry company and industry), the per-ad business-type
    probabilities are added as hidden columns that `business.pooled` turns into the business-type
    columns once the ads of a company are together."""
    postings = check_frame(postings)
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
        title_only = classifier.title_only(features)
        proba = classifier.proba_of_features(features, title_only)
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
        threshold = np.where(title_only, min_confidence if title_min_confidence is None else title_min_confidence, min_confidence)
        columns["status"][rows] = np.where(needs_review(top1, top2, threshold, min_margin), "review", "ok")
        if explain:
            columns["explanation"][rows] = [
                "; ".join(f"{term} {w:+.2f}" for term, w in terms) for terms in classifier.explain_features(features, classes[best])
            ]
    if business is not None:  # the same columns whatever the chunk holds
        proba = business.proba(features, postings.iloc[rows]) if len(rows) else np.empty((0, len(business.classes_)))
        columns.update(hidden_columns(business, proba, rows, n))
    return pd.DataFrame(
        {c: pd.array(v, dtype="float64" if c == "confidence" or c.startswith(HIDDEN) else "string") for c, v in columns.items()},
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
