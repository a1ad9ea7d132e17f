"""From a posting's title and description to the sparse features the classifier reads.

Title and duties often disagree in real ads and the duties decide (taxonomy rule), so they are
featurised apart and weighted: title words and title characters lightly, the duties and
requirements sections fully. Company boilerplate and benefits are dropped (see sections.py).
Validation on the labelled ads picked these weights (see benchmarks/train_eval.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer

from .sections import split_sections
from .tokenize import DEFAULT_BACKEND, get_tokenizer

TEXT_COLUMNS = ("title", "description")


def _as_text(values) -> list[str]:
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


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
        tokenizer = get_tokenizer(self.backend)
        join = tokenizer.join
        titles = _as_text(X["title"])
        bodies = []
        for description in _as_text(X["description"]):
            duties, requirements = split_sections(description)
            bodies.append(join(duties) + " " + join(requirements))
        return pd.DataFrame(
            {"title_words": [join(t) for t in titles], "title_chars": [t.lower() for t in titles], "body_words": bodies}
        )


def word_vectorizer(**kwargs) -> TfidfVectorizer:
    """TF-IDF over tokens that PostingText already cut and joined with spaces."""
    return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True, dtype=np.float32, **kwargs)


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
