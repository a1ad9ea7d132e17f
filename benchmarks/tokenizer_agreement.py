"""Token agreement and speed of the fast tokeniser backend (rjieba) against jieba, on the bundled corpus.

Agreement is segmentation F1: the share of tokens (as character spans) that both backends cut the
same, with the domain dictionary loaded in both.

Usage: python benchmarks/tokenizer_agreement.py [--sample 3000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from pipeline.tokenize import agreement, get_tokenizer

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=3000)
    args = parser.parse_args()
    corpus = pd.read_parquet(REPO / "data" / "corpus.parquet", columns=["title", "description"])
    texts = corpus["description"].dropna().sample(args.sample, random_state=0).tolist()
    fast, reference = get_tokenizer("rjieba"), get_tokenizer("jieba")
    print(f"{len(texts):,} descriptions, {sum(map(len, texts)) / len(texts):.0f} characters on average")
    print(f"token agreement rjieba vs jieba (segmentation F1): {agreement(texts, fast, reference):.4f}")
    for name, tokenizer in (("jieba", reference), ("rjieba", fast)):
        started = time.perf_counter()
        for text in texts:
            tokenizer.cut(text)
        seconds = time.perf_counter() - started
        print(f"{name:<7} {len(texts) / seconds:>8,.0f} descriptions/s")
    disagreements = [t for t in texts[:300] if fast.spans(t) != reference.spans(t)]
    if disagreements:
        text = disagreements[0]
        only_fast = sorted(fast.spans(text) - reference.spans(text))[:5]
        print("example difference (rjieba-only tokens):", [text[a:b] for a, b in only_fast])


if __name__ == "__main__":
    main()
