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


def confidence_metrics(correct, confidence, review_share: float = 0.2, bins: int = 10) -> dict:
    """How well confidence ranks the errors: the share of all errors among the `review_share` of
    rows with the lowest confidence (what a reviewer who reads those rows catches), the confidence
    below which those rows fall, and the expected calibration error."""
    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    order = np.argsort(confidence, kind="stable")
    reviewed = order[: int(round(review_share * len(order)))]
    errors = int((~correct).sum())
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = sum(
        abs(correct[which == b].mean() - confidence[which == b].mean()) * (which == b).mean() for b in range(bins) if (which == b).any()
    )
    return {
        "review_share": review_share,
        "review_capture": round(float((~correct[reviewed]).sum() / errors), 4) if errors else 1.0,
        "review_threshold": round(float(confidence[order[len(reviewed)]]), 4) if len(reviewed) < len(order) else 1.0,
        "ece": round(float(ece), 4),
    }


def review_status_metrics(correct, review, threshold: float, min_margin: float) -> dict:
    """The rows `classify` marks `review` (confidence under the model's threshold, or the top two
    roles too close): their share of the rows and of the errors."""
    correct, review = np.asarray(correct, dtype=bool), np.asarray(review, dtype=bool)
    errors = int((~correct).sum())
    return {
        "threshold": round(float(threshold), 4),
        "min_margin": min_margin,
        "share": round(float(review.mean()), 4) if len(review) else 0.0,
        "capture": round(float((~correct & review).sum() / errors), 4) if errors else 1.0,
    }


def threshold_for_accuracy(correct, confidence, target: float) -> float:
    """The lowest confidence t such that the rows at or above t are at least `target` right: the
    threshold under which rows go to review so that the rows left `ok` are as reliable as `target`
    (1.0 when no such t exists: every row to review)."""
    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    order = np.argsort(-confidence, kind="stable")
    accuracy = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    good = np.flatnonzero(accuracy >= target)
    return round(float(confidence[order[good[-1]]]), 4) if len(good) else 1.0


def title_only_metrics(y, predicted, confidence, runner_up, target: float, min_margin: float) -> dict:
    """How the model does on postings that have a title only: accuracy, macro-F1, how well confidence
    ranks the errors, and the review threshold that leaves `ok` title-only rows `target` right."""
    predicted = np.asarray(predicted, dtype=object)
    correct = predicted == np.asarray(y, dtype=object)
    scores = classification_metrics(y, predicted)
    threshold = threshold_for_accuracy(correct, confidence, target)
    review = (np.asarray(confidence) < threshold) | (np.asarray(confidence) - np.asarray(runner_up) < min_margin)
    return {
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "module_accuracy": scores["module_accuracy"],
        "confidence": confidence_metrics(correct, confidence),
        "target_accuracy": round(float(target), 4),
        "review_threshold": threshold,
        "review_status": review_status_metrics(correct, review, threshold, min_margin),
        "ok_accuracy": round(float(correct[~review].mean()), 4) if (~review).any() else None,
    }
