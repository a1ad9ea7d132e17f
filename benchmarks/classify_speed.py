"""Classification speed and memory, end to end (process start, reading, writing included).

Builds inputs of N postings from the bundled corpus (real texts, repeated) and runs each
configuration as its own process, printing postings/s and peak RSS:
  naive          pandas + jieba.lcut per row + the same model (benchmarks/naive_classify.py)
  local jobs=1   tobroles classify --engine local --jobs 1
  local jobs=2   tobroles classify --engine local --jobs 2
  dask           tobroles classify --engine dask (LocalCluster, 2 workers) on 8 Parquet parts

Usage: python benchmarks/classify_speed.py [--sizes 10000 100000 1000000] [--naive-max 100000]
Peak RSS is the largest single process (the parent, or any worker it waited for).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:]).returncode; "
    "print(rc, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of `cmd` in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, cwd=REPO)
    rc, seconds, rss_kib = out.stdout.split()[-3:]
    if rc != "0":
        raise RuntimeError(f"{cmd} failed: {out.stderr[-2000:]}")
    return float(seconds), int(rss_kib) / 1024


def build_input(n: int, folder: Path) -> Path:
    corpus = pd.read_parquet(REPO / "data" / "corpus.parquet")
    repeats = -(-n // len(corpus))
    frame = pd.concat([corpus] * repeats, ignore_index=True).iloc[:n]
    path = folder / f"postings-{n}.parquet"
    frame.to_parquet(path, index=False, row_group_size=20_000)
    parts = folder / f"parts-{n}"
    parts.mkdir()
    for i, part in enumerate(range(0, n, -(-n // 8))):
        frame.iloc[part : part + -(-n // 8)].to_parquet(parts / f"part-{i}.parquet", index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-max", type=int, default=100_000, help="skip the naive run above this size (it takes minutes)")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    tobroles = [sys.executable, "-m", "pipeline"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in args.sizes:
            source = build_input(n, tmp)
            configs = []
            if n <= args.naive_max:
                configs.append(("naive", [sys.executable, "benchmarks/naive_classify.py", str(source), str(tmp / "naive.csv")]))
            configs.append(("local jobs=1", [*tobroles, "classify", str(source), "-o", str(tmp / "out1.parquet"), "--jobs", "1"]))
            configs.append(("local jobs=2", [*tobroles, "classify", str(source), "-o", str(tmp / "out2.parquet"), "--jobs", "2"]))
            if not args.no_dask:
                configs.append(("dask 2 workers", [*tobroles, "classify", str(tmp / f"parts-{n}"), "-o", str(tmp / "out-dask"), "--engine", "dask", "--jobs", "2"]))
            for name, cmd in configs:
                seconds, rss = run(cmd)
                row = {"postings": n, "config": name, "seconds": round(seconds, 2), "postings_per_s": round(n / seconds), "peak_rss_mib": round(rss)}
                results.append(row)
                print(json.dumps(row), flush=True)
    print()
    print(f"{'postings':>9} {'config':<15} {'seconds':>8} {'postings/s':>11} {'peak RSS MiB':>13}")
    for r in results:
        print(f"{r['postings']:>9,} {r['config']:<15} {r['seconds']:>8.1f} {r['postings_per_s']:>11,} {r['peak_rss_mib']:>13,}")
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
