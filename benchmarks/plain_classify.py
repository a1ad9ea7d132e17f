"""The plain pipeline a user writes first, the reference of the speed goal: pandas read_csv,
jieba.lcut over title + description, a fitted TfidfVectorizer + LinearSVC, to_csv.

  python benchmarks/plain_classify.py fit MODEL.pkl              # fit on data/labels.parquet (untimed)
  python benchmarks/plain_classify.py run MODEL.pkl IN.csv OUT.csv
"""

from __future__ import annotations

import pickle
import sys

import jieba
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC


def words(text: str) -> list[str]:
    return jieba.lcut(text)


def text_of(frame: pd.DataFrame) -> pd.Series:
    return frame["title"].fillna("") + " " + frame["description"].fillna("")


def main() -> None:
    command, model_path, *paths = sys.argv[1:]
    if command == "fit":
        labels = pd.read_parquet("data/labels.parquet")
        model = make_pipeline(TfidfVectorizer(tokenizer=words, token_pattern=None), LinearSVC())
        model.fit(text_of(labels), labels["role"])
        with open(model_path, "wb") as f:
            pickle.dump(model, f)
        return
    with open(model_path, "rb") as f:
        model = pickle.load(f)
    frame = pd.read_parquet(paths[0]) if paths[0].endswith(".parquet") else pd.read_csv(paths[0])
    frame["role"] = model.predict(text_of(frame))
    frame.to_csv(paths[1], index=False)


if __name__ == "__main__":
    main()
