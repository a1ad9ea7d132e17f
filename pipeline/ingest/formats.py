"""Bytes → tables. A file is read by what it holds, not only by its name.

- CSV/TSV: encoding (UTF-8, BOM, GB18030, UTF-16, anything charset-normalizer names) and delimiter
  are detected; a first row that looks like data means there is no header; rows with more fields than
  the header, and repeated header lines, become rejects with their row number while the rest is read.
- Excel: every sheet that has data, with its header on whichever of the first rows it stands.
- JSON: an array, JSON lines, objects or arrays concatenated or never closed, lines ending in commas,
  an envelope with the records somewhere inside; nested objects become dotted keys. What cannot be
  decoded becomes a reject with its character offset.
- HTML detail pages and plain-text files: one posting each (see `pages`).
- Parquet.

Every value is read as text: ids such as 职位自编号 must not turn into floats; the layouts decide what
is numeric. Each chunk's index holds its rows' 1-based row numbers in the file (header excluded), so
that a posting can always be traced back to its row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pandas as pd

from . import pages
from .columns import field_for_name, header_row
from .sources import PAGE_SUFFIXES, REFUSED_SUFFIXES, RawFile, SourceError

SNIFF_BYTES = 1 << 20
DELIMITERS = [",", "\t", ";", "|"]
DEFAULT_CHUNK_ROWS = 50_000
HEAD_ROWS = 30


@dataclass
class Reject:
    row: int | None
    reason: str
    text: str = ""
    file: str | None = None  # a page of a folder of pages; None: the table's own file


@dataclass
class Table:
    """One table of a file (a CSV, one Excel sheet, one JSON document, a page): chunks of rows, and
    the rows that could not be read, filled in while the chunks are consumed."""

    format: str
    chunks: Iterator[pd.DataFrame]
    encoding: str | None = None
    header: bool = True
    sheet: str | None = None
    rejects: list[Reject] = field(default_factory=list)
    note: str = ""  # what reading had to repair, for the file's summary

    def describe(self) -> str:
        parts = [self.format]
        if self.encoding:
            parts.append(self.encoding)
        if self.sheet:
            parts.append(f"{'table' if self.format == 'sqlite' else 'sheet'} {self.sheet!r}")
        if not self.header:
            parts.append("no header row")
        return ", ".join(parts)


# ----------------------------------------------------------------------------- text files


CHINESE_CODECS = ("gb18030", "cp950")
# Simplified text is the usual case: Big5 must read clearly better to win.
PREFER_GB = 0.1
MIN_READABLE = 0.6
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_UNREADABLE = re.compile(r"[\ufffd\ue000-\uf8ff\u3040-\u30ff\u0370-\u04ff\u2500-\u257f\u3100-\u312f]")


def _everyday(char: str, codec: str, first: int, last: int) -> bool:
    """Whether `char` is a two-byte character of `codec` whose lead byte is in [first, last]: GB2312's
    level 1 (B0-D7) and Big5's frequent block (A4-C6) hold the ~5,000 everyday characters of each script."""
    try:
        code = char.encode(codec)
    except UnicodeEncodeError:
        return False
    return len(code) == 2 and first <= code[0] <= last


def _common_in(char: str, encoding: str) -> bool:
    """Whether a Han character is everyday writing in the script `encoding` stands for (GB18030 writes
    both scripts; cp950 traditional only)."""
    traditional = _everyday(char, "cp950", 0xA4, 0xC6)
    return traditional if encoding == "cp950" else traditional or _everyday(char, "gb2312", 0xB0, 0xD7)


def readability(text: str, encoding: str) -> float:
    """The share of the Han characters and telltale symbols of a decoded text that read as everyday
    writing in that encoding's script: text decoded with the wrong codec turns into rare characters,
    kana, Greek, box drawing and private-use code points. Each distinct character is judged once."""
    good = bad = 0
    for char, n in Counter(text).items():
        if _HAN.match(char):
            if _common_in(char, encoding):
                good += n
            else:
                bad += n
        elif _UNREADABLE.match(char):
            bad += n
    return good / (good + bad) if good + bad else 0.0


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig, utf-8, utf-16, gb18030 or cp950 (Big5) from the first bytes of a file; charset-normalizer otherwise."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # A stray NUL in scraped text is cleaned away later; a file full of them is not text.
    if sample.count(b"\x00") > max(8, len(sample) // 100):
        raise ValueError("binary data (NUL bytes), not a text file")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # GB18030 decodes nearly any bytes without an error, Big5 (Traditional-Chinese boards) among
    # them, into nonsense: the Chinese codecs are judged by how well their text reads.
    readings = {encoding: readability(codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False), encoding) for encoding in CHINESE_CODECS}
    best = max(readings, key=lambda e: readings[e] + (PREFER_GB if e == "gb18030" else 0))
    if readings[best] >= MIN_READABLE:
        return best
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise ValueError("cannot tell the text encoding (binary data?)")
    return best.encoding


def _decode_sample(raw: RawFile) -> tuple[bytes, str, str]:
    with raw.open() as f:
        sample = f.read(SNIFF_BYTES)
    if not sample.strip():
        raise SourceError(f"{raw.name}: empty file")
    try:
        encoding = detect_encoding(sample)
    except ValueError as exc:
        raise SourceError(f"{raw.name}: {exc}") from exc
    return sample, encoding, codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample)


def _records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def detect_delimiter(text_sample: str) -> str:
    """The delimiter that splits the first records into the most fields, most consistently."""
    complete = text_sample[: text_sample.rfind("\n") + 1] or text_sample

    def score(d: str) -> tuple[float, int]:
        rows = _records(complete, d, 20)
        if not rows:
            return (0, 0)
        widths = [len(r) for r in rows]
        common = max(set(widths), key=widths.count)
        return (widths.count(common) / len(widths) if common > 1 else 0, common)

    best = max(DELIMITERS, key=score)
    return best if score(best)[1] > 1 else ","


def _looks_like_table(text_sample: str) -> bool:
    """A .txt file is a table when its first lines split into the same number (>1) of fields."""
    lines = [line for line in text_sample.splitlines()[:10] if line.strip()]
    if len(lines) < 2:
        return False
    d = detect_delimiter(text_sample)
    widths = {len(r) for r in _records("\n".join(lines) + "\n", d, 10)}
    return len(widths) == 1 and widths.pop() > 1


def _csv_table(raw: RawFile, chunk_rows: int) -> Table:
    sample, encoding, text_sample = _decode_sample(raw)
    delimiter = "\t" if raw.suffix == ".tsv" else detect_delimiter(text_sample)
    head = _records(text_sample[: text_sample.rfind("\n") + 1] or text_sample, delimiter, HEAD_ROWS)
    at = header_row(head) if head else 0
    # Only a header on the first line is trusted in CSV; preambles are an Excel habit.
    has_header = at == 0
    width = max((len(r) for r in head), default=1)
    names = None if has_header else [f"column_{i + 1}" for i in range(width)]
    table = Table("csv", iter(()), encoding=encoding, header=has_header)
    table.chunks = _csv_chunks(raw, table, encoding, delimiter, names, chunk_rows)
    return table


def _csv_chunks(raw, table, encoding, delimiter, names, chunk_rows) -> Iterator[pd.DataFrame]:
    """pandas' C parser for speed; at the first malformed record, Python's csv module takes over from
    that record on, so that only the bad records are rejected, each with its row number."""
    done = 0
    try:
        with raw.open() as f:
            # pandas decodes in C when given the bytes and the encoding; a Python text wrapper would
            # feed its parser through Python read() calls, the slowest part of reading.
            reader = pd.read_csv(
                f,
                encoding=encoding,
                sep=delimiter,
                header=0 if names is None else None,
                names=names,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                chunksize=chunk_rows,
                skip_blank_lines=True,
                index_col=False,  # never take a first column as the index because a row has one field too many
            )
            for chunk in reader:
                chunk.columns = _unique([str(c).strip() for c in chunk.columns])
                chunk.index = pd.RangeIndex(done + 1, done + 1 + len(chunk))
                done += len(chunk)
                yield _drop_repeated_headers(chunk, table)
        return
    except pd.errors.EmptyDataError as exc:
        raise SourceError(f"{raw.name}: empty file (no header row)") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(f"{raw.name}: bytes at offset {exc.start:,} are not {encoding} (mixed encodings?)") from exc
    except pd.errors.ParserError:
        pass
    yield from _csv_module_chunks(raw, table, encoding, delimiter, names, chunk_rows, done)


def _csv_module_chunks(raw, table, encoding, delimiter, names, chunk_rows, skip) -> Iterator[pd.DataFrame]:
    with raw.open() as f:
        reader = csv.reader(io.TextIOWrapper(f, encoding=encoding, newline=""), delimiter=delimiter, strict=True)
        header = names
        rows, index, number = [], [], 0
        try:
            for record in reader:
                if not record or record == [""]:
                    continue
                if header is None:
                    header = [c.strip() for c in record]
                    continue
                number += 1
                if number <= skip:
                    continue
                if len(record) > len(header):
                    table.rejects.append(Reject(number, f"line {reader.line_num}: {len(record)} fields where the header has {len(header)}", delimiter.join(record)[:500]))
                    continue
                rows.append(record + [None] * (len(header) - len(record)))
                index.append(number)
                if len(rows) >= chunk_rows:
                    yield _frame(rows, header, index, table)
                    rows, index = [], []
        except csv.Error as exc:
            table.rejects.append(Reject(number + 1, f"malformed CSV from line {reader.line_num} to the end: {exc}"))
        except UnicodeDecodeError:
            table.rejects.append(Reject(number + 1, f"from line {reader.line_num} to the end: bytes that are not {encoding} (mixed encodings?)"))
        if rows:
            yield _frame(rows, header, index, table)


def _frame(rows: list[list], header: list[str], index: list[int], table: Table) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_unique(header), index=index, dtype="string").replace("", pd.NA)
    return _drop_repeated_headers(frame, table)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name or "column"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _drop_repeated_headers(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Scrapers that append runs to one CSV repeat the header line inside the data."""
    if not table.header or frame.empty:
        return frame
    again = (frame.astype("string") == pd.Series(list(frame.columns), index=frame.columns)).sum(axis=1) >= max(2, frame.shape[1] // 2)
    for row in frame.index[again]:
        table.rejects.append(Reject(int(row), "a repeated header row, not a posting"))
    return frame[~again]


# ----------------------------------------------------------------------------- Excel


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    text = str(value)
    return text if text.strip() else None


def _excel_tables(raw: RawFile) -> Iterator[Table]:
    import openpyxl

    try:
        with raw.open() as f:
            workbook = openpyxl.load_workbook(io.BytesIO(f.read()), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise SourceError(f"{raw.name}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    try:
        for sheet in workbook.worksheets:
            rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            rows = [r for r in rows if any(v is not None for v in r)]
            if not rows:
                continue
            width = max(len(r) for r in rows)
            rows = [r + [None] * (width - len(r)) for r in rows]
            at = header_row(rows[:HEAD_ROWS])
            multi = len(workbook.worksheets) > 1
            if at is None:
                header, body = [f"column_{i + 1}" for i in range(width)], rows
            else:
                header, body = [v or f"column_{i + 1}" for i, v in enumerate(rows[at])], rows[at + 1 :]
            table = Table("xlsx", iter(()), header=at is not None, sheet=sheet.title if multi else None)
            if at is not None:
                header, body, table.note = _join_spill_over(rows[at], body)
            frame = pd.DataFrame(body, columns=_unique([h.strip() for h in header]), dtype="string")
            frame.index = pd.RangeIndex(1, len(frame) + 1)
            table.chunks = iter([_drop_repeated_headers(frame, table)])
            yield table
    finally:
        workbook.close()


# Exports from document stores split a long text on its commas into unnamed columns after its own.
MIN_SPILL_COLUMNS = 3


def _join_spill_over(header: list, body: list[list]) -> tuple[list[str], list[list], str]:
    """A run of at least MIN_SPILL_COLUMNS header-less columns right of a named one holds the rest of
    that column's text: joined back with the commas it was split on, so a description is never cut."""
    named = [h is not None and str(h).strip() != "" for h in header]
    runs: list[tuple[int, int]] = []  # (owner column, end of its run)
    i = 1
    while i < len(header):
        if not named[i] and named[i - 1]:
            end = i
            while end < len(header) and not named[end]:
                end += 1
            if end - i >= MIN_SPILL_COLUMNS:
                runs.append((i - 1, end))
            i = end
        else:
            i += 1
    if not runs:
        return [v or f"column_{i + 1}" for i, v in enumerate(header)], body, ""
    drop = {c for owner, end in runs for c in range(owner + 1, end)}
    joined_rows = []
    for row in body:
        row = list(row)
        for owner, end in runs:
            parts = row[owner:end]
            while len(parts) > 1 and parts[-1] is None:
                parts.pop()
            row[owner] = ",".join("" if p is None else p for p in parts) if any(p is not None for p in parts) else None
        joined_rows.append([v for c, v in enumerate(row) if c not in drop])
    kept_header = [h for c, h in enumerate(header) if c not in drop]
    note = "; ".join(f"{end - owner - 1} unnamed spill-over columns joined back into {header[owner]!r}" for owner, end in runs)
    return [str(h) for h in kept_header], joined_rows, note


# ----------------------------------------------------------------------------- JSON


def _records_in(value) -> list | None:
    """The list of objects anywhere inside a decoded JSON value that gives the most postings (its
    records' variants counted, see `_variants`); on a tie the outermost, whose records carry the
    fields their variants inherit."""
    best: list | None = None
    best_size = 0

    def visit(v, depth: int) -> None:
        nonlocal best, best_size
        if depth > 6:
            return
        if isinstance(v, list):
            objects = [x for x in v if isinstance(x, dict)]
            size = sum(len(_variants(x)) for x in objects)
            if objects and (best is None or size > best_size):
                best, best_size = objects, size
            for x in v[:50]:
                visit(x, depth + 1)
        elif isinstance(v, dict):
            size = len(_variants(v))  # a single record whose variants are the postings
            if size > 1 and size > best_size:
                best, best_size = [v], size
            for x in v.values():
                visit(x, depth + 1)

    visit(value, 0)
    return best


def _unwrap(value: dict) -> list[dict]:
    """The records of an envelope ({"data": {"list": [...]}}), or the object itself when it is a
    record (it has a title or description of its own)."""
    inner = _records_in(value)
    own = any(field_for_name(k) in ("title", "description") and isinstance(v, str) for k, v in value.items())
    return inner if inner and not own else [value]


_SEPARATORS = re.compile(r"[\s,\[\]]*")
_NEXT_RECORD = re.compile(r"[\n,\]]\s*[\[{]")


def decode_json_records(text: str) -> tuple[list[dict], list[Reject]]:
    """Every record of a JSON text in any of the shapes scrapers write."""
    try:
        doc = json.loads(text)
    except ValueError:
        pass
    else:
        if isinstance(doc, dict):
            return _unwrap(doc), []
        records = _records_in(doc)
        if records is None:
            raise ValueError("holds no objects (records)")
        return records, []
    decoder = json.JSONDecoder()
    records: list[dict] = []
    rejects: list[Reject] = []
    pos = _SEPARATORS.match(text, 0).end()
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            found = _NEXT_RECORD.search(text, pos + 1)
            end = found.start() + 1 if found else len(text)
            rejects.append(Reject(len(records) + len(rejects) + 1, f"character offset {pos:,}: broken JSON record ({exc.msg})", text[pos:end][:500]))
        else:
            if isinstance(value, dict):
                records.extend(_unwrap(value))
            elif isinstance(value, list):
                records.extend(_records_in(value) or [])
            else:
                rejects.append(Reject(None, f"character offset {pos:,}: a JSON {type(value).__name__}, not a record", str(value)[:500]))
        pos = _SEPARATORS.match(text, end).end()
    return records, rejects


def _variants(record: dict) -> list[dict]:
    """A record whose postings sit in a list inside it (a role with `variants: [{title, job_id, ...}]`
    per city or level, the description on the role) → one record per variant, which inherits the
    parent's fields and overrides those it has itself. Any other record stays as it is."""
    for key, value in record.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            named = {field_for_name(k) for v in value for k in v}
            if named & {"title", "posting_id", "url"}:
                parent = {k: v for k, v in record.items() if k != key}
                return [{**parent, **child} for child in value]
    return [record]


def _flatten(record: dict, prefix: str = "", out: dict | None = None) -> dict:
    out = {} if out is None else out
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, f"{name}.", out)
        elif isinstance(value, list):
            out[name] = "\n".join(str(v) for v in value) if all(not isinstance(v, (dict, list)) for v in value) else json.dumps(value, ensure_ascii=False)
        else:
            out[name] = None if value is None else str(value)
    return out


def _json_table(raw: RawFile, chunk_rows: int) -> Table:
    _, encoding, _ = _decode_sample(raw)
    with raw.open() as f:
        text = f.read().decode(encoding, errors="replace")
    try:
        records, rejects = decode_json_records(text.lstrip("\ufeff"))
    except ValueError as exc:
        raise SourceError(f"{raw.name}: JSON {exc}") from exc
    if not records and rejects:
        raise SourceError(f"{raw.name}: malformed JSON: {rejects[0].reason}")
    records = [variant for record in records for variant in _variants(record)]

    def chunks() -> Iterator[pd.DataFrame]:
        for start in range(0, len(records), chunk_rows):
            part = [_flatten(r) for r in records[start : start + chunk_rows]]
            frame = pd.DataFrame.from_records(part).astype("string")
            frame.columns = _unique([str(c).strip() for c in frame.columns])
            frame.index = pd.RangeIndex(start + 1, start + 1 + len(frame))
            yield frame

    return Table("json", chunks(), encoding=encoding, rejects=rejects)


# ----------------------------------------------------------------------------- key：value reports

# A rule line between records: ******** or ======== or ────────.
_RULE = re.compile(r"^\s*(?:[*=\-_#~+]{5,}|[─━═]{3,})\s*$", re.MULTILINE)
# `key：value`, or `【key】value` as some scrapers write it.
_KEY_VALUE = re.compile(r"^\s*(?:[【\[](?P<bracketed>[^】\]\n]{1,24})[】\]]\s*[:：]?|(?P<plain>[^\s:：【\[][^:：\n]{0,24}?)\s*[:：])\s*(?P<value>.*)$")


def _key_value(line: str) -> tuple[str, str] | None:
    found = _KEY_VALUE.match(line)
    return None if found is None else ((found.group("bracketed") or found.group("plain")).strip(), found.group("value").strip())


def _looks_like_kv_report(text_sample: str) -> bool:
    """Many postings per file as `key：value` lines in blocks between rule lines."""
    if len(_RULE.findall(text_sample)) < 2:
        return False
    lines = [line for line in text_sample.splitlines() if line.strip() and not _RULE.match(line)]
    pairs = sum(1 for line in lines[:200] if _key_value(line))
    return pairs >= 3 and pairs >= 0.3 * min(len(lines), 200)


def _kv_records(text: str) -> tuple[list[dict], list[int], list[Reject]]:
    """Each block's `key：value` lines as a record. The keys are those that start lines in most
    blocks; any other line, `岗位职责：` inside a description included, continues the value before it.
    A block with none of those keys (a report's preamble) is a reject."""
    blocks = [b for b in _RULE.split(text) if b.strip()]
    seen: dict[str, int] = {}
    for block in blocks:
        for key in {pair[0] for pair in map(_key_value, block.splitlines()) if pair}:
            seen[key] = seen.get(key, 0) + 1
    keys = {k for k, n in seen.items() if n >= max(1, len(blocks) / 2)}
    records, numbers, rejects = [], [], []
    for number, block in enumerate(blocks, start=1):
        record: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            pair = _key_value(line)
            if pair and pair[0] in keys and pair[0] not in record:
                key, record[key] = pair
            elif key is not None and line.strip():
                record[key] = (record[key] + "\n" + line.strip()).strip()
        if record:
            records.append(record)
            numbers.append(number)
        else:
            rejects.append(Reject(number, "a block with none of the keys the other blocks have (a preamble?)", block.strip()[:500]))
    return records, numbers, rejects


def _kv_table(raw: RawFile, chunk_rows: int) -> Table:
    _, encoding, _ = _decode_sample(raw)
    with raw.open() as f:
        text = f.read().decode(encoding, errors="replace").lstrip("\ufeff")
    records, numbers, rejects = _kv_records(text)
    if not records:
        raise SourceError(f"{raw.name}: no key：value records between its rule lines")

    def chunks() -> Iterator[pd.DataFrame]:
        for start in range(0, len(records), chunk_rows):
            frame = pd.DataFrame.from_records(records[start : start + chunk_rows]).astype("string")
            frame.columns = _unique([str(c) for c in frame.columns])
            frame.index = pd.Index(numbers[start : start + chunk_rows])
            yield frame

    return Table("key-value text", chunks(), encoding=encoding, rejects=rejects)


# ----------------------------------------------------------------------------- SQLite


def _sqlite_tables(raw: RawFile, chunk_rows: int) -> Iterator[Table]:
    """Every table of a SQLite database (scrapers' pipelines keep postings beside their own state),
    read-only, every value as text. A detail table (one row per posting, by a key such as job_id,
    holding what the list table lacks: the description, say) is joined onto its list table, so a
    posting comes out whole; its rows without a match come out as a table of their own. Tables that
    hold no postings are told apart by the layouts."""
    import sqlite3
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="tobroles-sqlite-") as tmp:
        path = raw.path
        if path is None:  # a zip member or a download held in memory: sqlite reads files only
            path = Path(tmp) / "db.sqlite"
            path.write_bytes(raw.data)
        try:
            connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
            names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
            columns = {n: [r[1] for r in connection.execute(f"PRAGMA table_info({_quoted(n)})")] for n in names}
            details = _detail_tables(connection, columns)
        except sqlite3.DatabaseError as exc:
            raise SourceError(f"{raw.name}: not a readable SQLite database ({exc})") from exc
        try:
            for name in names:
                if name in details:  # read with its list table; only its unmatched rows on their own
                    base, key = details[name]
                    query = f"SELECT * FROM {_quoted(name)} WHERE {_quoted(key)} NOT IN (SELECT {_quoted(key)} FROM {_quoted(base)} WHERE {_quoted(key)} IS NOT NULL)"
                    if connection.execute(f"SELECT COUNT(*) FROM ({query})").fetchone()[0]:  # noqa: S608 - quoted names from the database
                        table = Table("sqlite", _sqlite_chunks(connection, query, chunk_rows), sheet=f"{name} (rows not in {base})")
                        table.note = f"rows of {name!r} whose {key} is not in {base!r}"
                        yield table
                    continue
                joined = [(detail, key) for detail, (base, key) in details.items() if base == name]
                query, note = _joined_query(name, joined, columns)
                table = Table("sqlite", _sqlite_chunks(connection, query, chunk_rows), sheet=name if len(names) > 1 else None)
                table.note = note
                yield table
        finally:
            connection.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Key columns that every table numbers its own rows with: equal values in two tables say nothing.
_OWN_ROW_NUMBERS = {"id", "_id", "rowid", "index", "pk", "no", "seq", "序号", "编号"}


def _detail_tables(connection, columns: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """{detail table: (the table it belongs to, the key)} among the tables (name → columns)."""
    names = list(columns)
    rows = {n: connection.execute(f"SELECT COUNT(*) FROM {_quoted(n)}").fetchone()[0] for n in names}  # noqa: S608
    details: dict[str, tuple[str, str]] = {}
    # Later tables are taken as details of earlier ones (a scraper creates its list table first).
    for detail in reversed(names):
        if not rows[detail] or any(base == detail for base, _ in details.values()):
            continue
        for base in names:
            if base == detail or base in details:
                continue
            key = _join_key(connection, detail, base, columns, rows[detail])
            if key is not None:
                details[detail] = (base, key)
                break
    return details


def _join_key(connection, detail: str, base: str, columns: dict[str, list[str]], rows: int) -> str | None:
    """The column by which `detail` (of `rows` rows) holds more about the rows of `base`: named alike in
    both and not a mere row number, its values unique in `detail` and nearly all (90%) found in `base`;
    None when there is none, or when `detail` has no column that `base` lacks."""
    if not set(columns[detail]) - set(columns[base]):
        return None
    for key in columns[detail]:
        if key not in columns[base] or key.strip().lower() in _OWN_ROW_NUMBERS:
            continue
        k, d, b = _quoted(key), _quoted(detail), _quoted(base)
        distinct, filled, low, high, whole = connection.execute(
            f"SELECT COUNT(DISTINCT {k}), COUNT({k}), MIN({k}), MAX({k}), SUM(typeof({k}) = 'integer') FROM {d}"  # noqa: S608
        ).fetchone()
        if filled < rows or distinct < filled:
            continue
        if whole == filled and low == 1 and high == filled:  # 1..n: the table's own row numbers
            continue
        found = connection.execute(f"SELECT COUNT(*) FROM {d} WHERE {k} IN (SELECT {k} FROM {b})").fetchone()[0]  # noqa: S608
        if found >= 0.9 * rows:
            return key
    return None


def _joined_query(name: str, joined: list[tuple[str, str]], columns: dict[str, list[str]]) -> tuple[str, str]:
    """SELECT for table `name` with the columns of its detail tables added (a name it has already
    gets the detail table's name in front), and a note saying so."""
    own = columns[name]
    selected = [f"{_quoted(name)}.{_quoted(c)}" for c in own]
    joins, notes = [], []
    for detail, key in joined:
        for c in columns[detail]:
            if c == key:
                continue
            alias = c if c not in own else f"{detail}.{c}"
            selected.append(f"{_quoted(detail)}.{_quoted(c)} AS {_quoted(alias)}")
        joins.append(f"LEFT JOIN {_quoted(detail)} ON {_quoted(name)}.{_quoted(key)} = {_quoted(detail)}.{_quoted(key)}")
        notes.append(f"table {detail!r} joined by {key}")
    return f"SELECT {', '.join(selected)} FROM {_quoted(name)} {' '.join(joins)}", "; ".join(notes)


def _sqlite_chunks(connection, query: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    cursor = connection.execute(query)
    header = _unique([str(d[0]).strip() for d in cursor.description])
    done = 0
    while rows := cursor.fetchmany(chunk_rows):
        frame = pd.DataFrame([[_cell(v.decode("utf-8", "replace") if isinstance(v, bytes) else v) for v in row] for row in rows], columns=header, dtype="string")
        frame.index = pd.RangeIndex(done + 1, done + 1 + len(frame))
        done += len(frame)
        yield frame


# ----------------------------------------------------------------------------- Parquet, pages


def _row_group_runs(metadata, chunk_rows: int) -> Iterator[list[int]]:
    """Consecutive row groups that together hold at most `chunk_rows` rows (a larger one alone), so
    that files of small row groups still come in chunks of about `chunk_rows`."""
    run: list[int] = []
    rows = 0
    for group in range(metadata.num_row_groups):
        size = metadata.row_group(group).num_rows
        if run and rows + size > chunk_rows:
            yield run
            run, rows = [], 0
        run.append(group)
        rows += size
    if run:
        yield run


def _parquet_table(raw: RawFile, chunk_rows: int) -> Table:
    import pyarrow.parquet as pq

    def chunks() -> Iterator[pd.DataFrame]:
        done = 0
        try:
            with raw.open() as f:
                parquet = pq.ParquetFile(f)
                # One reader per run of row groups: a single iter_batches over the file keeps what it
                # has read until it ends (the process grew with the input: 0.7 GiB at a million ads),
                # while a finished reader lets go of it.
                batches = (b for groups in _row_group_runs(parquet.metadata, chunk_rows) for b in parquet.iter_batches(batch_size=chunk_rows, row_groups=groups))
                for batch in batches:
                    frame = batch.to_pandas()
                    frame.columns = _unique([str(c).strip() for c in frame.columns])
                    frame.index = pd.RangeIndex(done + 1, done + 1 + len(frame))
                    done += len(frame)
                    yield frame
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for broken files
            raise SourceError(f"{raw.name}: not a readable Parquet file ({exc})") from exc

    return Table("parquet", chunks())


PAGE_FORMATS = ("html", "text")


def read_pages(raws: list[RawFile], kind: str, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Table:
    """A folder's one-posting files as one table: a row per file, which keeps its own raw_file."""
    table = Table(kind, iter(()))

    def chunks() -> Iterator[pd.DataFrame]:
        for start in range(0, len(raws), chunk_rows):
            records = []
            for raw in raws[start : start + chunk_rows]:
                try:
                    _, encoding, _ = _decode_sample(raw)
                    with raw.open() as f:
                        text = f.read().decode(encoding, errors="replace")
                except SourceError as exc:
                    table.rejects.append(Reject(1, str(exc).removeprefix(f"{raw.name}: "), file=raw.name))
                    continue
                record = pages.html_record(text) if kind == "html" else pages.text_record(text, raw.name)
                records.append({**record, "raw_file": raw.name, "raw_row": "1"})
            if records:
                yield pd.DataFrame.from_records(records).astype("string")

    table.chunks = chunks()
    return table


# ----------------------------------------------------------------------------- dispatch


def sniff_format(raw: RawFile) -> str:
    """The file's format from its first bytes, falling back on its suffix."""
    with raw.open() as f:
        head = f.read(4096)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"PK\x03\x04") and raw.suffix not in {".zip", ".ods", ".numbers"}:
        return "xlsx"
    if raw.suffix in REFUSED_SUFFIXES:
        raise SourceError(f"{raw.name}: a {raw.suffix} spreadsheet cannot be read here; save it as .xlsx or .csv")
    if raw.suffix in PAGE_SUFFIXES or stripped.startswith((b"<!doctype html", b"<html")):
        return "html"
    if raw.suffix in {".json", ".jsonl", ".ndjson"} or stripped.startswith((b"{", b"[{", b"[\n", b"[\r")):
        return "json"
    if raw.suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if raw.suffix == ".parquet":
        return "parquet"
    if raw.suffix == ".txt":
        _, _, text = _decode_sample(raw)
        if _looks_like_kv_report(text):
            return "kv"
        return "csv" if _looks_like_table(text) else "text"
    if raw.suffix in {".csv", ".tsv"}:
        return "csv"
    raise SourceError(f"{raw.name}: unsupported file type {raw.suffix!r}")


def read_tables(raw: RawFile, chunk_rows: int = DEFAULT_CHUNK_ROWS, kind: str | None = None) -> Iterator[Table]:
    """Every table in the file, in order (an Excel workbook: one per sheet with data). `kind`: the
    format `sniff_format` found, when the caller has sniffed already."""
    kind = kind or sniff_format(raw)
    if kind == "csv":
        yield _csv_table(raw, chunk_rows)
    elif kind == "xlsx":
        yield from _excel_tables(raw)
    elif kind == "json":
        yield _json_table(raw, chunk_rows)
    elif kind == "parquet":
        yield _parquet_table(raw, chunk_rows)
    elif kind == "sqlite":
        yield from _sqlite_tables(raw, chunk_rows)
    elif kind == "kv":
        yield _kv_table(raw, chunk_rows)
    else:
        yield read_pages([raw], kind, chunk_rows)


def read_chunks(raw: RawFile, rejects: list[Reject], chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The rows of every table of the file, chunk by chunk (for our own outputs, read back); the
    records that could not be read go to `rejects`, each with its file."""
    for table in read_tables(raw, chunk_rows):
        yield from table.chunks
        rejects.extend(replace(r, file=r.file or raw.name) for r in table.rejects)
