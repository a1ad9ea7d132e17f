"""Atomic, chunked writing of tables: a failed or interrupted run leaves no half-written output.

Rows are written to a temporary file beside the target and renamed over it only when the writer is
closed without error; the rename is atomic on POSIX file systems.

Scraped text is data, never code. Every xlsx that tobroles writes goes through `write_xlsx`, which
stores text as text: a title such as `=HYPERLINK(...)` is a string cell, not a formula that a
spreadsheet would run (CWE-1236). CSV stays lossless unless `excel_safe` asks for OWASP's quote.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TABLE_SUFFIXES = {".parquet", ".csv", ".jsonl", ".xlsx"}


class OutputError(ValueError):
    pass


# Cells starting with these are formulas (or DDE) to Excel, LibreOffice and WPS.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_CELL = 32_767  # characters a cell holds; Excel refuses longer text


def excel_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """OWASP's advice for CSV meant for spreadsheets: text cells that would start a formula get a
    leading apostrophe, which the spreadsheet shows as text and hides."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            text = values.astype("string")
            risky = text.str.startswith(FORMULA_START).fillna(False)
            if risky.any():
                out[column] = text.where(~risky, "'" + text)
    return out


@dataclass(frozen=True)
class SheetStyle:
    """How a sheet meant for people looks: column widths (characters), wrapped columns, a frozen
    header row, and drop-down lists (column → a list formula such as "=taxonomy!$A$2:$A$27")."""

    widths: dict[str, float] = field(default_factory=dict)
    wrap: frozenset[str] = frozenset()
    freeze_header: bool = False
    lists: dict[str, str] = field(default_factory=dict)
    percent: frozenset[str] = frozenset()  # fractions shown as 12.3%
    bold_header: bool = False


def fitting_widths(frame: pd.DataFrame, most: float = 60) -> dict[str, float]:
    """Column widths (in characters) that fit the header and the values; a CJK character counts two."""
    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    widths = {}
    for column in frame.columns:
        values = frame[column].dropna().astype(str).head(500)
        longest = max([width(str(column)), *(width(v) for v in values)], default=8)
        widths[column] = float(min(max(longest + 2, 6), most))
    return widths


def _cell_text(text: str) -> str:
    """Text a cell can hold: no control characters, at most Excel's 32,767 characters."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)[:EXCEL_MAX_CELL]


def _xlsx_value(value, sheet, alignment=None, number_format: str | None = None):
    from openpyxl.cell import WriteOnlyCell

    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return value.item()
    if not isinstance(value, str):
        if number_format is None:
            return value
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = number_format
        return cell
    text = _cell_text(value)
    if not text.startswith(FORMULA_START) and alignment is None:
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # text, whatever it looks like
    if alignment is not None:
        cell.alignment = alignment
    return cell


def write_xlsx(path: str | os.PathLike, sheets: dict[str, pd.DataFrame], styles: dict[str, SheetStyle] | None = None) -> None:
    """Sheets of a workbook, every text cell stored as text (never a formula). Not atomic by itself:
    callers write to an atomic_path."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook(write_only=True)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(str(name)[:31])
        style = (styles or {}).get(name, SheetStyle())
        letter = {c: get_column_letter(i + 1) for i, c in enumerate(frame.columns)}
        for column, width in style.widths.items():
            sheet.column_dimensions[letter[column]].width = width
        if style.freeze_header:
            sheet.freeze_panes = "A2"
        last = max(len(frame) + 1, 2)
        for column, formula in style.lists.items():
            validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
            validation.add(f"{letter[column]}2:{letter[column]}{last}")
            sheet.data_validations.append(validation)
        wrapped = Alignment(wrap_text=True, vertical="top")
        aligned = [wrapped if c in style.wrap else None for c in frame.columns]
        formats = ["0.0%" if c in style.percent else None for c in frame.columns]
        header = []
        for c in frame.columns:
            cell = WriteOnlyCell(sheet, value=_cell_text(str(c)))
            cell.data_type = "s"
            if style.bold_header:
                cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_xlsx_value(v, sheet, a, f) for v, a, f in zip(row, aligned, formats)])
    workbook.save(path)


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

    def __init__(self, path: str | os.PathLike, excel_safe: bool = False, bom: bool = False):
        self.path = str(path)
        self.excel_safe = excel_safe
        self.bom = bom  # CSV: a UTF-8 byte order mark, so that Excel on a Chinese Windows reads UTF-8
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
            if self.excel_safe:
                frame = excel_safe_frame(frame)
            if self._stdout:
                if first and self.bom:
                    sys.stdout.write("\ufeff")
                frame.to_csv(sys.stdout, header=first, index=False)
            else:
                encoding = "utf-8-sig" if first and self.bom else "utf-8"
                frame.to_csv(self._tmp, mode="w" if first else "a", header=first, index=False, encoding=encoding)
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
                    write_xlsx(self._tmp, {"Sheet1": frame})
            elif self._parquet is not None:
                self._parquet.close()
        finally:
            if self._atomic is not None:
                self._atomic.__exit__(exc_type, exc, tb)


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    with TableWriter(path) as writer:
        writer.write(frame)
