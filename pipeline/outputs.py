"""Atomic, chunked writing of tables: a failed or interrupted run leaves no half-written output.

Rows are written to a temporary file beside the target and renamed over it only when the writer is
closed without error; the rename is atomic on POSIX file systems.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TABLE_SUFFIXES = {".parquet", ".csv", ".jsonl", ".xlsx"}


class OutputError(ValueError):
    pass


def table_format(path: str | os.PathLike) -> str:
    if str(path) == "-":
        return ".csv"
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        suffix = ".jsonl"
    if suffix not in TABLE_SUFFIXES:
        raise OutputError(f"{path}: output must end in one of {sorted(TABLE_SUFFIXES)} (or be '-' for stdout)")
    return suffix


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path that becomes `path` only if the block finishes without error."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make outputs private
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _arrow_table(frame: pd.DataFrame, schema: pa.Schema | None) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table if schema is None else table.cast(schema)


class TableWriter:
    """Append DataFrame chunks to a Parquet, CSV, JSON-lines or Excel file; commit on close.

    Use as a context manager: leaving the block with an exception discards everything written.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.format = table_format(path)
        self.rows = 0
        self._stdout = self.path == "-"
        self._atomic = None if self._stdout else atomic_path(self.path)
        self._tmp: Path | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._excel_chunks: list[pd.DataFrame] = []
        self._schema: pa.Schema | None = None
        self._started = False  # the header is written with the first chunk, even an empty one

    def __enter__(self) -> TableWriter:
        if self._atomic is not None:
            self._tmp = self._atomic.__enter__()
        return self

    def write(self, frame: pd.DataFrame) -> None:
        first = not self._started
        self._started = True
        if self.format == ".parquet":
            table = _arrow_table(frame, self._schema)
            if self._parquet is None:
                self._schema = table.schema
                self._parquet = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")
            self._parquet.write_table(table)
        elif self.format == ".csv":
            if self._stdout:
                frame.to_csv(sys.stdout, header=first, index=False)
            else:
                frame.to_csv(self._tmp, mode="w" if first else "a", header=first, index=False, encoding="utf-8")
        elif self.format == ".jsonl":
            with open(self._tmp, "w" if first else "a", encoding="utf-8") as f:
                frame.to_json(f, orient="records", lines=True, force_ascii=False, date_format="iso")
                if len(frame):
                    f.write("\n")
        else:
            self._excel_chunks.append(frame)
        self.rows += len(frame)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self._parquet is not None:
                    self._parquet.close()
                if self.format == ".xlsx":
                    frame = pd.concat(self._excel_chunks, ignore_index=True) if self._excel_chunks else pd.DataFrame()
                    frame.to_excel(self._tmp, index=False, engine="openpyxl")
            elif self._parquet is not None:
                self._parquet.close()
        finally:
            if self._atomic is not None:
                self._atomic.__exit__(exc_type, exc, tb)


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    with TableWriter(path) as writer:
        writer.write(frame)
