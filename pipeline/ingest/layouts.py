"""Layouts: how the columns of a file become the canonical fields.

A known export is a few lines of data in LAYOUTS: the header columns that identify it, which column
holds each field, and which parser reads it. A file that matches none is mapped by `columns` (content
inference), and that mapping is a Layout too, so both go through the same `apply`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from .clean import clean_field

COLUMNS = [
    "posting_id", "source", "title", "company", "city", "salary_min", "salary_max", "salary_unit",
    "experience", "education", "industry", "description", "url", "posted_at", "raw_file", "raw_row",
]
EXTRA_COLUMNS = ["truncated"]
BOARD_NAMES = {
    "51JOB": "51job", "BOSS": "boss", "LAGOU": "lagou", "LIEPIN": "liepin", "ZHILIAN": "zhilian",
    "GGFW_HRSS_GD": "ggfw", "JOBONLINE": "jobonline",
}
# A posting's board from its URL, for files that do not name it.
HOSTS = {
    "zhipin": "boss", "lagou": "lagou", "liepin": "liepin", "zhaopin": "zhilian", "51job": "51job",
    "bilibili": "bilibili", "tencent": "tencent", "meituan": "meituan", "163": "netease", "mihoyo": "mihoyo",
    "1dagong": "1dagong", "shixiseng": "shixiseng", "kanzhun": "kanzhun",
}
REQUIREMENTS_LINE = "任职要求："


# ----------------------------------------------------------------------------- field parsers


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("float64")


_SALARY = re.compile(
    r"(?P<lo>\d+(?:\.\d+)?)\s*(?:[-~～至—]\s*(?P<hi>\d+(?:\.\d+)?))?\s*(?P<mult>[kK千wW万])?\s*元?"
    r"\s*(?:/|每|一)?\s*(?P<per>天|日|小时|时|月|年)?"
)
_PER_UNIT = {"天": "day", "日": "day", "小时": "hour", "时": "hour", "月": "month", "年": "year"}
_MULT = {"k": 1e3, "K": 1e3, "千": 1e3, "w": 1e4, "W": 1e4, "万": 1e4}


def parse_salary_text(text: pd.Series) -> pd.DataFrame:
    """'25-35k·14薪', '1-1.5万/月', '150-200元/天', '6千-8千', '面议' → salary_min, salary_max (CNY), salary_unit."""
    text = text.astype("string").str.replace(r"(\d)\s*[kK千wW万]\s*(?=[-~～至—])", r"\1", regex=True)
    parts = text.str.extract(_SALARY)
    mult = parts["mult"].map(_MULT).astype(float).fillna(1.0)
    lo = _number(parts["lo"]) * mult
    hi = _number(parts["hi"]).fillna(_number(parts["lo"])) * mult
    unit = parts["per"].map(_PER_UNIT)
    # A bare 'k'/'万' range without a period is monthly pay on Chinese boards; a bare number is judged
    # by its size, as in salary_from_numbers.
    bare = unit.isna() & lo.notna()
    sized = salary_from_numbers(lo, hi)["salary_unit"]
    unit = unit.where(~bare, sized.where(parts["mult"].isna(), "month"))
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


_CITY = re.compile(r"^(?:[^·\-/\s,]*?(?:省|自治区)[\s·\-/]*)?(?P<city>[^·\-/\s,]+?(?:市|州|盟|地区)|[^·\-/\s,市]+)")


def parse_city(location: pd.Series) -> pd.Series:
    """'青岛·市北区', '上海-浦东新区', '广东省广州市从化区', '江苏省 - 苏州市', '金华市' → 青岛, 上海, 广州, 苏州, 金华."""
    city = clean_field(location).str.extract(_CITY)["city"]
    return city.str.replace(r"市$", "", regex=True).mask(lambda c: c == "")


def parse_datetime(values: pd.Series) -> pd.Series:
    """Mixed formats, '+08:00', '2015年04月13日' or epoch seconds → naive China time."""
    text = values.astype("string").str.strip()
    epoch = text.str.fullmatch(r"\d{10}(?:\d{3})?").fillna(False)
    text = text.str.replace(r"(?:[+-]\d{2}:?\d{2}|Z)$", "", regex=True)
    text = text.str.replace(r"(\d{4})年(\d{1,2})月(\d{1,2})日?", r"\1-\2-\3", regex=True)
    out = pd.to_datetime(text.where(~epoch), format="mixed", errors="coerce")
    if epoch.any():
        seconds = _number(text.where(epoch))
        seconds = seconds.where(seconds < 1e11, seconds / 1000)
        out = out.fillna(_epoch(seconds))
    return out


def _epoch(seconds: pd.Series) -> pd.Series:
    return pd.to_datetime(seconds, unit="s", utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)


def _years(values: pd.Series) -> pd.Series:
    years = _number(values)
    text = years.map(lambda y: "不限" if y == 0 else f"{y:g}年", na_action="ignore")
    return text.astype("string").fillna(values.astype("string"))


def _board(values: pd.Series) -> pd.Series:
    return values.str.strip().map(lambda b: BOARD_NAMES.get(b.upper(), b.lower()), na_action="ignore").astype("string")


def source_from_urls(urls: pd.Series) -> pd.Series:
    def host(url: str) -> str | None:
        name = urlparse(url if "//" in url else f"//{url}").hostname or ""
        return next((board for key, board in HOSTS.items() if key in name.split(".")), None)

    return urls.astype("string").map(host, na_action="ignore").astype("string")


def _with_requirements(duties: pd.Series, requirements: pd.Series) -> pd.Series:
    """Career sites split duties and requirements; the labels join them with a 任职要求： line."""
    has = requirements.notna() & requirements.str.strip().ne("")
    joined = duties.fillna("") + f"\n{REQUIREMENTS_LINE}\n" + requirements
    return joined.where(has, duties).str.strip().astype("string")


# A parser takes the values of the field's columns (in order) and returns the field's values, or a
# frame of several fields (pay gives salary_min, salary_max, salary_unit).
Parser = Callable[..., pd.Series | pd.DataFrame]


def _first(*columns: pd.Series) -> pd.Series:
    out = columns[0]
    for c in columns[1:]:
        out = out.fillna(c)
    return out


def _liepin_posted(update: pd.Series, crawl: pd.Series) -> pd.Series:
    """'3月12日' from the crawl's year: the board shows no year."""
    seen = parse_datetime(crawl)
    md = update.str.extract(r"(\d{1,2})月(\d{1,2})日")
    return pd.to_datetime(seen.dt.year.astype("string") + "-" + md[0] + "-" + md[1], format="%Y-%m-%d", errors="coerce")


PARSERS: dict[str, Parser] = {
    "text": _first,
    "number": _number,
    "city": lambda *c: parse_city(_first(*c)),
    "datetime": lambda *c: parse_datetime(_first(*c)),
    "epoch": lambda c: _epoch(_number(c)),
    "years": _years,
    "board": _board,
    "int_id": lambda c: pd.to_numeric(c, errors="coerce").astype("Int64").astype("string"),
    "url_id": lambda c: c.str.extract(r"/job/(\d+)")[0].fillna(c),
    "salary_text": parse_salary_text,
    "salary_range": lambda lo, hi: salary_from_numbers(lo, hi),
    "salary_k_month": lambda lo, hi: salary_from_numbers(_number(lo) * 1000, _number(hi) * 1000).assign(
        salary_unit=lambda f: f["salary_unit"].where(f["salary_unit"].isna(), "month")
    ),
    "with_requirements": _with_requirements,
    "liepin_posted": _liepin_posted,
}
DEFAULT_PARSER = {"city": "city", "posted_at": "datetime", "_seen_at": "datetime", "salary": "salary_text"}


@dataclass(frozen=True)
class Layout:
    """How one kind of file maps to the canonical fields.

    fields: canonical field → column, or a tuple of columns (the first non-empty wins, unless the
    field's parser takes them all). `salary` yields salary_min/max/unit. `_seen_at` (when the board
    last showed the posting) decides which repost is the latest.
    """

    name: str
    match: frozenset[str] = frozenset()
    fields: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    parsers: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    id_prefix: str = ""
    postings: bool = True
    clean: bool = True  # False for our own output, whose text is clean already
    note: str = ""
    confidence: dict[str, float] = field(default_factory=dict)


LAYOUTS = [
    Layout("tobroles", frozenset(COLUMNS), {c: c for c in COLUMNS}, {"salary_min": "number", "salary_max": "number"}, clean=False),
    Layout(
        "jobhunting",
        frozenset({"职位自编号", "发布平台", "职位", "职位描述"}),
        {
            "posting_id": "职位自编号", "source": "发布平台", "title": "职位", "company": ("公司", "招聘公司"), "city": "地区",
            "experience": "所需经验", "education": "学历", "description": "职位描述", "url": "职位访问地址",
            "posted_at": "首次发布时间", "_seen_at": "记录更新日期", "salary": ("最低薪资", "最高薪资"),
        },
        {"source": "board", "experience": "years", "salary": "salary_range"},
    ),
    Layout(
        "neitui",
        frozenset({"title", "summary", "job_category", "pay_range_from", "full_name"}),
        {
            "posting_id": "id", "title": "title", "company": ("full_name", "short_name"), "city": "addr_city",
            "experience": "exp_level", "education": "edu_level", "industry": "industry", "description": ("summary", "summary_short"),
            "posted_at": "created", "_seen_at": "updated", "salary": ("pay_range_from", "pay_range_to"),
        },
        {"posting_id": "int_id", "posted_at": "epoch", "_seen_at": "epoch", "salary": "salary_k_month"},
        source="neitui", id_prefix="neitui-",
    ),
    Layout(
        "liepin-crawl",
        frozenset({"job_url", "title", "job_description", "salary", "company_name"}),
        {
            "posting_id": "job_url", "title": "title", "company": "company_name", "city": "location", "experience": "experience",
            "education": "education", "industry": "company_industry", "description": "job_description", "url": "job_url",
            "posted_at": ("update_time", "crawl_time"), "_seen_at": "crawl_time", "salary": "salary",
        },
        {"posting_id": "url_id", "posted_at": "liepin_posted"},
        source="liepin", id_prefix="lp667-",
    ),
    # One posting per file (pages.py writes the canonical field names).
    Layout("page", fields={f: f for f in ("raw_file", "raw_row", "source", "title", "company", "city", "salary", "experience", "education", "description", "url", "posted_at")}),
    Layout("company-table", frozenset({"公司", "所属行业", "统一社会信用代码"}), postings=False, note="company table: used for industry"),
    Layout("tag-table", frozenset({"标签", "记录更新日期"}), postings=False, note="tag table: not postings"),
    # The second sheet of a `tobroles review` export: the taxonomy, for the person labelling.
    Layout("taxonomy-sheet", frozenset({"label", "id", "English", "module", "definition"}), postings=False, note="the taxonomy sheet of a review export"),
]
PAGE_LAYOUT = next(layout for layout in LAYOUTS if layout.name == "page")


def known_layout(columns) -> Layout | None:
    cols = set(columns)
    return next((layout for layout in LAYOUTS if layout.match and layout.match <= cols), None)


def from_mapping(mapping, note_prefix: str = "inferred") -> Layout:
    """A Layout from an inferred (or user-given) column mapping."""
    fields: dict[str, str | tuple[str, ...]] = dict(mapping.fields)
    parsers = {}
    if "requirements" in fields:
        fields["description"] = (fields["description"], fields.pop("requirements"))
        parsers["description"] = "with_requirements"
    if "salary_min" in fields or "salary_max" in fields:
        lo, hi = fields.pop("salary_min", None), fields.pop("salary_max", None)
        if "salary" not in fields:
            fields["salary"] = (lo or hi, hi or lo)
            parsers["salary"] = "salary_range"
    if "source" in fields:
        parsers["source"] = "board"
    return Layout(f"{note_prefix}", fields=fields, parsers=parsers, note=f"{note_prefix}: {mapping.describe()}", confidence=dict(mapping.confidence))


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[name].astype("string")


def apply(layout: Layout, frame: pd.DataFrame, default_source: str | None) -> pd.DataFrame:
    """The canonical fields of one chunk of a file in this layout (text not yet cleaned)."""
    out = pd.DataFrame(index=frame.index)
    for target, spec in layout.fields.items():
        names = spec if isinstance(spec, tuple) else (spec,)
        parser = PARSERS[layout.parsers.get(target, DEFAULT_PARSER.get(target, "text"))]
        values = parser(*(_column(frame, n) for n in names))
        if isinstance(values, pd.DataFrame):
            out = out.join(values)
        else:
            out[target] = values
    for c in COLUMNS + ["_seen_at"]:
        if c not in out.columns:
            out[c] = pd.NaT if c in ("posted_at", "_seen_at") else pd.NA
    if layout.id_prefix:
        out["posting_id"] = layout.id_prefix + out["posting_id"].astype("string")
    if layout.source:
        out["source"] = layout.source
    else:
        out["source"] = out["source"].astype("string").fillna(source_from_urls(out["url"]))
        if default_source is not None:
            out["source"] = out["source"].fillna(default_source)
    return out
