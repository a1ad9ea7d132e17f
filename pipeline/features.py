"""From a posting's title and description to the sparse features the classifier reads.

Title and duties often disagree in real ads and the duties decide (taxonomy rule), so they are
featurised apart and weighted: title words and title characters lightly, the duties and
requirements sections fully. Company boilerplate and benefits are dropped (see sections.py).
Validation on the labelled ads picked these weights (see benchmarks/train_eval.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .linear import body_texts, count_unigrams, title_texts, vocabulary_terms
from .tokenize import DEFAULT_BACKEND, TOKEN_PATTERN, get_tokenizer, stopwords



class PostingText(TransformerMixin, BaseEstimator):
    """Cleaned postings (title, description) → tokenised title, raw title and duties+requirements.

    Stateless: the tokenizer is loaded once per process by `get_tokenizer`, not stored in the model.
    """

    def __init__(self, backend: str = DEFAULT_BACKEND):
        self.backend = backend

    def fit(self, X, y=None):
        get_tokenizer(self.backend)  # fail early on an unknown backend
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({**self.title_columns(X["title"]), **self.body_columns(X["description"])})

    def title_columns(self, titles) -> dict[str, list[str]]:
        return title_texts(titles, self.backend)

    def body_columns(self, descriptions) -> dict[str, list[str]]:
        return body_texts(descriptions, self.backend)


class WordTfidf(TfidfVectorizer):
    """TfidfVectorizer over space-joined tokens whose transform counts in Arrow and NumPy.

    sklearn's transform looks every token up in a Python dict (about 75 µs per ad); splitting and
    looking the tokens up in Arrow does the same work in C++. Tokens are split on the single spaces
    that PostingText joins them with; whitespace tokens and markers are never in the vocabulary. The result equals
    sklearn's transform for unigrams (tokens the fit left out of the vocabulary, noise and stop words,
    are simply not found), so fit stays sklearn's own.
    """

    def transform(self, raw_documents):
        if self.ngram_range != (1, 1):
            return super().transform(raw_documents)
        check_is_fitted(self, "vocabulary_")
        if getattr(self, "_terms", None) is None:
            self._terms = pa.array(vocabulary_terms(self.vocabulary_), type=pa.large_string())
        return self._tfidf.transform(count_unigrams(list(raw_documents), self._terms, self.dtype), copy=False)

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        state.pop("_terms", None)  # a lookup cache, rebuilt on first use
        return state


def word_vectorizer(**kwargs) -> TfidfVectorizer:
    """TF-IDF over tokens that PostingText already cut and joined with spaces."""
    cls = WordTfidf if kwargs.get("ngram_range", (1, 1)) == (1, 1) else TfidfVectorizer
    return cls(
        token_pattern=TOKEN_PATTERN,
        stop_words=stopwords(),
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
        **kwargs,
    )


def build_vectorizers(title_weight: float, body_weight: float) -> ColumnTransformer:
    return ColumnTransformer(
        [
            ("title_words", word_vectorizer(ngram_range=(1, 2), min_df=2), "title_words"),
            ("title_chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True, dtype=np.float32), "title_chars"),
            ("body_words", word_vectorizer(min_df=2, max_df=0.5), "body_words"),
        ],
        transformer_weights={"title_words": title_weight, "title_chars": title_weight, "body_words": body_weight},
        sparse_threshold=1.0,
    )
