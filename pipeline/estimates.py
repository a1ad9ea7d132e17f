"""Estimated role counts that correct the classifier's systematic errors, with intervals.

Classify-and-count over- or under-states a role whenever the classifier moves postings between
neighbouring roles in one direction more than the other (大客户销售 → 销售, `other` ↔ 渠道运营). Both
estimators read the model's held-out confusion (true role × predicted role × confidence band of ads
the model did not see, kept in its metadata):

- `banded` (default): each posting counts for the true roles in the proportions seen among held-out
  ads with the same predicted role and confidence band, P(true | predicted, band). The bundled labels
  were partly chosen where the model was unsure, so their error rates are higher than a board's;
  conditioning on the predicted role and confidence, which is what that selection looked at, keeps
  those hard cases from inflating the correction. It assumes the same P(true | predicted, band) in
  the postings as in the labels.
- `acc`: adjusted classify-and-count (Forman 2008, QuaPy's `ACC`): with M[i, j] = P(labelled i |
  truly j), the observed label shares q satisfy q ≈ M p, and p is the non-negative solution summing
  to 1. It corrects for a different role mix (prior shift) but trusts the labels' error rates.

Intervals are a bootstrap of both sources of noise: the held-out counts (resampled within each cell)
and the postings' labels (resampled as a multinomial). `pacc` (probabilistic ACC) and `em` (EM
re-estimation of the priors, Saerens et al. 2002) read each posting's probability vector; classified
files keep the top four probabilities, and the rest of a row's mass is spread evenly (`posteriors_of`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from .taxonomy import taxonomy

ESTIMATORS = ("none", "banded", "acc", "pacc", "em")
DEFAULT_ESTIMATOR = "banded"
MIN_CELL = 5  # held-out ads a (predicted, band) cell needs; fewer: the predicted role's all bands
LEVEL = 0.9
BOOTSTRAP = 300


class EstimateError(ValueError):
    """Estimates cannot be made (no held-out confusion for the model); the message says why."""


def _solve(M: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Shares p >= 0 summing to 1 that best explain the observed shares q = M p (least squares; the
    sum constraint as a heavily weighted extra row)."""
    weight = 100.0
    A = np.vstack([M, weight * np.ones(M.shape[1])])
    b = np.concatenate([q, [weight]])
    p, _ = nnls(A, b)
    total = p.sum()
    return p / total if total > 0 else np.full(len(p), 1 / len(p))


def _rates(counts: np.ndarray) -> np.ndarray:
    """M[i, j] = P(labelled i | truly j) from true × predicted counts; a class never seen keeps
    its own label."""
    per_true = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, per_true, out=np.eye(len(counts)), where=per_true > 0)
    return rates.T


@dataclass
class Estimates:
    estimator: str
    level: float
    table: pd.DataFrame  # role, estimate, estimate_low, estimate_high (postings), for every class
    modules: pd.DataFrame  # module, estimate, estimate_low, estimate_high (to-B roles of each module)
    to_b: tuple[float, float, float]  # estimate, low, high of all to-B postings
    warning: str | None = None  # set when the requested estimator was unstable and this one replaced it

    def describe(self) -> str:
        how = {
            "banded": "each posting counted for the true roles seen among held-out ads with its predicted role and confidence band",
            "acc": "adjusted classify-and-count (ACC) with the model's held-out confusion matrix",
            "pacc": "probabilistic adjusted classify-and-count (PACC) with the model's held-out mean probabilities",
            "em": "EM re-estimation of the role priors (Saerens et al. 2002) from the rows' probabilities",
        }[self.estimator]
        text = f"Estimates: {how}; {self.level:.0%} bootstrap intervals ({BOOTSTRAP} resamples). `postings` are the model's labels."
        return f"WARNING: {self.warning} {text}" if self.warning else text


def _banded(cells: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Σ over (predicted, band) of postings × P(true | predicted, band); thin cells back off to the
    predicted role over all bands, and a role never predicted in held-out ads to itself."""
    n = cells.shape[0]
    by_pred = cells.sum(axis=2)  # true × predicted
    estimate = np.zeros(n)
    for pred in range(n):
        for band in range(cells.shape[2]):
            k = observed[pred, band]
            if not k:
                continue
            column = cells[:, pred, band]
            if column.sum() < MIN_CELL:
                column = by_pred[:, pred]
            estimate += k * (column / column.sum() if column.sum() else np.eye(n)[pred])
    return estimate


def posteriors_of(labels: pd.Series, confidence: pd.Series, alternatives: pd.Series, classes: list[str]) -> np.ndarray:
    """Each posting's probability vector as far as classified files keep it: the label's confidence
    and the alternatives' probabilities; the rest of the mass is spread over the other classes."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(labels), len(classes)))
    for row, (label, conf, alt) in enumerate(zip(labels, confidence, alternatives)):
        known = {label: float(conf)} | {k: float(v) for k, v in json.loads(alt or "{}").items() if k in index}
        rest = max(0.0, 1.0 - sum(known.values()))
        out[row, :] = rest / max(len(classes) - len(known), 1)
        for k, v in known.items():
            out[row, index[k]] = v
    return out


def _em(posteriors: np.ndarray, train_priors: np.ndarray, iterations: int = 100) -> np.ndarray:
    """Priors under which the posteriors, re-weighted by prior / training prior, average to themselves."""
    priors = train_priors.copy()
    safe = np.where(train_priors > 0, train_priors, 1.0)
    for _ in range(iterations):
        adjusted = posteriors * (priors / safe)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        new = adjusted.mean(axis=0)
        if np.abs(new - priors).max() < 1e-7:
            return new
        priors = new
    return priors


def adjusted_counts(labels: pd.Series, confidence: pd.Series, confusion: dict, *, alternatives: pd.Series | None = None, estimator: str = DEFAULT_ESTIMATOR, level: float = LEVEL, bootstrap: int = BOOTSTRAP, seed: int = 0) -> Estimates:
    """Estimates of how many of the postings labelled `labels` (with `confidence`, and for PACC the
    `alternatives` JSON of classify output) truly are each role."""
    if not confusion or "bands" not in confusion:
        raise EstimateError("the model's metadata has no held-out confusion by confidence band; retrain it with `tobroles train`, or use --estimates none")
    classes = list(confusion["classes"])
    cells = np.asarray(confusion["counts"], dtype=float)  # true × predicted × band
    bands = np.asarray(confusion["bands"], dtype=float)
    keep = labels.notna().to_numpy()
    labels, confidence = labels[keep], confidence[keep].astype(float).fillna(0.0)
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise EstimateError(f"labels the model's confusion matrix does not know: {unknown}")
    n = len(labels)
    index = {c: i for i, c in enumerate(classes)}
    pred = labels.map(index).to_numpy(dtype=int)
    band = np.clip(np.digitize(confidence.to_numpy(), bands[1:-1]), 0, len(bands) - 2)
    observed = np.zeros((len(classes), len(bands) - 1))
    np.add.at(observed, (pred, band), 1)

    if estimator in ("pacc", "em"):
        if alternatives is None or "posteriors" not in confusion:
            raise EstimateError(f"{estimator} needs the rows' alternatives and the model's held-out mean probabilities (retrain the model)")
        posteriors = posteriors_of(labels, confidence, alternatives[keep], classes)
        mean_probabilities = np.asarray(confusion["posteriors"], dtype=float).T  # class × true

    def estimate(cells_: np.ndarray, observed_: np.ndarray, rows=None) -> np.ndarray:
        if estimator == "banded":
            return _banded(cells_, observed_)
        if estimator in ("pacc", "em"):
            sample = posteriors if rows is None else posteriors[rows]
            if estimator == "em":
                return _em(sample, cells.sum(axis=(1, 2)) / cells.sum()) * n
            return _solve(mean_probabilities, sample.mean(axis=0)) * n
        return _solve(_rates(cells_.sum(axis=2)), observed_.sum(axis=1) / max(n, 1)) * n

    point = estimate(cells, observed)
    rng = np.random.default_rng(seed)
    samples = np.empty((bootstrap, len(classes)))
    flat_cells = cells.transpose(1, 2, 0).reshape(-1, len(classes))  # (predicted, band) × true
    totals = flat_cells.sum(axis=1).astype(int)
    shape = (cells.shape[1], cells.shape[2], cells.shape[0])
    for b in range(bootstrap):
        if estimator in ("pacc", "em"):
            # PACC's held-out means are kept only as means (and EM reads the postings alone), so their
            # intervals resample the postings only.
            samples[b] = estimate(cells, observed, rng.integers(0, n, n) if n else None)
            continue
        resampled = np.vstack([rng.multinomial(k, row / k) if k else row for row, k in zip(flat_cells, totals)])
        cells_b = resampled.reshape(shape).transpose(2, 0, 1)
        observed_b = rng.multinomial(n, observed.ravel() / n).reshape(observed.shape) if n else observed
        samples[b] = estimate(cells_b, observed_b)
    alpha = (1 - level) / 2

    def interval(columns: list[int]) -> tuple[float, float, float]:
        est = float(point[columns].sum())
        lo, hi = np.quantile(samples[:, columns].sum(axis=1), [alpha, 1 - alpha])
        return est, min(float(lo), est), max(float(hi), est)

    table = pd.DataFrame([(c, *interval([i])) for i, c in enumerate(classes)], columns=["role", "estimate", "estimate_low", "estimate_high"])
    t = taxonomy()
    modules = pd.DataFrame(
        [(m.id, *interval([i for i, c in enumerate(classes) if t.module_of(c) == m.id])) for m in t.modules],
        columns=["module", "estimate", "estimate_low", "estimate_high"],
    )
    return Estimates(estimator, level, table, modules, interval([i for i, c in enumerate(classes) if t.module_of(c)]))


# An estimate is degenerate where it wipes out what the labels plainly show: a role or module the
# model gave at least MIN_SEEN postings estimated under COLLAPSE of that count. Solvers that invert
# a confusion matrix (ACC, PACC) and EM's priors end up on a corner of the simplex when the
# matrix is ill-conditioned or the labels' error rates do not hold for these postings.
MIN_SEEN = 30
COLLAPSE = 0.1


def degenerate(found: Estimates, labels: pd.Series) -> list[str]:
    """What makes `found` implausible: the roles and modules it puts near 0 against many labels."""
    t = taxonomy()
    counts = labels.value_counts()
    problems = []
    for role, estimate in zip(found.table["role"], found.table["estimate"]):
        seen = int(counts.get(role, 0))
        if seen >= MIN_SEEN and estimate < COLLAPSE * seen:
            problems.append(f"{t.role(role).zh} {estimate:.0f} against {seen:,} labelled")
    for module, estimate in zip(found.modules["module"], found.modules["estimate"]):
        seen = int(sum(counts.get(r.id, 0) for r in t.roles_in(module)))
        if seen >= MIN_SEEN and estimate < COLLAPSE * seen:
            problems.append(f"module {t.module(module).zh} {estimate:.0f} against {seen:,} labelled")
    return problems


def stable_counts(labels: pd.Series, confidence: pd.Series, confusion: dict, *, estimator: str = DEFAULT_ESTIMATOR, **options) -> Estimates | None:
    """`adjusted_counts` with a check: an estimator whose solution is degenerate is reported and
    replaced by `banded` (and `banded`, if degenerate itself, by the raw counts: None)."""
    found = adjusted_counts(labels, confidence, confusion, estimator=estimator, **options)
    problems = degenerate(found, labels.dropna())
    if not problems:
        return found
    shown = "; ".join(problems[:6]) + (f" and {len(problems) - 6} more" if len(problems) > 6 else "")
    if estimator == "banded":
        return None
    fallback = adjusted_counts(labels, confidence, confusion, estimator="banded", **{k: v for k, v in options.items() if k != "alternatives"})
    if degenerate(fallback, labels.dropna()):
        return None
    fallback.warning = f"the {estimator} estimates were unstable for these postings ({shown}), so the table shows the banded estimates instead."
    return fallback
