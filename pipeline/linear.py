"""The fitted classifier as plain arrays: what classifying needs, without scikit-learn or skops.

A trained `RoleClassifier` is, at prediction time, three TF-IDF blocks (title words, title
characters, duties words) and one linear layer (role SVM + module SVM, `other`'s clusters). Importing
scikit-learn and skops and auditing a skops file costs seconds on every run, more than classifying a
small file, so the model folder also keeps that layer as a NumPy archive (no pickle) and a JSON of
vocabularies, and `LinearModel` scores from them with NumPy, SciPy and Arrow alone. `RoleClassifier`
predicts through the same `LinearModel`, so there is one implementation of scoring.

The TF-IDF transforms reproduce scikit-learn's (word n-grams after stop words, `char_wb` n-grams,
sublinear tf, idf, l2 norm); tests compare them with scikit-learn's on the bundled corpus.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from .script import simplified_all
from .sections import split_sections
from .tokenize import TOKEN_PATTERN, get_tokenizer

ARRAYS_FILE = "linear.npz"
SPEC_FILE = "linear.json"
_TOKEN = re.compile(TOKEN_PATTERN)


def _as_text(values) -> list[str]:
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def title_texts(titles, backend: str) -> dict[str, list[str]]:
    join = get_tokenizer(backend).join
    titles = simplified_all(_as_text(titles))
    return {"title_words": [join(t) for t in titles], "title_chars": [t.lower() for t in titles]}


def body_texts(descriptions, backend: str) -> dict[str, list[str]]:
    join = get_tokenizer(backend).join
    # One cut per ad: jieba never joins words across a line break, so this equals two cuts.
    return {"body_words": [join("\n".join(split_sections(d))) for d in simplified_all(_as_text(descriptions))]}


def vocabulary_terms(vocabulary: dict[str, int]) -> np.ndarray:
    """The terms of a vocabulary in column order."""
    terms = np.empty(len(vocabulary), dtype=object)
    for term, column in vocabulary.items():
        terms[column] = term
    return terms


def _count_matrix(rows, columns, shape: tuple[int, int], dtype=np.float32) -> sp.csr_matrix:
    """How often each (row, column) pair occurs, as a CSR matrix."""
    counts = sp.csr_matrix((np.ones(len(rows), dtype=dtype), (rows, columns)), shape=shape, dtype=dtype)
    counts.sum_duplicates()
    return counts


def count_unigrams(documents: list[str], terms: pa.Array, dtype=np.float32) -> sp.csr_matrix:
    """Counts of space-separated tokens over a vocabulary, in Arrow: splitting and looking every
    token up in Python costs about 75 µs per ad. Tokens never become Python objects."""
    joined = pa.array([" \x01 ".join(documents)], type=pa.large_string())
    tokens = pc.split_pattern(joined, " ").flatten()
    rows = np.cumsum(pc.equal(tokens, "\x01").to_numpy(zero_copy_only=False))
    columns = pc.index_in(tokens, value_set=terms).fill_null(-1).to_numpy()
    found = columns >= 0
    return _count_matrix(rows[found], columns[found], (len(documents), len(terms)), dtype)


def _word_ngrams(text: str, stop_words: frozenset, ngram_range: tuple[int, int]) -> list[str]:
    tokens = [t for t in _TOKEN.findall(text) if t not in stop_words]
    low, high = ngram_range
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


# Every code point fits in 21 bits, so a character n-gram of up to three characters packs into an int64.
_CODE_BITS = 21
MAX_CHAR_GRAM = 3


def _pack(codes: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    key = np.zeros(len(starts), dtype=np.int64)
    for k in range(n):
        key = (key << _CODE_BITS) | codes[starts + k]
    return key


def _char_gram_keys(terms: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each n-gram length, the packed keys of the vocabulary's terms (sorted) and their columns."""
    lookup = {}
    lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    for n in np.unique(lengths):
        columns = np.flatnonzero(lengths == n)
        codes = np.frombuffer("".join(terms[columns]).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        keys = _pack(codes, np.arange(len(columns)) * n, int(n))
        order = np.argsort(keys)
        lookup[int(n)] = (keys[order], columns[order])
    return lookup


def count_char_wb(documents: list[str], lookup: dict[int, tuple[np.ndarray, np.ndarray]], n_terms: int, ngram_range: tuple[int, int]) -> sp.csr_matrix:
    """Counts of scikit-learn's `char_wb` n-grams (every n-gram of each lower-cased word padded with one
    space on either side), in NumPy: the words' characters as code points, each n-gram packed into an
    integer and looked up by binary search. A Python loop over n-grams costs about 15 µs per title."""
    words = [doc.lower().split() for doc in documents]
    per_doc = np.fromiter(map(len, words), dtype=np.int64, count=len(documents))
    padded = [f" {w} " for ws in words for w in ws]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    word_of = np.repeat(np.arange(len(padded)), lengths)
    word_end = np.cumsum(lengths)[word_of]
    row_of = np.repeat(np.arange(len(documents)), per_doc)[word_of]
    positions = np.arange(len(codes))
    rows, columns = [], []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        if n not in lookup:
            continue
        keys, key_columns = lookup[n]
        starts = positions[positions + n <= word_end]
        grams = _pack(codes, starts, n)
        at = np.searchsorted(keys, grams).clip(max=len(keys) - 1)
        found = keys[at] == grams
        rows.append(row_of[starts[found]])
        columns.append(key_columns[at[found]])
    none = np.zeros(0, dtype=np.int64)
    return _count_matrix(np.concatenate([none, *rows]), np.concatenate([none, *columns]), (len(documents), n_terms))


@dataclass
class TfidfBlock:
    """One TF-IDF vectoriser's fitted state, and its transform."""

    name: str
    analyzer: str  # "unigrams" (pre-joined tokens), "words" or "char_wb"
    ngram_range: tuple[int, int]
    stop_words: frozenset
    vocabulary: dict[str, int]
    idf: np.ndarray
    weight: float

    def __post_init__(self) -> None:
        self.terms = vocabulary_terms(self.vocabulary)
        self._terms = pa.array(self.terms, type=pa.large_string())
        if self.analyzer == "char_wb":
            if self.ngram_range[1] > MAX_CHAR_GRAM:
                raise ValueError(f"{self.name}: character n-grams of up to {MAX_CHAR_GRAM} characters, not {self.ngram_range[1]}")
            self._char_keys = _char_gram_keys(self.terms)

    def counts(self, documents: list[str]) -> sp.csr_matrix:
        if self.analyzer == "unigrams":
            return count_unigrams(documents, self._terms)
        if self.analyzer == "char_wb":
            return count_char_wb(documents, self._char_keys, len(self.terms), self.ngram_range)
        rows, columns = [], []
        get = self.vocabulary.get
        for row, doc in enumerate(documents):
            grams = _word_ngrams(doc, self.stop_words, self.ngram_range)
            found = [c for c in map(get, grams) if c is not None]
            columns += found
            rows += [row] * len(found)
        return _count_matrix(rows, columns, (len(documents), len(self.vocabulary)))

    def spec(self) -> dict:
        """The block's state but its idf (which goes to the .npz), as JSON."""
        return {"name": self.name, "analyzer": self.analyzer, "ngram_range": list(self.ngram_range), "stop_words": sorted(self.stop_words), "weight": self.weight, "terms": list(self.terms)}

    @classmethod
    def from_spec(cls, spec: dict, arrays) -> TfidfBlock:
        vocabulary = {t: i for i, t in enumerate(spec["terms"])}
        return cls(spec["name"], spec["analyzer"], tuple(spec["ngram_range"]), frozenset(spec["stop_words"]), vocabulary, arrays[f"idf__{spec['name']}"], float(spec["weight"]))

    def transform(self, documents: list[str]) -> sp.csr_matrix:
        x = self.counts(documents)
        np.log(x.data, x.data)
        x.data += 1  # sublinear tf
        x.data *= self.idf[x.indices]
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1), dtype=np.float64)).ravel()
        norms[norms == 0] = 1
        x.data /= np.repeat(norms, np.diff(x.indptr)).astype(x.dtype)
        return x * np.float32(self.weight) if self.weight != 1 else x


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def class_scores(raw: np.ndarray, owner: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-label scores → per-class: a class never seen scores -inf, a split class its best label."""
    scores = np.full((raw.shape[0], n_classes), -np.inf)
    scores[:, owner] = raw
    split, counts = np.unique(owner, return_counts=True)
    for c in split[counts > 1]:
        scores[:, c] = raw[:, owner == c].max(axis=1)
    return scores


@dataclass
class TitleView:
    """The linear layer of the title view: it reads the first `columns` features (the title blocks)
    and scores the postings whose description gave no feature, with a temperature fitted on titles."""

    columns: int
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float


class LinearModel:
    """Predicts exactly as the RoleClassifier it was taken from: features, probabilities, explanations."""

    def __init__(
        self, backend: str, blocks: list[TfidfBlock], classes: np.ndarray, coef: np.ndarray, intercept: np.ndarray, owner: np.ndarray,
        temperature: float, title_view: TitleView | None = None,
    ):
        self.backend = backend
        self.blocks = blocks
        self.classes_ = np.asarray(classes, dtype=object)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.owner = np.asarray(owner, dtype=np.int64)
        self.temperature_ = float(temperature)
        self.title_view = title_view

    # ------------------------------------------------------------------ scoring

    def features(self, X: pd.DataFrame) -> sp.csr_matrix:
        """The sparse features of postings (title, description). Real ad sets repeat themselves
        (reposts, standard titles), so each distinct title and description is featurised once."""
        title_rows, titles = pd.factorize(X["title"].fillna(""))
        body_rows, bodies = pd.factorize(X["description"].fillna(""))
        texts = {**title_texts(titles, self.backend), **body_texts(bodies, self.backend)}
        rows = {"title_words": title_rows, "title_chars": title_rows, "body_words": body_rows}
        return sp.hstack([block.transform(texts[block.name])[rows[block.name]] for block in self.blocks], format="csr")

    def title_only(self, features) -> np.ndarray:
        """The rows that the title view scores: no feature from the description (none given, or none
        of its words known). All False for a model without a title view."""
        features = features.tocsr()
        n = features.shape[0]
        if self.title_view is None:
            return np.zeros(n, dtype=bool)
        row = np.repeat(np.arange(n), np.diff(features.indptr))
        body = np.bincount(row[features.indices >= self.title_view.columns], minlength=n)
        return body == 0

    def _raw(self, features, title_only: np.ndarray) -> list[tuple[np.ndarray | slice, np.ndarray, float]]:
        """(rows, per-label scores, temperature) for each view that has rows, the title view last: it
        overrides the full view's scores of its rows (scoring every row at once costs less than
        copying the matrix without them)."""
        parts = [(slice(None), features @ self.coef.T + self.intercept, self.temperature_)]
        if title_only.any():
            view, rows = self.title_view, np.flatnonzero(title_only)
            parts.append((rows, features[rows][:, : view.columns] @ view.coef.T + view.intercept, view.temperature))
        return parts

    def scores_of_features(self, features) -> np.ndarray:
        features = features.tocsr()
        scores = np.empty((features.shape[0], len(self.classes_)))
        for rows, raw, _ in self._raw(features, self.title_only(features)):
            scores[rows] = class_scores(raw, self.owner, len(self.classes_))
        return scores

    def proba_of_features(self, features, title_only: np.ndarray | None = None) -> np.ndarray:
        """Probabilities of the classes; `title_only` (from `title_only`, when the caller needs it too)
        saves finding those rows again."""
        features = features.tocsr()
        title_only = self.title_only(features) if title_only is None else title_only
        proba = np.empty((features.shape[0], len(self.classes_)))
        for rows, raw, temperature in self._raw(features, title_only):
            proba[rows] = _softmax(class_scores(raw, self.owner, len(self.classes_)), temperature)
        return proba

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self.scores_of_features(self.features(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.proba_of_features(self.features(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def feature_names(self) -> list[str]:
        return [f"{b.name}__{t}" for b in self.blocks for t in b.terms]

    def explain_features(self, features, roles, top: int = 5) -> list[list[tuple[str, float]]]:
        """For each posting, the terms that pushed it most towards `roles[i]`: feature value × weight.
        A split class explains with the weights of the label that scored the ad highest."""
        features = features.tocsr()
        names = self.feature_names()
        rows_of = {c: np.flatnonzero(self.owner == i) for i, c in enumerate(self.classes_)}
        title_only = self.title_only(features)
        raw = np.empty((features.shape[0], len(self.owner)))
        for rows, part, _ in self._raw(features, title_only):
            raw[rows] = part
        out = []
        for i, role in enumerate(roles):
            start, end = features.indptr[i], features.indptr[i + 1]
            candidates = rows_of.get(role, ())
            if len(candidates) == 0 or start == end:
                out.append([])
                continue
            row = candidates[raw[i, candidates].argmax()]
            columns = features.indices[start:end]
            coef = self.title_view.coef if title_only[i] else self.coef
            contributions = features.data[start:end] * coef[row][columns]
            order = np.argsort(-contributions)[:top]
            out.append([(_term(names[columns[j]]), round(float(contributions[j]), 3)) for j in order if contributions[j] > 0])
        return out

    def explain(self, X: pd.DataFrame, roles, top: int = 5) -> list[list[tuple[str, float]]]:
        return self.explain_features(self.features(X), roles, top)

    # ------------------------------------------------------------------ files

    def save(self, folder: Path) -> None:
        arrays = {"coef": self.coef, "intercept": self.intercept, "owner": self.owner}
        view = self.title_view
        if view is not None:
            arrays.update({"title_coef": view.coef, "title_intercept": view.intercept})
        spec = {
            "backend": self.backend,
            "classes": [str(c) for c in self.classes_],
            "temperature": self.temperature_,
            "title_view": None if view is None else {"columns": view.columns, "temperature": view.temperature},
        }
        save_layer(folder, ARRAYS_FILE, SPEC_FILE, spec, arrays, self.blocks)

    @classmethod
    def load(cls, folder: Path) -> LinearModel:
        spec, arrays, blocks = load_layer(folder, ARRAYS_FILE, SPEC_FILE)
        view = spec.get("title_view")
        title_view = None if view is None else TitleView(int(view["columns"]), arrays["title_coef"], arrays["title_intercept"], float(view["temperature"]))
        return cls(
            spec["backend"], blocks, np.array(spec["classes"], dtype=object), arrays["coef"], arrays["intercept"], arrays["owner"],
            spec["temperature"], title_view,
        )


def save_layer(folder: Path, arrays_file: str, spec_file: str, spec: dict, arrays: dict, blocks: list[TfidfBlock]) -> None:
    """A fitted layer as a NumPy archive (weights, idf; no pickle) and a JSON spec (the rest)."""
    np.savez_compressed(folder / arrays_file, **arrays, **{f"idf__{b.name}": b.idf for b in blocks})
    (folder / spec_file).write_text(json.dumps({**spec, "blocks": [b.spec() for b in blocks]}, ensure_ascii=False), encoding="utf-8")


def load_layer(folder: Path, arrays_file: str, spec_file: str) -> tuple[dict, dict[str, np.ndarray], list[TfidfBlock]]:
    spec = json.loads((folder / spec_file).read_text(encoding="utf-8"))
    with np.load(folder / arrays_file, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return spec, arrays, [TfidfBlock.from_spec(b, arrays) for b in spec["blocks"]]


def _term(feature_name: str) -> str:
    """'title_words__客户成功' → 'title:客户成功'; 'body_words__私域' → '私域'."""
    block, _, term = feature_name.partition("__")
    return term if block == "body_words" else f"title:{term.strip()}"
