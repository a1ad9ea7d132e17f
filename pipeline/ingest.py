"""Ingestion: scraped job-ad files, as their scrapers left them, into one clean table of postings.

Each known export layout (the JobHunting extension's xlsx exports of seven boards, the 内推小王子 API
dump, a Liepin crawl) maps to the canonical schema below; an unknown layout is mapped by column-name
synonyms. Files are read one at a time into temporary Parquet parts (memory stays bounded), then
duplicates are resolved over the whole run and the survivors are streamed into the output.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import Progress

from .clean import clean_field, clean_text, is_truncated
from .outputs import TableWriter
from .readers import read_chunks
from .sources import RawFile, SourceError, iter_files

log = logging.getLogger(__name__)

COLUMNS = [
    "posting_id", "source", "title", "company", "city", "salary_min", "salary_max", "salary_unit",
    "experience", "education", "industry", "description", "url", "posted_at", "raw_file", "raw_row",
]
EXTRA_COLUMNS = ["truncated"]
REJECT_COLUMNS = ["raw_file", "raw_row", "reason", "title", "company", "description"]
BOARD_NAMES = {
    "51JOB": "51job", "BOSS": "boss", "LAGOU": "lagou", "LIEPIN": "liepin", "ZHILIAN": "zhilian",
    "GGFW_HRSS_GD": "ggfw", "JOBONLINE": "jobonline",
}


# ----------------------------------------------------------------------------- field parsers

_SALARY = re.compile(
    r"(?P<lo>\d+(?:\.\d+)?)\s*(?:[-~～至—]\s*(?P<hi>\d+(?:\.\d+)?))?\s*(?P<mult>[kK千wW万])?\s*元?"
    r"\s*(?:/|每|一)?\s*(?P<per>天|日|小时|时|月|年)?"
)
_PER_UNIT = {"天": "day", "日": "day", "小时": "hour", "时": "hour", "月": "month", "年": "year"}
_MULT = {"k": 1e3, "K": 1e3, "千": 1e3, "w": 1e4, "W": 1e4, "万": 1e4}


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("float64")


def parse_salary_text(text: pd.Series) -> pd.DataFrame:
    """'25-35k·14薪', '1-1.5万/月', '150-200元/天', '面议' → salary_min, salary_max (CNY), salary_unit."""
    parts = text.astype("string").str.extract(_SALARY)
    mult = parts["mult"].map(_MULT).astype(float).fillna(1.0)
    lo = _number(parts["lo"]) * mult
    hi = _number(parts["hi"]).fillna(_number(parts["lo"])) * mult
    unit = parts["per"].map(_PER_UNIT)
    # A bare 'k'/'万' range without a period is monthly pay on Chinese boards; '万' with '年' is yearly.
    unit = unit.where(unit.notna() | lo.isna(), "month")
    return _salary_frame(lo, hi, unit)


def salary_from_numbers(lo: pd.Series, hi: pd.Series) -> pd.DataFrame:
    """Numeric CNY ranges whose period the export leaves implicit: interns' day rates (150-250) and
    yearly packages (500,000+) must not be mixed with monthly pay."""
    lo = _number(lo).where(lambda v: v > 0)
    hi = _number(hi).where(lambda v: v > 0).fillna(lo)
    lo = lo.fillna(hi)
    unit = pd.Series(np.where(hi <= 2000, "day", np.where(lo >= 100_000, "year", "month")), index=lo.index)
    return _salary_frame(lo, hi, unit.where(lo.notna()))


def _salary_frame(lo: pd.Series, hi: pd.Series, unit: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"salary_min": lo.astype(float), "salary_max": hi.astype(float), "salary_unit": unit.astype("string")})


_CITY = re.compile(r"^(?:[^·\-/\s,]*?(?:省|自治区))?(?P<city>[^·\-/\s,]+?(?:市|州|盟|地区)|[^·\-/\s,市]+)")


def parse_city(location: pd.Series) -> pd.Series:
    """'青岛·市北区', '上海-浦东新区', '广东省广州市从化区', '金华市' → 青岛, 上海, 广州, 金华."""
    city = clean_field(location).str.extract(_CITY)["city"]
    return city.str.replace(r"市$", "", regex=True).mask(lambda c: c == "")


def parse_datetime(values: pd.Series) -> pd.Series:
    """Mixed formats with or without '+08:00' → naive China time."""
    text = values.astype("string").str.strip().str.replace(r"(?:[+-]\d{2}:?\d{2}|Z)$", "", regex=True)
    return pd.to_datetime(text, format="mixed", errors="coerce")


def _years(values: pd.Series) -> pd.Series:
    years = _number(values)
    text = years.map(lambda y: "不限" if y == 0 else f"{y:g}年", na_action="ignore")
    return text.astype("string").fillna(values.astype("string"))


# ----------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Layout:
    name: str
    required: frozenset[str]
    mapper: Callable[[pd.DataFrame, RawFile], pd.DataFrame] | None  # None: not postings
    note: str = ""
    clean: bool = True  # False for our own output, whose text is clean already


def _col(frame: pd.DataFrame, name: str | None) -> pd.Series:
    if name is None or name not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[name].astype("string")


def _jobhunting(frame: pd.DataFrame, raw: RawFile) -> pd.DataFrame:
    board = _col(frame, "发布平台").str.upper()
    out = pd.DataFrame(
        {
            "posting_id": _col(frame, "职位自编号"),
            "source": board.map(lambda b: BOARD_NAMES.get(b, b.lower()), na_action="ignore"),
            "title": _col(frame, "职位"),
            "company": _col(frame, "公司").fillna(_col(frame, "招聘公司")),
            "city": parse_city(_col(frame, "地区")),
            "experience": _years(_col(frame, "所需经验")),
            "education": _col(frame, "学历"),
            "industry": pd.NA,
            "description": _col(frame, "职位描述"),
            "url": _col(frame, "职位访问地址"),
            "posted_at": parse_datetime(_col(frame, "首次发布时间")),
            "_seen_at": parse_datetime(_col(frame, "记录更新日期")),
        }
    )
    return out.join(salary_from_numbers(_col(frame, "最低薪资"), _col(frame, "最高薪资")))


def _neitui(frame: pd.DataFrame, raw: RawFile) -> pd.DataFrame:
    ids = pd.to_numeric(_col(frame, "id"), errors="coerce").astype("Int64").astype("string")
    epoch = lambda c: pd.to_datetime(_number(_col(frame, c)), unit="s", utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)  # noqa: E731
    out = pd.DataFrame(
        {
            "posting_id": "neitui-" + ids,
            "source": "neitui",
            "title": _col(frame, "title"),
            "company": _col(frame, "full_name").fillna(_col(frame, "short_name")),
            "city": parse_city(_col(frame, "addr_city")),
            "experience": _col(frame, "exp_level"),
            "education": _col(frame, "edu_level"),
            "industry": _col(frame, "industry"),
            "description": _col(frame, "summary").fillna(_col(frame, "summary_short")),
            "url": pd.NA,
            "posted_at": epoch("created"),
            "_seen_at": epoch("updated"),
        }
    )
    pay = salary_from_numbers(
        _number(_col(frame, "pay_range_from")) * 1000,
        _number(_col(frame, "pay_range_to")) * 1000,
    )
    pay["salary_unit"] = pay["salary_unit"].where(pay["salary_unit"].isna(), "month")  # the API's k/month
    return out.join(pay)


def _liepin_crawl(frame: pd.DataFrame, raw: RawFile) -> pd.DataFrame:
    url = _col(frame, "job_url")
    crawl = parse_datetime(_col(frame, "crawl_time"))
    md = _col(frame, "update_time").str.extract(r"(\d{1,2})月(\d{1,2})日")
    posted = pd.to_datetime(
        crawl.dt.year.astype("string") + "-" + md[0] + "-" + md[1], format="%Y-%m-%d", errors="coerce"
    )
    out = pd.DataFrame(
        {
            "posting_id": "lp667-" + url.str.extract(r"/job/(\d+)")[0].fillna(url),
            "source": "liepin",
            "title": _col(frame, "title"),
            "company": _col(frame, "company_name"),
            "city": parse_city(_col(frame, "location")),
            "experience": _col(frame, "experience"),
            "education": _col(frame, "education"),
            "industry": _col(frame, "company_industry"),
            "description": _col(frame, "job_description"),
            "url": url,
            "posted_at": posted,
            "_seen_at": crawl,
        }
    )
    return out.join(parse_salary_text(_col(frame, "salary")))


def _canonical(frame: pd.DataFrame, raw: RawFile) -> pd.DataFrame:
    """Our own output read back in (e.g. a normalised corpus): keep its values and provenance."""
    out = frame[[c for c in COLUMNS if c in frame.columns]].copy()
    if not pd.api.types.is_datetime64_any_dtype(out["posted_at"]):  # Parquet keeps the type; CSV does not
        out["posted_at"] = parse_datetime(out["posted_at"])
    for c in ("salary_min", "salary_max"):
        out[c] = pd.to_numeric(out[c], errors="coerce")
    if "truncated" in frame.columns:
        out["truncated"] = frame["truncated"].astype("string").str.lower().isin(["true", "1"]).to_numpy()
    out["_seen_at"] = pd.NaT
    return out


SYNONYMS: dict[str, list[str]] = {
    "title": ["职位", "岗位", "职位名称", "岗位名称", "职务", "招聘职位", "positionname", "jobtitle", "jobname", "title", "position", "name"],
    "description": ["职位描述", "岗位职责", "工作职责", "岗位描述", "职位详情", "工作内容", "职位要求", "jobdescription", "description", "summary", "jobdesc", "desc", "content", "detail"],
    "company": ["公司", "公司名称", "企业名称", "招聘公司", "company", "companyname", "companyfullname", "employer"],
    "city": ["城市", "工作城市", "工作地点", "地区", "city", "location", "workplace", "area"],
    "salary": ["薪资", "薪水", "月薪", "薪酬", "工资", "salary", "pay", "wage"],
    "posting_id": ["职位编号", "职位自编号", "postingid", "jobid", "positionid", "id", "key"],
    "source": ["来源", "发布平台", "平台", "source", "platform", "board", "site"],
    "url": ["链接", "职位链接", "url", "link", "joburl", "href"],
    "posted_at": ["发布时间", "发布日期", "postedat", "publishtime", "createtime", "posttime", "date"],
    "experience": ["经验", "工作经验", "经验要求", "所需经验", "experience", "workyear"],
    "education": ["学历", "学历要求", "education", "degree"],
    "industry": ["行业", "所属行业", "industry"],
}


def _norm_name(name: str) -> str:
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def synonym_mapping(columns: Iterable[str]) -> dict[str, str]:
    """Canonical field → the input column that holds it, by the first synonym present."""
    by_norm = {}
    for c in columns:
        by_norm.setdefault(_norm_name(c), c)
    mapping = {}
    for canonical, names in SYNONYMS.items():
        for n in names:
            if n in by_norm and by_norm[n] not in mapping.values():
                mapping[canonical] = by_norm[n]
                break
    return mapping


def _by_synonyms(frame: pd.DataFrame, raw: RawFile, mapping: dict[str, str]) -> pd.DataFrame:
    stem = Path(raw.name.split("!")[-1]).stem
    source = _col(frame, mapping.get("source")).str.strip()
    out = pd.DataFrame(
        {
            "posting_id": _col(frame, mapping.get("posting_id")),
            "source": source.map(lambda b: BOARD_NAMES.get(b.upper(), b.lower()), na_action="ignore").astype("string").fillna(stem),
            "title": _col(frame, mapping.get("title")),
            "company": _col(frame, mapping.get("company")),
            "city": parse_city(_col(frame, mapping.get("city"))),
            "experience": _col(frame, mapping.get("experience")),
            "education": _col(frame, mapping.get("education")),
            "industry": _col(frame, mapping.get("industry")),
            "description": _col(frame, mapping.get("description")),
            "url": _col(frame, mapping.get("url")),
            "posted_at": parse_datetime(_col(frame, mapping.get("posted_at"))),
            "_seen_at": pd.NaT,
        }
    )
    return out.join(parse_salary_text(_col(frame, mapping.get("salary"))))


LAYOUTS = [
    Layout("tobroles", frozenset(COLUMNS), _canonical, clean=False),
    Layout("jobhunting", frozenset({"职位自编号", "发布平台", "职位", "职位描述"}), _jobhunting),
    Layout("neitui", frozenset({"title", "summary", "job_category", "pay_range_from", "full_name"}), _neitui),
    Layout("liepin-crawl", frozenset({"job_url", "title", "job_description", "salary", "company_name"}), _liepin_crawl),
    Layout("company-table", frozenset({"公司", "所属行业", "统一社会信用代码"}), None, "company table: used for industry"),
    Layout("tag-table", frozenset({"标签", "记录更新日期"}), None, "tag table: not postings"),
]


def detect_layout(columns: Iterable[str], raw: RawFile, text_columns: dict[str, str] | None = None) -> Layout:
    """The layout of a file from its header: a known export, or a mapping by column names.

    `text_columns` ({"title": ..., "description": ...}) names the text columns of an unknown layout
    and takes precedence over detection.
    """
    cols = set(columns)
    if text_columns:
        missing = [c for c in text_columns.values() if c not in cols]
        if missing:
            raise SourceError(f"{raw.name}: no column {missing[0]!r} (columns: {sorted(cols)[:20]})")
    else:
        for layout in LAYOUTS:
            if layout.required <= cols:
                return layout
    mapping = synonym_mapping(cols - set((text_columns or {}).values()))
    mapping.update(text_columns or {})
    if "title" not in mapping and "description" not in mapping:
        raise SourceError(
            f"{raw.name}: no title or description column among {sorted(cols)[:20]}; "
            "name them with the usual headers (职位/title, 职位描述/description)"
        )
    log.info("%s: unknown layout, mapped by column names: %s", raw.name, mapping)
    note = "mapped by names: " + ", ".join(f"{k}←{v}" for k, v in mapping.items())
    return Layout("by-names", frozenset(mapping.values()), lambda f, r: _by_synonyms(f, r, mapping), note)


# ----------------------------------------------------------------------------- normalisation


def normalise(frame: pd.DataFrame, raw: RawFile, layout: Layout, first_row: int) -> pd.DataFrame:
    """One chunk of a file in its own layout → canonical columns, cleaned, with provenance.

    A layout with clean=False (our own output) is trusted as it is: cleaning is a fifth of the cost
    of classifying it.
    """
    clean = layout.clean
    out = layout.mapper(frame, raw).reset_index(drop=True)
    if "raw_row" not in out.columns or out["raw_row"].isna().all():
        # raw_row: 1-based data row within the file (or sheet), header excluded.
        out["raw_row"] = np.arange(first_row, first_row + len(out), dtype="int64")
    if "raw_file" not in out.columns or out["raw_file"].isna().all():
        out["raw_file"] = raw.name
    if clean:
        jobonline = out["source"].astype("string").eq("jobonline").fillna(False).to_numpy()
        description = clean_text(out["description"])
        if jobonline.any():
            description[jobonline] = clean_text(out.loc[jobonline, "description"], semicolon_breaks=True)
        out["description"] = description
        for c in ("title", "company", "city", "experience", "education", "industry", "source"):
            out[c] = clean_field(out[c])
    else:
        for c in ("title", "company", "city", "experience", "education", "industry", "source", "description"):
            out[c] = out[c].astype("string")
    out["url"] = out["url"].astype("string")
    if clean or "truncated" not in out.columns:
        out["truncated"] = is_truncated(out["description"])
    missing_id = out["posting_id"].isna()
    if missing_id.any():
        # No board id: a stable id from the content, so that re-ingesting gives the same id.
        content = out.loc[missing_id, ["source", "company", "title", "description"]].astype("string").fillna("")
        digest = pd.util.hash_pandas_object(content, index=False).map("{:016x}".format)
        out.loc[missing_id, "posting_id"] = out.loc[missing_id, "source"].fillna("x") + "-" + digest
    out["posting_id"] = out["posting_id"].astype("string")
    return out[COLUMNS + EXTRA_COLUMNS + ["_seen_at"]]


def postings_from_frame(frame: pd.DataFrame, name: str = "<DataFrame>", text_columns: dict[str, str] | None = None) -> pd.DataFrame:
    """A DataFrame in any layout that ingest knows → canonical postings, one per row, same order."""
    raw = RawFile(name=name, suffix="")
    layout = detect_layout(frame.columns, raw, text_columns)
    if layout.mapper is None:
        raise SourceError(f"{name}: a {layout.name}, not postings")
    return normalise(frame.reset_index(drop=True), raw, layout, 1)


# ----------------------------------------------------------------------------- the run


@dataclass
class FileSummary:
    file: str
    layout: str = ""
    rows_read: int = 0
    kept: int = 0
    duplicates: int = 0
    rejected: int = 0
    note: str = ""


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


def rejects_path(output: str | os.PathLike) -> Path:
    out = Path(output)
    return out.with_name(f"{out.stem}.rejects{out.suffix}")


def _company_industries(frame: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame({"company": clean_field(_col(frame, "公司")), "industry": clean_field(_col(frame, "所属行业"))})
    return table.dropna()


def _mark_duplicates(keys: pd.DataFrame) -> pd.Series:
    """True for rows kept: the latest of each board id, then the latest of each company+title+description."""
    order = keys.sort_values(["_seen_at", "_order"], na_position="first").index
    ranked = keys.loc[order]
    keep = ~ranked.duplicated("posting_id", keep="last")
    survivors = ranked[keep]
    keep.loc[survivors.index] = ~survivors.duplicated("content", keep="last")
    return keep.reindex(keys.index)


@dataclass
class Batch:
    """A chunk of one file: the rows as read, and (for posting layouts) the same rows normalised."""

    raw: RawFile
    summary: FileSummary
    original: pd.DataFrame
    postings: pd.DataFrame | None


def read_postings(
    sources: list[str | os.PathLike],
    stack: ExitStack,
    summaries: list[FileSummary],
    *,
    chunk_rows: int = 50_000,
    text_columns: dict[str, str] | None = None,
    keep_going: bool = True,
    on_file: Callable[[RawFile], None] | None = None,
) -> Iterator[Batch]:
    """Every chunk of every file behind `sources`, in order, with a FileSummary per file appended
    to `summaries`. With keep_going, a file that cannot be read is noted in its summary and skipped;
    without it, its SourceError propagates."""
    for raw in iter_files(list(sources), stack):
        if on_file:
            on_file(raw)
        summary = FileSummary(raw.name)
        summaries.append(summary)
        try:
            layout = None
            next_row = 1
            for chunk in read_chunks(raw, chunk_rows):
                if layout is None:
                    layout = detect_layout(chunk.columns, raw, text_columns)
                    summary.layout, summary.note = layout.name, layout.note
                summary.rows_read += len(chunk)
                chunk = chunk.reset_index(drop=True)
                postings = normalise(chunk, raw, layout, next_row) if layout.mapper else None
                next_row += len(chunk)
                yield Batch(raw, summary, chunk, postings)
            if not summary.layout:
                summary.note = "no rows"
        except SourceError as exc:
            summary.note = f"error: {exc}"
            if not keep_going:
                raise
            log.error("%s", exc)


def ingest(
    sources: list[str | os.PathLike],
    output: str | os.PathLike | None = None,
    *,
    progress: bool = False,
    chunk_rows: int = 50_000,
) -> tuple[IngestResult, pd.DataFrame | None]:
    """Read every file behind `sources` into the canonical schema.

    With `output`, kept postings go to that file (Parquet/CSV/JSON lines/Excel by suffix) and rejected
    rows to `<stem>.rejects<suffix>` beside it, and the returned frame is None; without it, the kept
    postings are returned as a DataFrame. Raises SourceError only when nothing could be read.
    """
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

        for batch in read_postings(sources, stack, result.files, chunk_rows=chunk_rows, on_file=on_file):
            summary, rows = batch.summary, batch.postings
            if summary.layout == "company-table":
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
            content = rows[["company", "title", "description"]].fillna("")
            keys.append(
                pd.DataFrame(
                    {
                        "part": len(parts) - 1,
                        "row": np.arange(len(rows)),
                        "file": len(result.files) - 1,
                        "posting_id": rows["posting_id"].to_numpy(),
                        "content": pd.util.hash_pandas_object(content, index=False).to_numpy(),
                        "_seen_at": rows["_seen_at"].to_numpy(),
                        "_order": np.arange(order, order + len(rows)),
                    }
                )
            )
            order += len(rows)
        for summary in result.files:
            if summary.note.startswith("error: "):
                rejects.append(pd.DataFrame([{"raw_file": summary.file, "raw_row": pd.NA, "reason": summary.note[7:]}]))
        if not any(f.rows_read for f in result.files):
            problems = "; ".join(f.note for f in result.files if f.note) or "no data files found"
            raise SourceError(f"nothing could be read from {', '.join(map(str, sources))}: {problems}")

        all_keys = pd.concat(keys, ignore_index=True) if keys else pd.DataFrame(columns=["part", "row", "file", "posting_id", "content", "_seen_at", "_order"])
        all_keys["keep"] = _mark_duplicates(all_keys) if len(all_keys) else pd.Series(dtype=bool)
        for file_index, group in all_keys.groupby("file"):
            result.files[file_index].kept = int(group["keep"].sum())
            result.files[file_index].duplicates = int((~group["keep"]).sum())
        industry = (
            pd.concat(industries).drop_duplicates("company", keep="last").set_index("company")["industry"]
            if industries
            else pd.Series(dtype="string")
        )

        def kept_chunks():
            for part_index, group in all_keys.groupby("part", sort=True):
                rows = pd.read_parquet(parts[part_index]).iloc[group["row"][group["keep"]].to_numpy()]
                rows["industry"] = rows["industry"].fillna(rows["company"].map(industry).astype("string"))
                yield rows.drop(columns="_seen_at")

        reject_frame = (
            pd.concat(rejects, ignore_index=True).reindex(columns=REJECT_COLUMNS)
            if rejects
            else pd.DataFrame(columns=REJECT_COLUMNS)
        )
        if output is None:
            chunks = list(kept_chunks())
            frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=COLUMNS + EXTRA_COLUMNS)
            return result, frame
        with TableWriter(output) as writer, TableWriter(result.rejects) as reject_writer:
            writer.write(_empty_postings())
            for chunk in kept_chunks():
                writer.write(chunk.reset_index(drop=True))
            reject_writer.write(reject_frame.astype({"raw_row": "Int64"}))
    return result, None


def _empty_postings() -> pd.DataFrame:
    """Zero rows with the output's dtypes, so that an empty run still writes a valid, typed file."""
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in COLUMNS + EXTRA_COLUMNS})
    return frame.astype({"salary_min": float, "salary_max": float, "posted_at": "datetime64[ns]", "raw_row": "int64", "truncated": bool})
