"""The naive pipeline the speed targets are measured against: pandas, jieba.lcut per row, the same model.

Usage: python benchmarks/naive_classify.py INPUT.parquet OUTPUT.csv [--model models/default]
"""

from __future__ import annotations

import argparse

import jieba
import numpy as np
import pandas as pd

from pipeline.model_store import load_model
from pipeline.sections import split_sections


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    model = load_model(args.model)
    clf = model.classifier
    df = pd.read_parquet(args.input)

    def body(description):
        duties, requirements = split_sections(description if isinstance(description, str) else "")
        return " ".join(jieba.lcut(duties) + jieba.lcut(requirements)).lower()

    texts = pd.DataFrame(
        {
            "title_words": df["title"].fillna("").apply(lambda t: " ".join(jieba.lcut(t)).lower()),
            "title_chars": df["title"].fillna("").str.lower(),
            "body_words": df["description"].apply(body),
        }
    )
    scores = clf.svm_.decision_function(clf.vectorizers_.transform(texts))
    df["role"] = clf.classes_[np.asarray(scores).argmax(axis=1)]
    df.to_csv(args.output, index=False)


if __name__ == "__main__":
    main()
