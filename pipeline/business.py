"""The employer's business type: platform, service, hardware (the study's three to-B types), to_c or
unclear (data/business_types.json, from ../shared/spec/business_types.md).

The model reads what the role model already made of the ad (title words and characters, duties and
requirements words: no second tokenisation) plus the company name's characters (科技, 贸易, 设备, 网络,
餐饮 ...) and the board's industry field, in one multinomial logistic regression. Each ad gets its own
answer, and beside it its company's: `pool_by_company` averages the probabilities of the ads in the
input that name the same company. The ad's own answer is the one the labels (read per posting) bear
out best: pooling cost 2-3 points of accuracy in company-grouped CV (benchmarks/business_eval.py),
because an ad that says nothing of its employer is `unclear` on its own but takes its company's type
when pooled; the company's answer is there for a view of employers rather than of postings.

`BusinessTypeClassifier` is the scikit-learn estimator (fit only); `BusinessModel` holds it as arrays
and vocabularies (classifying needs neither scikit-learn nor skops), saved beside the role model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .linear import TfidfBlock, _as_text, _softmax, load_layer, save_layer
from .script import simplified_all
from .taxonomy import DATA_DIR

ARRAYS_FILE = "business.npz"
SPEC_FILE = "business.json"
BUSINESS_COLUMNS = ["business_type", "business_type_name", "business_type_confidence", "company_business_type", "company_ads"]


@lru_cache(maxsize=1)
def business_types() -> dict[str, dict]:
    """id → {zh, to_b, definition, examples}, in the spec's order."""
    spec = json.loads((DATA_DIR / "business_types.json").read_text(encoding="utf-8"))
    return {t["id"]: t for t in spec["types"]}


def to_b_types() -> list[str]:
    return [t for t, info in business_types().items() if info["to_b"]]


def resolve(label) -> str | None:
    """A business type given as id or 中文 name → its id; None when it is not one."""
    text = str(label).strip()
    for tid, info in business_types().items():
        if text in (tid, info["zh"]):
            return tid
    return None


_COMPANY_NOISE = re.compile(r"[\s()（）【】\[\]·.,，、]")


def company_key(company: pd.Series) -> pd.Series:
    """The company name as one key: spaces, brackets and punctuation folded (有限公司 kept)."""
    return company.astype("string").str.replace(_COMPANY_NOISE, "", regex=True).str.lower().replace("", pd.NA)


def company_groups(company: pd.Series) -> np.ndarray:
    """One integer group per ad for cross-validation: the ads of one company share it; an ad that
    names no company is a group of its own."""
    company = pd.Series(company).reset_index(drop=True)
    key = company_key(company)
    alone = "\x00" + pd.Series(np.arange(len(company)), dtype="string")
    return pd.factorize(key.fillna(alone))[0]


def _company_texts(values) -> list[str]:
    return [t.lower() for t in simplified_all(_as_text(values))]


class BusinessTypeClassifier:
    """Fits the business-type layer on the role model's features plus company and industry characters.

    Parameters: C (inverse regularisation of the logistic regression), company_weight and
    industry_weight (how much those blocks count beside the ad's text, which counts 1). The defaults
    were chosen by company-grouped CV (benchmarks/README.md, "business type").
    """

    def __init__(self, C: float = 4.0, company_weight: float = 0.5, industry_weight: float = 0.5):
        self.C = C
        self.company_weight = company_weight
        self.industry_weight = industry_weight

    def fit(self, role_model, X: pd.DataFrame, y) -> BusinessModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y, dtype=object)
        unknown = sorted(set(y) - set(business_types()))
        if unknown:
            raise ValueError(f"business types must be one of {list(business_types())}; unknown: {unknown}")
        blocks = []
        matrices = [role_model.features(X[["title", "description"]])]
        for name, column, weight in (("company_chars", "company", self.company_weight), ("industry_chars", "industry", self.industry_weight)):
            texts = _company_texts(X[column] if column in X.columns else [None] * len(X))
            if weight == 0 or not any(texts):
                continue
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True, dtype=np.float32)
            try:
                vectorizer.fit(texts)
            except ValueError:  # no term seen twice: nothing to learn from this field
                continue
            block = TfidfBlock(name, "char_wb", (1, 3), frozenset(), dict(vectorizer.vocabulary_), vectorizer.idf_, float(weight))
            blocks.append(block)
            matrices.append(block.transform(texts))
        features = sp.hstack(matrices, format="csr")
        lr = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000).fit(features, y)
        return BusinessModel(blocks, np.asarray(lr.classes_, dtype=object), lr.coef_, lr.intercept_, int(matrices[0].shape[1]))


@dataclass
class BusinessModel:
    """The fitted business-type layer as arrays: it reads the role model's features of the ads (the
    first `text_columns` columns of its weights) and its own company and industry blocks."""

    blocks: list[TfidfBlock]
    classes_: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    text_columns: int

    def proba(self, text_features, frame: pd.DataFrame) -> np.ndarray:
        """Per-ad probabilities of each business type (columns in `classes_`), before pooling."""
        # Block by block against its slice of the weights: stacking the blocks would copy the role
        # features of every ad; each distinct company or industry is featurised once.
        scores = text_features @ self.coef[:, : self.text_columns].T + self.intercept
        start = self.text_columns
        for block in self.blocks:
            column = "company" if block.name == "company_chars" else "industry"
            values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index, dtype="string")
            codes, distinct = pd.factorize(values.fillna(""))
            weights = self.coef[:, start : start + len(block.terms)]
            scores += (block.transform(_company_texts(distinct)) @ weights.T)[codes]
            start += len(block.terms)
        return _softmax(scores, 1.0)

    def save(self, folder: Path) -> None:
        spec = {"classes": [str(c) for c in self.classes_], "text_columns": self.text_columns}
        save_layer(folder, ARRAYS_FILE, SPEC_FILE, spec, {"coef": self.coef, "intercept": self.intercept}, self.blocks)

    @classmethod
    def load(cls, folder: Path) -> BusinessModel:
        spec, arrays, blocks = load_layer(folder, ARRAYS_FILE, SPEC_FILE)
        return cls(blocks, np.array(spec["classes"], dtype=object), arrays["coef"], arrays["intercept"], int(spec["text_columns"]))


def pool_by_company(company: pd.Series, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Company-level smoothing: each ad gets the mean probabilities of the ads that name the same
    company (itself included), and the number of those ads. Ads without a company stand alone."""
    key = company_key(pd.Series(company).reset_index(drop=True))
    frame = pd.DataFrame(proba)
    named = key.notna().to_numpy()
    pooled = proba.copy()
    ads = np.ones(len(proba), dtype=np.int64)
    if named.any():
        groups = frame[named].groupby(key[named].to_numpy())
        pooled[named] = groups.transform("mean").to_numpy()
        ads[named] = groups[0].transform("size").to_numpy()
    return pooled, ads


HIDDEN = "_business_p:"  # per-ad probabilities carried from classify_frame to the pooling step


def hidden_columns(model: BusinessModel, proba: np.ndarray, rows: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The per-ad probabilities of `rows` (the ads with text) as columns for `pooled`."""
    columns = {}
    for j, c in enumerate(model.classes_):
        values = np.full(n, np.nan)
        values[rows] = proba[:, j]
        columns[f"{HIDDEN}{c}"] = values
    return columns


def pooled(roles: pd.DataFrame, company: pd.Series) -> pd.DataFrame:
    """`roles` with the hidden per-ad probabilities replaced by the business-type columns: the ad's own
    answer (`business_type`, its name and confidence), and its company's, pooled over the ads of the
    same company in `roles` (`company_business_type`, `company_ads`; rows in the order of `company`)."""
    hidden = [c for c in roles.columns if c.startswith(HIDDEN)]
    if not hidden:
        return roles
    classes = np.array([c.removeprefix(HIDDEN) for c in hidden], dtype=object)
    proba = roles[hidden].to_numpy(dtype=float)
    rows = np.flatnonzero(~np.isnan(proba).any(axis=1))
    n = len(roles)
    names = np.array([business_types()[c]["zh"] if c in business_types() else c for c in classes], dtype=object)
    out = {
        "business_type": np.full(n, None, dtype=object),
        "business_type_name": np.full(n, None, dtype=object),
        "business_type_confidence": np.full(n, np.nan),
        "company_business_type": np.full(n, None, dtype=object),
        "company_ads": np.zeros(n, dtype=np.int64),
    }
    if len(rows):
        own = proba[rows]
        best = own.argmax(axis=1)
        out["business_type"][rows] = classes[best]
        out["business_type_name"][rows] = names[best]
        out["business_type_confidence"][rows] = np.round(own[np.arange(len(rows)), best], 4)
        mean, ads = pool_by_company(pd.Series(company).iloc[rows], own)
        out["company_business_type"][rows] = classes[mean.argmax(axis=1)]
        out["company_ads"][rows] = ads
    result = roles.drop(columns=hidden)
    for c, v in out.items():
        result[c] = pd.array(v, dtype="Int64" if c == "company_ads" else "float64" if c == "business_type_confidence" else "string")
    return result


def coarse(types) -> np.ndarray:
    """platform/service/hardware → to_b; to_c and unclear as they are."""
    to_b = set(to_b_types())
    return np.array(["to_b" if t in to_b else t for t in types], dtype=object)


def business_metrics(truth, predicted) -> dict:
    """Five-way accuracy and macro-F1, to-B / to-C / unclear accuracy, to-B vs to-C accuracy on the ads
    that are one or the other, per type and the confusion counts."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    truth, predicted = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    types = [t for t in business_types() if t in set(truth)]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=types, zero_division=0)
    coarse_truth, coarse_predicted = coarse(truth), coarse(predicted)
    sided = np.isin(coarse_truth, ["to_b", "to_c"])
    return {
        "ads": int(len(truth)),
        "accuracy": round(float((truth == predicted).mean()), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=types, average="macro", zero_division=0)), 4),
        "to_b_to_c_unclear_accuracy": round(float((coarse_truth == coarse_predicted).mean()), 4),
        "to_b_vs_to_c_accuracy": round(float((coarse_truth[sided] == coarse_predicted[sided]).mean()), 4) if sided.any() else None,
        "per_type": {t: {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3), "support": int(n)} for t, p, r, f, n in zip(types, precision, recall, f1, support)},
        "confusion": {t: {p: int(((truth == t) & (predicted == p)).sum()) for p in business_types()} for t in types},
    }


def cross_validate_business(role_model, frame: pd.DataFrame, folds: int = 5, seed: int = 0, fractions=(1.0,), classifier: BusinessTypeClassifier | None = None) -> dict:
    """Business-type metrics from folds grouped by company (ads of one company never on both sides),
    per ad (the answer classify gives an ad) and pooled by company (its company's answer); with
    `fractions` < 1, the learning curve (each training fold cut to that share of its companies)."""
    from .folds import grouped_folds

    classifier = classifier or BusinessTypeClassifier()
    frame = frame.reset_index(drop=True)
    y = frame["business_type"].to_numpy(dtype=object)
    groups = company_groups(frame["company"])
    splits = grouped_folds(groups, y, folds, seed)
    rng = np.random.default_rng(seed)
    curve = {}
    for fraction in fractions:
        pooled_pred = np.empty(len(y), dtype=object)
        single_pred = np.empty(len(y), dtype=object)
        for train_idx, test_idx in splits:
            if fraction < 1:
                companies = np.unique(groups[train_idx])
                kept = rng.choice(companies, max(2, int(round(fraction * len(companies)))), replace=False)
                train_idx = train_idx[np.isin(groups[train_idx], kept)]
            model = classifier.fit(role_model, frame.iloc[train_idx], y[train_idx])
            test = frame.iloc[test_idx]
            proba = model.proba(role_model.features(test[["title", "description"]]), test)
            single_pred[test_idx] = model.classes_[proba.argmax(axis=1)]
            mean, _ = pool_by_company(test["company"], proba)
            pooled_pred[test_idx] = model.classes_[mean.argmax(axis=1)]
        curve[fraction] = {"pooled by company": business_metrics(y, pooled_pred), "per ad": business_metrics(y, single_pred)}
    result = dict(curve[max(fractions)])  # "per ad" and "pooled by company"
    result["folds"] = len(splits)
    result["companies"] = int(len(np.unique(groups)))
    if len(fractions) > 1:
        result["learning_curve"] = {f"{f:.0%}": {k: curve[f]["per ad"][k] for k in ("accuracy", "macro_f1", "to_b_vs_to_c_accuracy")} for f in fractions}
    return result
