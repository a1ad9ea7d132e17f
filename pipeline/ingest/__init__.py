"""Ingestion: scraped job-ad files, as their scrapers left them, into one clean table of postings.

The data flows through one module per step: `sources` (files, folders, zips, URLs) → `formats`
(bytes → tables; `pages` for one-posting files) → `layouts` (known exports) or `columns` (what an
unknown file's columns hold, inferred from their content) → `clean` → `dedup`. Files are read one at
a time into temporary Parquet parts (memory stays bounded); duplicates are then resolved over the
whole run and the survivors are streamed into the output. Every row read is accounted for: kept,
merged into a duplicate, or rejected with its file, row and reason.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .clean import clean_field, clean_text, is_truncated
from .columns import SYNONYMS, infer_mapping
from .dedup import dedup_keys, merged_on, urls_name_postings
from .formats import PAGE_FORMATS, Reject, Table, read_pages, read_tables, sniff_format
from .layouts import COLUMNS, EXTRA_COLUMNS, PAGE_LAYOUT, Layout, from_mapping, known_layout
from .layouts import apply as apply_layout
from .sources import RawFile, SourceError, iter_files

log = logging.getLogger(__name__)

REJECT_COLUMNS = ["raw_file", "raw_row", "reason", "title", "company", "description"]
# Carried from normalising to dedup, never written: when the board last showed the row, and whether
# its posting_id is the board's own (not one made from its content).
INTERNAL_COLUMNS = ["_seen_at", "_id_given"]
FIELDS = list(SYNONYMS)
# A file is flagged when more than this share of its rows is merged away or rejected.
WARN_SHARE = 0.2


class IngestWarning(SourceError):
    """--strict: a file was read, but something about it deserves a person's look."""

    def __init__(self, message: str, result: IngestResult):
        super().__init__(message)
        self.result = result


def check_columns(columns: dict[str, str] | None) -> dict[str, str] | None:
    """The user's field=column choices, with unknown field names refused."""
    if not columns:
        return None
    unknown = [f for f in columns if f not in FIELDS]
    if unknown:
        raise SourceError(f"unknown field {unknown[0]!r} in --columns; the fields are: {', '.join(FIELDS)}")
    return dict(columns)


def detect_layout(frame: pd.DataFrame, name: str, columns: dict[str, str] | None = None, *, page: bool = False) -> Layout:
    """The layout of a table: the user's --columns, a known export, or a mapping inferred from content."""
    if columns:
        missing = [c for c in columns.values() if c not in frame.columns]
        if missing:
            raise SourceError(f"{name}: no column {missing[0]!r} (--columns); its columns are: {', '.join(map(str, frame.columns[:30]))}")
        return from_mapping(infer_mapping(frame, columns), "given")
    if page:
        return PAGE_LAYOUT
    layout = known_layout(frame.columns)
    if layout is not None:
        return layout
    mapping = infer_mapping(frame)
    if "title" not in mapping.fields and "description" not in mapping.fields:
        raise SourceError(
            f"{name}: found no column that holds job titles or descriptions among {', '.join(map(str, frame.columns[:20]))}; "
            "name them with --columns title=COLUMN,description=COLUMN"
        )
    log.info("%s: %s", name, mapping.describe())
    return from_mapping(mapping)


def normalise(frame: pd.DataFrame, raw_name: str, layout: Layout, default_source: str | None, stats: dict | None = None) -> pd.DataFrame:
    """One chunk of a table in its own layout → canonical columns, cleaned, with provenance.

    The chunk's index holds the rows' numbers in the file. A layout with clean=False (our own
    output) is trusted as it is: cleaning is a fifth of the cost of classifying it.
    """
    out = apply_layout(layout, frame, default_source)
    if out["raw_row"].isna().all():
        out["raw_row"] = np.asarray(frame.index, dtype="int64")
    if out["raw_file"].isna().all():
        out["raw_file"] = raw_name
    out = out.reset_index(drop=True)
    if layout.clean:
        jobonline = out["source"].astype("string").eq("jobonline").fillna(False).to_numpy()
        description = clean_text(out["description"], stats=stats)
        if jobonline.any():
            description[jobonline] = clean_text(out.loc[jobonline, "description"], semicolon_breaks=True)
        out["description"] = description
        for c in ("title", "company", "city", "experience", "education", "industry", "source"):
            out[c] = clean_field(out[c], stats=stats)
    else:
        for c in ("title", "company", "city", "experience", "education", "industry", "source", "description"):
            out[c] = out[c].astype("string")
    out["url"] = out["url"].astype("string")
    if not layout.clean and "truncated" in frame.columns:  # our own output says so already
        out["truncated"] = frame["truncated"].astype("string").str.lower().isin(["true", "1"]).to_numpy()
    else:
        out["truncated"] = is_truncated(out["description"])
    _fill_ids(out)
    out["raw_row"] = out["raw_row"].astype("int64")
    return out[COLUMNS + EXTRA_COLUMNS + INTERNAL_COLUMNS]


def _fill_ids(out: pd.DataFrame) -> None:
    """A stable id for rows the board gave none: from the content, or, with no description (which
    must never merge two ads), from the file and row."""
    missing = out["posting_id"].isna()
    out["_id_given"] = ~missing.to_numpy()
    if not missing.any():
        out["posting_id"] = out["posting_id"].astype("string")
        return
    described = out["description"].notna()
    content = out[["source", "company", "title", "description"]].astype("string").fillna("")
    place = out[["raw_file", "raw_row", "source", "company", "title"]].astype("string").fillna("")
    by_content = pd.util.hash_pandas_object(content, index=False).map("{:016x}".format)
    by_place = pd.util.hash_pandas_object(place, index=False).map("{:016x}".format)
    digest = by_content.where(described, by_place)
    out["posting_id"] = out["posting_id"].astype("string").fillna(out["source"].fillna("x") + "-" + digest)


def postings_from_frame(frame: pd.DataFrame, name: str = "<DataFrame>", columns: dict[str, str] | None = None, source: str | None = "x") -> pd.DataFrame:
    """A DataFrame in any layout that ingest knows → canonical postings, one per row, same order.
    `source` names the board where neither the layout nor a URL does (None: left empty)."""
    layout = detect_layout(frame, name, check_columns(columns))
    if not layout.postings:
        raise SourceError(f"{name}: a {layout.name}, not postings")
    frame = frame.reset_index(drop=True)
    frame.index = frame.index + 1
    return normalise(frame, name, layout, source)


# ----------------------------------------------------------------------------- the run


@dataclass(eq=False)  # one per file: compared by identity
class FileSummary:
    file: str
    layout: str = ""
    format: str = ""
    rows_read: int = 0
    kept: int = 0
    duplicates: int = 0
    rejected: int = 0
    note: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    merged_on: dict[str, int] = field(default_factory=dict)  # duplicates by the key that merged them
    hidden_characters: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sheets or tables with no postings in them

    def check(self) -> None:
        """Flag what a person should look at: nothing is dropped silently."""
        self.warnings = []
        if self.layout in ("inferred", "given") and "description" not in self.mapping:
            self.warnings.append("no description column found: postings have titles only (name it with --columns description=COLUMN)")
        # A board id seen again is a repost in a later export; merges on URL or content are the ones
        # that could be wrong.
        weak = self.duplicates - self.merged_on.get("posting_id", 0)
        if self.rows_read and weak > WARN_SHARE * self.rows_read:
            self.warnings.append(f"{weak / self.rows_read:.0%} of its rows were merged as duplicates of others with the same URL or the same company, title and description")
        if self.rows_read and self.rejected > WARN_SHARE * self.rows_read:
            self.warnings.append(f"{self.rejected / self.rows_read:.0%} of its rows were rejected")


@dataclass
class IngestResult:
    output: Path | None
    rejects: Path | None
    files: list[FileSummary] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def kept(self) -> int:
        return sum(f.kept for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def warnings(self) -> list[tuple[str, str]]:
        return [(f.file, w) for f in self.files for w in f.warnings]


def rejects_path(output: str | os.PathLike) -> Path:
    out = Path(output)
    return out.with_name(f"{out.stem}.rejects{out.suffix}")


def _company_industries(frame: pd.DataFrame) -> pd.DataFrame:
    def col(name: str) -> pd.Series:
        return frame[name].astype("string") if name in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")

    return pd.DataFrame({"company": clean_field(col("公司")), "industry": clean_field(col("所属行业"))}).dropna()


@dataclass
class Batch:
    """A chunk of one table: the rows as read, and (for posting layouts) the same rows normalised."""

    raw: RawFile
    summary: FileSummary
    original: pd.DataFrame
    postings: pd.DataFrame | None
    layout: Layout
    sheet: str | None = None  # a workbook's sheet, when it has more than one


def _runs(files: Iterator[RawFile]) -> Iterator[tuple[RawFile, list[RawFile], str | None]]:
    """Each file with its format, except that the one-posting files (pages) of one folder come as a
    single run: one table with a row per page, one summary line for the folder."""
    run: list[RawFile] = []
    run_kind = None
    for raw in files:
        try:
            kind = sniff_format(raw)
        except SourceError:
            kind = None  # read_tables says why, in the file's own summary
        if run and (kind != run_kind or Path(raw.name).parent != Path(run[0].name).parent):
            yield run[0], run, run_kind
            run = []
        if kind in PAGE_FORMATS:
            run.append(raw)
            run_kind = kind
        else:
            yield raw, [raw], kind
    if run:
        yield run[0], run, run_kind


def read_postings(
    sources: list[str | os.PathLike | RawFile],
    stack: ExitStack,
    summaries: list[FileSummary],
    *,
    chunk_rows: int = 50_000,
    columns: dict[str, str] | None = None,
    keep_going: bool = True,
    on_file: Callable[[RawFile], None] | None = None,
) -> Iterator[Batch]:
    """Every chunk of every table behind `sources`, in order, with a FileSummary per file (or folder of
    pages) appended to `summaries`. With keep_going, a file that cannot be read is noted in its summary
    and skipped; without it, its SourceError propagates."""
    columns = check_columns(columns)
    for raw, run, kind in _runs(iter_files(list(sources), stack)):
        if on_file:
            on_file(raw)
        page = kind in PAGE_FORMATS
        summary = FileSummary(f"{Path(raw.name).parent}/ ({len(run):,} {kind} pages)" if page else raw.name)
        summaries.append(summary)
        try:
            tables = [read_pages(run, kind, chunk_rows)] if page else read_tables(raw, chunk_rows, kind)
            for table in tables:
                yield from _table_batches(raw, table, summary, columns, page)
            if not summary.layout and summary.skipped:
                raise SourceError(f"{raw.name}: no table of it holds postings ({summary.note})")
            if not summary.layout and not summary.rejects:
                summary.note = "no rows"
        except SourceError as exc:
            summary.note = f"error: {exc}"
            summary.rejects.append(Reject(None, str(exc)))
            if not keep_going:
                raise
            log.error("%s", exc)


def _table_batches(raw: RawFile, table: Table, summary: FileSummary, columns, page: bool) -> Iterator[Batch]:
    name = f"{raw.name}#{table.sheet}" if table.sheet else raw.name
    default_source = Path(raw.name.split("!")[-1]).stem
    layout = None
    stats: dict = {}
    for chunk in table.chunks:
        if layout is None:
            try:
                layout = detect_layout(chunk, name, columns, page=page)
            except SourceError:
                if table.sheet is None:
                    raise
                # A notes sheet or a scraper's own bookkeeping table beside the postings: said, not read.
                summary.skipped.append(table.sheet)
                summary.note = "; ".join(filter(None, [summary.note, f"skipped {table.format} table {table.sheet!r}: no column of titles or descriptions"]))
                return
            summary.layout, summary.format = layout.name, table.describe()
            if not page:
                summary.note = "; ".join(filter(None, [summary.note, table.note, layout.note]))
            if not page:  # a page's record already uses the field names
                summary.mapping = {f: ", ".join(c) if isinstance(c, tuple) else c for f, c in layout.fields.items()}
            summary.confidence = dict(layout.confidence)
        summary.rows_read += len(chunk)
        postings = normalise(chunk, name, layout, default_source, stats) if layout.postings else None
        yield Batch(raw, summary, chunk, postings, layout, table.sheet)
    summary.hidden_characters += stats.get("hidden_characters", 0)
    summary.rejects += table.rejects
    summary.rows_read += len(table.rejects)
    summary.rejected += len(table.rejects)
    if layout is None and not table.rejects:
        summary.note = summary.note or "no rows"


def rejects_frame(summaries: list[FileSummary]) -> pd.DataFrame:
    """The records that could not be read and the files that could not be read at all (raw_row
    empty), each with its file and reason, in REJECT_COLUMNS."""
    rejects = [(s, r) for s in summaries for r in s.rejects]
    return pd.DataFrame(
        {
            "raw_file": pd.array([r.file or s.file for s, r in rejects], dtype="string"),
            "raw_row": pd.array([r.row for _, r in rejects], dtype="Int64"),
            "reason": pd.array([r.reason for _, r in rejects], dtype="string"),
            "title": pd.array([None] * len(rejects), dtype="string"),
            "company": pd.array([None] * len(rejects), dtype="string"),
            "description": pd.array([r.text or None for _, r in rejects], dtype="string"),
        }
    )


def reject_line(file: str, reject: Reject) -> str:
    """A reject as a person reads it: 'FILE row N: reason' (the reject's own file, a page, first)."""
    return f"{reject.file or file}{'' if reject.row is None else f' row {reject.row}'}: {reject.reason}"


def reject_lines(summaries: list[FileSummary]) -> list[str]:
    return [reject_line(s.file, r) for s in summaries for r in s.rejects]


def ingest(
    sources: list[str | os.PathLike],
    output: str | os.PathLike | None = None,
    *,
    progress: bool = False,
    chunk_rows: int = 50_000,
    columns: dict[str, str] | None = None,
    strict: bool = False,
    excel_safe: bool = False,
) -> tuple[IngestResult, pd.DataFrame | None]:
    """Read every file behind `sources` into the canonical schema.

    With `output`, kept postings go to that file (Parquet/CSV/JSON lines/Excel by suffix) and rejected
    rows to `<stem>.rejects<suffix>` beside it, and the returned frame is None; without it, the kept
    postings are returned as a DataFrame. `columns` (field → column) overrides the inferred mapping.
    Raises SourceError when nothing could be read, and, with `strict`, IngestWarning (before writing
    anything) when a file was flagged. `excel_safe` quotes formula-like cells of CSV output.
    """
    from rich.progress import Progress

    from ..outputs import TableWriter

    result = IngestResult(output=Path(output) if output else None, rejects=rejects_path(output) if output else None)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="tobroles-ingest-") as tmp:
        parts: list[Path] = []
        keys: list[pd.DataFrame] = []
        rejects: list[pd.DataFrame] = []
        industries: list[pd.DataFrame] = []
        order = 0
        bar = stack.enter_context(Progress(transient=True, disable=not progress))
        task = bar.add_task("ingest", total=None)

        def on_file(raw: RawFile) -> None:
            bar.update(task, description=f"ingest {Path(raw.name).name}", advance=1)

        for batch in read_postings(sources, stack, result.files, chunk_rows=chunk_rows, columns=columns, on_file=on_file):
            summary, rows = batch.summary, batch.postings
            if batch.layout.name == "company-table":
                industries.append(_company_industries(batch.original))
            if rows is None:
                continue
            empty = rows["title"].isna() & rows["description"].isna()
            if empty.any():
                bad = rows.loc[empty, ["raw_file", "raw_row", "title", "company", "description"]].copy()
                bad.insert(2, "reason", "no title and no description")
                rejects.append(bad)
                summary.rejected += int(empty.sum())
            rows = rows[~empty].reset_index(drop=True)
            part = Path(tmp) / f"part-{len(parts):05d}.parquet"
            rows.to_parquet(part, index=False)
            parts.append(part)
            chunk_keys = dedup_keys(rows, urls_name_postings(rows["url"]))
            chunk_keys["part"], chunk_keys["row"] = len(parts) - 1, np.arange(len(rows))
            chunk_keys["file"] = result.files.index(summary)
            chunk_keys["_order"] = np.arange(order, order + len(rows))
            keys.append(chunk_keys)
            order += len(rows)
        rejects.append(rejects_frame(result.files))
        if not any(f.rows_read for f in result.files):
            problems = "; ".join(f.note for f in result.files if f.note) or "no data files found"
            raise SourceError(f"nothing could be read from {', '.join(map(str, sources))}: {problems}")

        all_keys = pd.concat(keys, ignore_index=True) if keys else pd.DataFrame(columns=["part", "row", "file", "posting_id", "url", "content", "_seen_at", "_order"])
        all_keys["merged_on"] = merged_on(all_keys) if len(all_keys) else pd.Series(dtype="string")
        all_keys["keep"] = all_keys["merged_on"].isna()
        for file_index, group in all_keys.groupby("file"):
            summary = result.files[file_index]
            summary.kept = int(group["keep"].sum())
            summary.duplicates = int((~group["keep"]).sum())
            summary.merged_on = {k: int(n) for k, n in group["merged_on"].value_counts().items()}
        for summary in result.files:
            summary.check()
        if strict and result.warnings:
            raise IngestWarning("; ".join(f"{f}: {w}" for f, w in result.warnings) + " (--strict)", result)
        industry = (
            pd.concat(industries).drop_duplicates("company", keep="last").set_index("company")["industry"]
            if industries
            else pd.Series(dtype="string")
        )

        def kept_chunks():
            for part_index, group in all_keys.groupby("part", sort=True):
                rows = pd.read_parquet(parts[part_index]).iloc[group["row"][group["keep"]].to_numpy()]
                rows["industry"] = rows["industry"].fillna(rows["company"].map(industry).astype("string"))
                yield rows.drop(columns=INTERNAL_COLUMNS)

        reject_frame = (
            pd.concat(rejects, ignore_index=True).reindex(columns=REJECT_COLUMNS)
            if rejects
            else pd.DataFrame(columns=REJECT_COLUMNS)
        )
        if output is None:
            chunks = list(kept_chunks())
            frame = pd.concat(chunks, ignore_index=True) if chunks else _empty_postings()
            return result, frame
        with TableWriter(output, excel_safe) as writer, TableWriter(result.rejects, excel_safe) as reject_writer:
            writer.write(_empty_postings())
            for chunk in kept_chunks():
                writer.write(chunk.reset_index(drop=True))
            reject_writer.write(reject_frame.astype({"raw_row": "Int64"}))
    return result, None


def _empty_postings() -> pd.DataFrame:
    """Zero rows with the output's dtypes, so that an empty run still writes a valid, typed file."""
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in COLUMNS + EXTRA_COLUMNS})
    return frame.astype({"salary_min": float, "salary_max": float, "posted_at": "datetime64[ns]", "raw_row": "int64", "truncated": bool})


__all__ = [
    "COLUMNS", "EXTRA_COLUMNS", "FIELDS", "Batch", "FileSummary", "IngestResult", "IngestWarning", "SourceError",
    "check_columns", "detect_layout", "ingest", "normalise", "postings_from_frame", "read_postings", "reject_lines",
    "rejects_frame", "rejects_path",
]
