"""Read one data file (CSV, Excel, JSON, JSON lines, Parquet) into DataFrame chunks of strings.

Everything is read as text: ids such as 职位自编号 must not turn into floats, and the layouts decide
what is numeric. CSV encodings (UTF-8, UTF-8 with BOM, GB18030/GBK) and delimiters are detected here,
so no user is asked which one a scraper used.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator

import pandas as pd
import pyarrow.parquet as pq

from .sources import RawFile, SourceError

SNIFF_BYTES = 1 << 20
DELIMITERS = [",", "\t", ";", "|"]
DEFAULT_CHUNK_ROWS = 50_000


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig, utf-8 or gb18030, from the first bytes of a file."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise ValueError("binary data (NUL bytes), not a text file")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise ValueError("cannot tell the text encoding (binary data?)")
    return best.encoding


def detect_delimiter(text_sample: str) -> str:
    """The delimiter that splits the header line most often."""
    header = text_sample.lstrip("\ufeff").split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_chunks(raw: RawFile, chunk_rows: int) -> Iterator[pd.DataFrame]:
    with raw.open() as f:
        sample = f.read(SNIFF_BYTES)
    if not sample.strip():
        raise SourceError(f"{raw.name}: empty file")
    try:
        encoding = detect_encoding(sample)
    except ValueError as exc:
        raise SourceError(f"{raw.name}: {exc}") from exc
    text_sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample)
    delimiter = "\t" if raw.suffix == ".tsv" else detect_delimiter(text_sample)
    try:
        with raw.open() as f:
            reader = pd.read_csv(
                io.TextIOWrapper(f, encoding=encoding, newline=""),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                chunksize=chunk_rows,
                skip_blank_lines=True,
            )
            yield from reader
    except pd.errors.EmptyDataError as exc:
        raise SourceError(f"{raw.name}: empty file (no header row)") from exc
    except pd.errors.ParserError as exc:
        raise SourceError(f"{raw.name}: malformed CSV: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{raw.name}: bytes at offset {exc.start:,} are not {encoding} (mixed encodings?)"
        ) from exc


def _excel_frames(raw: RawFile) -> Iterator[pd.DataFrame]:
    try:
        with raw.open() as f:
            sheets = pd.read_excel(f, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise SourceError(f"{raw.name}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    for sheet in sheets.values():
        yield sheet


def _json_frames(raw: RawFile, chunk_rows: int) -> Iterator[pd.DataFrame]:
    with raw.open() as f:
        head = f.read(SNIFF_BYTES).lstrip()
    if not head:
        raise SourceError(f"{raw.name}: empty file")
    lines = raw.suffix in {".jsonl", ".ndjson"} or not head.startswith(b"[") and b"\n{" in head
    try:
        if lines:
            with raw.open() as f:
                yield from pd.read_json(f, lines=True, dtype=False, chunksize=chunk_rows, encoding="utf-8")
            return
        with raw.open() as f:
            doc = json.load(f)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{raw.name}: malformed JSON: {exc}") from exc
    if isinstance(doc, dict):
        # Scrapers often wrap the records: {"data": [...]} or {"result": {"list": [...]}}.
        records = next((v for v in doc.values() if isinstance(v, list)), None)
        if records is None:
            records = next(
                (w for v in doc.values() if isinstance(v, dict) for w in v.values() if isinstance(w, list)),
                [doc],
            )
        doc = records
    if not isinstance(doc, list):
        raise SourceError(f"{raw.name}: JSON holds no list of records")
    yield pd.DataFrame.from_records([r if isinstance(r, dict) else {"value": r} for r in doc])


def _parquet_batches(raw: RawFile, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        with raw.open() as f:
            parquet = pq.ParquetFile(f)
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for broken files
        raise SourceError(f"{raw.name}: not a readable Parquet file ({exc})") from exc


def read_chunks(raw: RawFile, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield the file's rows in order as DataFrames of at most `chunk_rows` rows (Excel: one per sheet)."""
    if raw.suffix in {".csv", ".tsv", ".txt"}:
        frames = _csv_chunks(raw, chunk_rows)
    elif raw.suffix in {".xlsx", ".xlsm"}:
        frames = _excel_frames(raw)
    elif raw.suffix in {".json", ".jsonl", ".ndjson"}:
        frames = _json_frames(raw, chunk_rows)
    elif raw.suffix == ".parquet":
        frames = _parquet_batches(raw, chunk_rows)
    else:
        raise SourceError(f"{raw.name}: unsupported file type {raw.suffix!r}")
    for frame in frames:
        frame.columns = [str(c).strip() for c in frame.columns]
        yield frame
