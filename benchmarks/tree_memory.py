"""Peak memory of a command and every process it starts, summed over the process tree and sampled every
0.1 s, beside its wall seconds: a run with worker processes uses the memory of all of them at once.
Two sums: RSS, and PSS (pages shared by forked workers, such as the model's, counted once in all:
what the machine really gives the run).

Usage: python benchmarks/tree_memory.py COMMAND...   e.g.
       python benchmarks/tree_memory.py python -m pipeline classify big.parquet -o out.parquet
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory_kib(root: int) -> tuple[int, int]:
    """(RSS, PSS) of `root` and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:  # the process ended while we read it
            continue
        pid = int(status.parent.name)
        children.setdefault(int(fields["PPid"]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total_rss = total_pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        total_rss += rss.get(pid, 0)
        total_pss += _pss_kib(pid) if pid in rss else 0
        todo += children.get(pid, [])
    return total_rss, total_pss


def main() -> None:
    started = time.perf_counter()
    process = subprocess.Popen(sys.argv[1:])
    peak_rss = peak_pss = 0
    while process.poll() is None:
        rss, pss = tree_memory_kib(process.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    print(f"exit {process.returncode}, {seconds:.1f} s; peak of the process tree: RSS {peak_rss / 1024:,.0f} MiB, PSS {peak_pss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
