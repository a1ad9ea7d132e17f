"""Batch classification of posting files: every input row comes out once, in order, with its role.

Engines:
- local: streams the input chunk by chunk through the model; with jobs > 1 the chunks are classified
  by worker processes (a bounded number in flight, so memory stays flat) and written in input order.
- dask: `map_partitions` over a partitioned input (a folder or glob of Parquet/CSV files), on a
  LocalCluster or an existing scheduler; the model loads once per worker process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import Progress

from .business import pooled
from .classify import classify_frame, with_roles
from .ingest import COLUMNS, EXTRA_COLUMNS, FileSummary, postings_from_frame, read_postings, rejects_frame, rejects_path
from .model_store import DEFAULT_MODEL, Model, load_model
from .outputs import TableWriter
from .ingest.sources import SourceError, iter_files

log = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 20_000
# jobs=AUTO: once a chunk holds at least half of chunk_rows (a file of small row groups comes in
# chunks a little under chunk_rows), one worker per core (at most MAX_AUTO_JOBS: beyond that, reading
# and writing in the parent process is the bottleneck); smaller inputs in-process, where starting
# workers would cost more than it saves.
AUTO = 0
MAX_AUTO_JOBS = 4
# What the models read of a posting: the role model its title and description, the business-type model
# also its company and industry.
TEXT_FIELDS = ["title", "description", "company", "industry"]


@dataclass(frozen=True)
class ClassifyOptions:
    top_k: int = 3
    min_confidence: float | None = None  # None: the model's own review threshold
    min_margin: float = 0.1
    explain: bool = False

    def __post_init__(self) -> None:
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if self.min_confidence is not None and not 0 <= self.min_confidence <= 1:
            raise ValueError(f"min_confidence must be between 0 and 1, got {self.min_confidence}")


@dataclass
class ClassifyResult:
    """What a classify run read and wrote. rows_in counts every record read, the ones that could not
    be parsed included: rows_in == rows_out + rejected, and the rejected are in `rejects`."""

    output: str
    model_id: str
    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    rejects: str | None = None  # the rejects file, when there were rejects and the output is a file
    status: dict[str, int] = field(default_factory=dict)
    roles: dict[str, int] = field(default_factory=dict)
    files: list[FileSummary] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def warnings(self) -> list[tuple[str, str]]:
        return [(f.file, w) for f in self.files for w in f.warnings]

    @property
    def unreadable(self) -> list[FileSummary]:
        return [f for f in self.files if f.note.startswith("error")]


def distinct_rows(texts: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """(codes, distinct): the distinct rows of `texts` in order of first appearance, and for each row
    of `texts` the position of its copy in `distinct`. Exact (no hashing), so two ads are scored as
    one only when every field the models read is the same."""
    codes = np.zeros(len(texts), dtype=np.int64)
    for column in texts.columns:
        # Combining two codes stays below len(texts)**2: no overflow, whatever the number of columns.
        field_codes, uniques = pd.factorize(texts[column], use_na_sentinel=False)
        codes, _ = pd.factorize(codes * len(uniques) + field_codes)
    first = np.unique(codes, return_index=True)[1]
    return codes, texts.iloc[first].reset_index(drop=True)


def score(model: Model, postings: pd.DataFrame, options: ClassifyOptions) -> pd.DataFrame:
    """The role columns for normalised postings, row by row."""
    own = options.min_confidence is None  # the model's thresholds, one for full ads, one for titles alone
    return classify_frame(
        model.classifier,
        postings[TEXT_FIELDS],
        model_id=model.id,
        top_k=options.top_k,
        min_confidence=model.review_threshold if own else options.min_confidence,
        title_min_confidence=model.title_review_threshold if own else options.min_confidence,
        min_margin=options.min_margin,
        explain=options.explain,
        business=model.business,
    )


def chunk_roles(model: Model, postings: pd.DataFrame, options: ClassifyOptions) -> pd.DataFrame:
    """The role columns for one chunk of normalised postings. Real exports repeat ads (reposts, the
    same ad in several cities), so each distinct ad is scored once."""
    codes, distinct = distinct_rows(postings[TEXT_FIELDS])
    return score(model, distinct, options).iloc[codes].set_axis(postings.index)


# Worker processes keep the model they loaded; the parent sends them only the distinct ads' text fields.
_worker_model: Model | None = None


def _init_worker(model_path: str | None) -> None:
    global _worker_model
    if model_path is not None:  # spawned workers load it; forked ones inherit the parent's
        _worker_model = load_model(model_path)


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class WorkerError(RuntimeError):
    """A worker process died (killed for memory, say): the run stops and writes nothing."""


@contextmanager
def _worker_pool(model: Model, model_path, jobs: int) -> Iterator[Executor]:
    """Worker processes holding the model: forked ones share the parent's copy, spawned ones load it.

    A ProcessPoolExecutor, not a multiprocessing.Pool: when a worker dies, the Pool replaces it and
    waits forever for the piece it held; the executor fails every pending piece (BrokenProcessPool)."""
    from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor  # only with workers: start-up

    global _worker_model
    # Fork only on Linux: elsewhere it is unsafe (macOS system libraries) or missing (Windows).
    fork = sys.platform.startswith("linux")
    if not fork and model_path is None:
        raise ValueError("jobs > 1 without fork needs the model's folder, not a loaded Model")
    _worker_model = model
    context = multiprocessing.get_context("fork" if fork else "spawn")
    executor = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(None if fork else str(model_path),))
    try:
        # With fork the executor starts every worker at the first task: here, where the caller has
        # no other thread running, rather than at the first real piece.
        executor.submit(os.getpid).result()
        yield executor
    except BaseException as exc:
        # Interrupted or failed: drop the pieces not started; the workers finish the one they hold.
        executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(exc, BrokenProcessPool):  # raised by the next piece sent or collected
            raise WorkerError("a worker process died (out of memory?); nothing was written. Run again with --jobs 1 or a smaller --chunk-size") from exc
        raise
    executor.shutdown()


def _roles_in_worker(texts: pd.DataFrame, options: ClassifyOptions) -> pd.DataFrame:
    return score(_worker_model, texts, options)


def _tally(result: ClassifyResult, chunk: pd.DataFrame) -> None:
    result.rows_out += len(chunk)
    result.status = dict(Counter(result.status) + Counter(chunk["status"].value_counts().to_dict()))
    result.roles = dict(Counter(result.roles) + Counter(chunk["role"].dropna().value_counts().to_dict()))


def classify_files(
    inputs: list[str | os.PathLike],
    output: str | os.PathLike,
    *,
    model: Model | str | os.PathLike | None = None,
    options: ClassifyOptions = ClassifyOptions(),
    columns: dict[str, str] | None = None,
    jobs: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = False,
    excel_safe: bool = False,
    bom: bool = False,
) -> ClassifyResult:
    """Classify every row of `inputs` into `output` (CSV, Parquet, JSON lines or Excel; '-' = CSV on stdout).

    One input file keeps its own columns; several files are written in the canonical schema, whose
    raw_file and raw_row point back to each input row. The output is written atomically. `bom`: a
    CSV output starts with a UTF-8 byte order mark (for Excel on Windows). `jobs`: worker processes;
    AUTO (0, the command's default) starts one per core once a chunk holds half of `chunk_rows`.
    Outside Linux, workers are spawned: a script that asks for them needs the usual
    `if __name__ == "__main__":` guard.
    """
    started = time.perf_counter()
    if jobs < 0:
        raise ValueError(f"jobs must be >= 1, or 0 for one per core; got {jobs}")
    model_path = model.path if isinstance(model, Model) else (model or DEFAULT_MODEL)
    model = model if isinstance(model, Model) else load_model(model_path)
    result = ClassifyResult(output=str(output), model_id=model.id)
    with ExitStack() as stack:
        files = list(iter_files(list(inputs), stack))
        if not files:
            raise SourceError(f"no data files in {', '.join(map(str, inputs))}")
        bar = stack.enter_context(Progress(transient=True, disable=not progress))
        task = bar.add_task("classify", total=None)
        writer = stack.enter_context(TableWriter(output, excel_safe=excel_safe, bom=bom))
        # As in ingest: a file that cannot be read is reported and the others are read on.
        batches = read_postings(files, stack, result.files, chunk_rows=chunk_rows, columns=columns, keep_going=True)
        # The input's own columns only for one table (one file, one sheet): rows of tables with other
        # headers would land under the wrong names. Anything else is mapped table by table to the
        # canonical schema, so every output format carries the same columns.
        keep_original: bool | None = None

        def emit(chunk: pd.DataFrame) -> None:
            writer.write(chunk)
            _tally(result, chunk)
            bar.update(task, advance=len(chunk), description=f"classify ({result.rows_out:,} rows)")

        def posting_batches():
            nonlocal keep_original
            for batch in batches:
                if batch.postings is None:  # a company or tag table beside the postings: no ads in it
                    log.warning("%s: skipped (%s)", batch.raw.name, batch.summary.note)
                    continue
                if keep_original is None:
                    keep_original = len(files) == 1 and batch.sheet is None
                yield batch

        def base(batch) -> pd.DataFrame:
            return batch.original if keep_original else batch.postings[COLUMNS + EXTRA_COLUMNS]

        def labelled(batch, roles: pd.DataFrame) -> pd.DataFrame:
            # The business type is pooled over a company's ads in the whole batch (chunk), whatever
            # pieces the workers scored it in.
            return with_roles(base(batch), pooled(roles.reset_index(drop=True), batch.postings["company"]))

        pool = None

        def start_pool(workers: int):
            # Forked while no progress thread runs: a child must not inherit a lock that thread holds.
            bar.stop()
            try:
                return stack.enter_context(_worker_pool(model, model_path, workers))
            finally:
                bar.start()

        if jobs > 1:
            pool = start_pool(jobs)
        # Workers get pieces of a chunk's distinct ads, so that all stay busy to the end; at most two
        # pieces per worker are in flight, which bounds memory whatever the input size.
        pending: deque = deque()  # (batch, its number of pieces, where its rows are, piece's roles), in input order
        finished: list[pd.DataFrame] = []

        def collect() -> None:
            batch, pieces, codes, roles = pending.popleft()
            finished.append(roles.result())
            if len(finished) == pieces:
                emit(labelled(batch, pd.concat(finished, ignore_index=True).iloc[codes]))
                finished.clear()

        for batch in posting_batches():
            if pool is None and jobs == AUTO and len(batch.postings) >= max(1, chunk_rows // 2) and usable_cores() > 1:
                jobs = min(usable_cores(), MAX_AUTO_JOBS)
                pool = start_pool(jobs)
            if pool is None or batch.postings.empty:  # no rows: nothing to keep in order
                emit(labelled(batch, chunk_roles(model, batch.postings, options)))
                continue
            codes, texts = distinct_rows(batch.postings[TEXT_FIELDS])
            piece = max(1_000, chunk_rows // (2 * jobs))
            starts = range(0, len(texts), piece)
            for start in starts:
                pending.append((batch, len(starts), codes, pool.submit(_roles_in_worker, texts.iloc[start : start + piece], options)))
                while len(pending) > 2 * jobs:
                    collect()
        while pending:
            collect()
        postings_files = [f for f in result.files if f.layout not in ("company-table", "tag-table")]
        for summary in result.files:
            summary.check()
        result.rows_in = sum(f.rows_read for f in postings_files)
        result.rejected = sum(f.rejected for f in postings_files)
        if not result.rows_in and result.unreadable:
            problems = "; ".join(f"{f.file}: {f.note}" for f in result.unreadable)
            raise SourceError(f"nothing could be read from {', '.join(map(str, inputs))}: {problems}")
        if result.rows_out != result.rows_in - result.rejected:
            raise RuntimeError(f"internal error: {result.rows_in} rows in, {result.rejected} rejected, but {result.rows_out} out; output discarded")
    if str(output) != "-":
        result.rejects = _write_rejects(rejects_frame(result.files), rejects_path(output), excel_safe, bom)
    result.seconds = time.perf_counter() - started
    return result


def _write_rejects(rejects: pd.DataFrame, path: Path, excel_safe: bool, bom: bool) -> str | None:
    """The rejects beside the output; with none, a rejects file left by an earlier run of the same
    output is removed, since it no longer describes it."""
    if rejects.empty:
        path.unlink(missing_ok=True)
        return None
    with TableWriter(path, excel_safe=excel_safe, bom=bom) as writer:
        writer.write(rejects)
    return str(path)


# ----------------------------------------------------------------------------- dask engine


@lru_cache(maxsize=4)
def _model_for_worker(model_path: str) -> Model:
    """Loaded once per worker process (lru_cache lives as long as the process)."""
    return load_model(model_path)


def _classify_partition(partition: pd.DataFrame, model_path: str, options: ClassifyOptions, columns) -> pd.DataFrame:
    if partition.empty:  # dask's meta: the same columns as a real partition, options included
        postings = pd.DataFrame({c: pd.Series(dtype="string") for c in TEXT_FIELDS})
    else:
        postings = postings_from_frame(partition, name="partition", columns=columns)
    roles = chunk_roles(_model_for_worker(model_path), postings, options)
    return with_roles(partition, pooled(roles.reset_index(drop=True), postings["company"])).set_axis(partition.index)


def _read_dask(inputs: list[str]):
    import dask.dataframe as dd

    paths: list[str] = []
    for source in inputs:
        path = Path(source)
        if path.is_dir():
            paths += sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in {".parquet", ".csv"})
        else:
            paths.append(str(source))
    if not paths:
        raise SourceError(f"no Parquet or CSV files in {', '.join(inputs)}")
    suffixes = {Path(p).suffix.lower() for p in paths if "*" not in p} or {Path(paths[0]).suffix.lower()}
    if suffixes == {".parquet"}:
        return dd.read_parquet(paths)
    if suffixes == {".csv"}:
        # Quoted fields may span lines, so a CSV file is never split across partitions.
        return dd.read_csv(paths, dtype=str, blocksize=None, keep_default_na=False, na_values=[""])
    raise SourceError(f"the dask engine reads Parquet or CSV files of one kind; got {sorted(suffixes)}")


def classify_dask(
    inputs: list[str | os.PathLike],
    output: str | os.PathLike,
    *,
    model_path: str | os.PathLike | None = None,
    options: ClassifyOptions = ClassifyOptions(),
    columns: dict[str, str] | None = None,
    scheduler: str | None = None,
    workers: int = 2,
) -> ClassifyResult:
    """Classify a partitioned input with Dask into a folder of Parquet parts (written atomically)."""
    import dask
    from dask.distributed import Client, LocalCluster

    started = time.perf_counter()
    model_path = str(Path(model_path or DEFAULT_MODEL).resolve())
    model = _model_for_worker(model_path)  # fail here, not in every worker, on a bad model; meta reuses it
    output = Path(output)
    if output.suffix:
        raise ValueError(f"{output}: the dask engine writes a folder of Parquet parts; give a folder name")
    result = ClassifyResult(output=str(output), model_id=model.id)
    with ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(Client(scheduler))
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        frame = _read_dask([str(i) for i in inputs])
        meta = _classify_partition(frame._meta, model_path, options, columns)
        classified = frame.map_partitions(_classify_partition, model_path, options, columns, meta=meta)
        output.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
        try:
            write = classified.to_parquet(staging, write_index=False, compute=False)
            _, counts = dask.compute(write, frame.map_partitions(len))
            if output.exists():
                shutil.rmtree(output)
            staging.rename(output)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("dask dashboard: %s", getattr(client, "dashboard_link", "none"))
    result.rows_in = int(sum(counts))
    written = pd.read_parquet(output, columns=["role", "status"])
    _tally(result, written)
    if result.rows_out != result.rows_in:
        raise RuntimeError(f"internal error: {result.rows_in} rows in but {result.rows_out} out")
    result.seconds = time.perf_counter() - started
    return result
