"""Classification speed and memory, end to end (process start, reading, writing included).

Two inputs, each configuration its own process, printing seconds, postings/s and peak RSS:
- a 40,000-row CSV of the labelled ads repeated (title, company, city, description), the file the
  speed goal is stated on: the plain pipeline (benchmarks/plain_classify.py: read_csv, jieba.lcut,
  TfidfVectorizer + LinearSVC, to_csv, one process) against `tobroles classify in.csv -o out.csv`
  (defaults: one worker per core, since its chunks are full) and against the same with
  `--jobs 1` (one process, like the plain pipeline), and the ratios;
- N postings of the bundled corpus (Parquet): tobroles with --jobs 1 and 2, and dask; the plain
  pipeline up to --plain-max rows.
First, start-up: `tobroles --help` and classifying a 12-row CSV, --startup-runs times each (median,
min, max wall seconds), beside the floor under them: a bare interpreter, and one that only imports
the libraries a classify run loads (with and without pandas and SciPy).

Usage: python benchmarks/classify_speed.py [--sizes 1000000] [--plain-max 100000] [--no-dask]
       [--startup-runs 5] [--csv-rows 0 --sizes]   (start-up only)
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


def labelled_csv(n: int, folder: Path) -> Path:
    labels = pd.read_parquet(REPO / "data" / "labels.parquet", columns=["title", "company", "city", "description"])
    frame = pd.concat([labels] * -(-n // len(labels)), ignore_index=True).iloc[:n]
    path = folder / f"labelled-{n}.csv"
    frame.to_csv(path, index=False)
    return path


# What `tobroles classify` imports besides its own modules, heaviest first.
CLASSIFY_IMPORTS = ["pandas", "scipy.sparse", "pyarrow.compute", "rjieba", "typer", "rich.progress"]


def startup(tobroles: list[str], folder: Path, runs: int) -> None:
    small = labelled_csv(12, folder)
    floors = [
        (f"import {', '.join(CLASSIFY_IMPORTS[i:])}", [sys.executable, "-c", f"import {', '.join(CLASSIFY_IMPORTS[i:])}"]) for i in range(3)
    ]
    for name, cmd in [
        ("--help", [*tobroles, "--help"]),
        ("classify 12 rows", [*tobroles, "classify", str(small), "-o", str(folder / "small.csv")]),
        ("python -c pass", [sys.executable, "-c", "pass"]),
        *floors,
    ]:
        seconds = sorted(run(cmd)[0] for _ in range(runs))
        print(f"start-up {name:<78} median {seconds[len(seconds) // 2]:.2f}s  min {seconds[0]:.2f}s  max {seconds[-1]:.2f}s  ({runs} runs)", flush=True)


def ratios(timings: dict[str, float]) -> str:
    return f"{timings['plain'] / timings['tobroles']:.1f}x (defaults), {timings['plain'] / timings['tobroles --jobs 1']:.1f}x (--jobs 1)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv-rows", type=int, default=40_000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--plain-max", type=int, default=100_000, help="skip the plain run above this size (it takes many minutes)")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--startup-runs", type=int, default=5)
    args = parser.parse_args()
    tobroles = [sys.executable, "-m", "pipeline"]
    plain = [sys.executable, "benchmarks/plain_classify.py"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        startup(tobroles, tmp, args.startup_runs)
        if not args.csv_rows:
            return
        subprocess.run([*plain, "fit", str(tmp / "plain.pkl")], check=True, cwd=REPO)
        source = labelled_csv(args.csv_rows, tmp)
        timings = {}
        for name, cmd in [
            ("plain", [*plain, "run", str(tmp / "plain.pkl"), str(source), str(tmp / "plain.csv")]),
            ("tobroles", [*tobroles, "classify", str(source), "-o", str(tmp / "tobroles.csv")]),
            ("tobroles --jobs 1", [*tobroles, "classify", str(source), "-o", str(tmp / "tobroles1.csv"), "--jobs", "1"]),
        ]:
            seconds, rss = run(cmd)
            timings[name] = seconds
            row = {"postings": args.csv_rows, "input": "csv", "config": name, "seconds": round(seconds, 2), "postings_per_s": round(args.csv_rows / seconds), "peak_rss_mib": round(rss)}
            results.append(row)
            print(json.dumps(row), flush=True)
        print(f"tobroles is {ratios(timings)} the plain pipeline on the {args.csv_rows:,}-row CSV", flush=True)
        for n in args.sizes:
            source = build_input(n, tmp)
            configs = []
            if n <= args.plain_max:
                configs.append(("plain", [*plain, "run", str(tmp / "plain.pkl"), str(source), str(tmp / "plain-big.csv")]))
            configs.append(("local jobs=1", [*tobroles, "classify", str(source), "-o", str(tmp / "out1.parquet"), "--jobs", "1"]))
            configs.append(("local jobs=2", [*tobroles, "classify", str(source), "-o", str(tmp / "out2.parquet"), "--jobs", "2"]))
            if not args.no_dask:
                configs.append(("dask 2 workers", [*tobroles, "classify", str(tmp / f"parts-{n}"), "-o", str(tmp / "out-dask"), "--engine", "dask", "--jobs", "2"]))
            for name, cmd in configs:
                seconds, rss = run(cmd)
                row = {"postings": n, "input": "parquet", "config": name, "seconds": round(seconds, 2), "postings_per_s": round(n / seconds), "peak_rss_mib": round(rss)}
                results.append(row)
                print(json.dumps(row), flush=True)
    print()
    print(f"{'postings':>9} {'input':<8} {'config':<17} {'seconds':>8} {'postings/s':>11} {'peak RSS MiB':>13}")
    for r in results:
        print(f"{r['postings']:>9,} {r['input']:<8} {r['config']:<17} {r['seconds']:>8.1f} {r['postings_per_s']:>11,} {r['peak_rss_mib']:>13,}")
    print(f"ratio on the CSV: {ratios(timings)}")
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
