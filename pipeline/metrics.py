"""Classification metrics in the form the CLI prints and the model folder keeps."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from .taxonomy import taxonomy


def module_of(roles) -> np.ndarray:
    t = taxonomy()
    return np.array([t.module_of(r) or "other" for r in roles], dtype=object)


def classification_metrics(y_true, y_pred, top_confusions: int = 15) -> dict:
    """Accuracy, macro-F1 over the classes present in y_true, module accuracy, per-role scores, confusions."""
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    present = [r for r in taxonomy().role_ids if r in set(y_true)]
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=present, zero_division=0)
    confusions = Counter((t, p) for t, p in zip(y_true, y_pred) if t != p)
    return {
        "samples": int(len(y_true)),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4),
        "module_accuracy": round(float((module_of(y_true) == module_of(y_pred)).mean()), 4),
        "per_role": {
            role: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
            for role, p, r, f, s in zip(present, precision, recall, f1, support)
        },
        "confusions": [
            {"true": t, "predicted": p, "count": n} for (t, p), n in confusions.most_common(top_confusions)
        ],
    }
