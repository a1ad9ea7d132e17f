"""The role-distribution report: the study's summary table rebuilt from classified postings, and more.

`build_report` computes every table from the classified rows (nothing is hand-entered); the writers
render the same tables as self-contained HTML (inline SVG charts, no network), Markdown, Excel (one
sheet per table) or JSON.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .outputs import SheetStyle, atomic_path, fitting_widths, write_xlsx
from .classify import ADDED_COLUMNS
from .ingest import COLUMNS, postings_from_frame, reject_line
from .ingest.layouts import source_from_urls
from .ingest.formats import read_chunks
from .ingest.sources import SourceError, iter_files
from .estimates import DEFAULT_ESTIMATOR, ESTIMATORS, Estimates, stable_counts
from .taxonomy import OTHER, taxonomy

REPORT_SUFFIXES = {".html", ".md", ".xlsx", ".json"}
# Everything in the report is inline and static: no script runs and nothing is fetched, even if a
# future escaping bug let a scraped title through as markup.
CSP = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
    "img-src data:; script-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'\">"
)
NEEDED = [
    "role", "status", "confidence", "model", "title", "company", "source", "city", "salary_min", "salary_max", "salary_unit",
    "experience", "education", "description", "url", "alternatives", "raw_file", "business_type", "business_type_confidence",
]
TOP_CITIES = 5
TYPICAL_TITLES = 3
CONFIDENT = 0.8  # typical titles are drawn from labels at least this confident
NO_DATA = "no data"


class ReportError(ValueError):
    pass


@dataclass
class Report:
    """Every table of the report, as DataFrames, plus the facts of the data-quality section."""

    summary: pd.DataFrame
    other_count: int
    total: int
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)  # None: no data for it
    quality: dict = field(default_factory=dict)
    confidence_histogram: pd.DataFrame | None = None


def load_classified(sources: list[str | os.PathLike], columns: list[str] = NEEDED) -> pd.DataFrame:
    """`columns` (default: those the report needs) of classified files (any format `ingest` reads).

    A file that `classify` wrote with its input's own columns (岗位名称, 公司 ...) is mapped to the
    canonical fields as ingest maps that input, so the report reads the same titles and companies.
    Records that cannot be read (a row with too many fields, say) are not counted, and are listed in
    `frame.attrs["unreadable"]` ('FILE row N: reason'), which `build_report` puts in the data quality."""
    frames = []
    rejects = []
    with ExitStack() as stack:
        for raw in iter_files(list(sources), stack):
            for chunk in read_chunks(raw, rejects):
                if "role" not in chunk.columns:
                    raise ReportError(f"{raw.name}: no `role` column; run `tobroles classify` on it first")
                if not set(COLUMNS) <= set(chunk.columns):
                    chunk = _canonical(chunk, raw.name)
                frames.append(chunk[[c for c in columns if c in chunk.columns]])
    if not frames:
        raise SourceError(f"no data files in {', '.join(map(str, sources))}")
    frame = pd.concat(frames, ignore_index=True)
    for c in ("salary_min", "salary_max", "confidence"):
        if c in frame.columns:
            frame[c] = pd.to_numeric(frame[c], errors="coerce")
    frame.attrs["unreadable"] = [reject_line("", r) for r in rejects]
    return frame


def _canonical(chunk: pd.DataFrame, name: str) -> pd.DataFrame:
    """A classified chunk in its input's own layout → canonical posting fields + the role columns."""
    added = [c for c in chunk.columns if c in ADDED_COLUMNS]
    # classify kept a board's own `status` as `input_status`: give the layout back its own name
    own = chunk.drop(columns=added).rename(columns={f"input_{c}": c for c in added})
    # The board only where the layout or a URL names it: the classified file's name is not a board.
    postings = postings_from_frame(own, name, source=None).drop(columns=[c for c in added if c in COLUMNS])
    return pd.concat([postings.reset_index(drop=True), chunk[added].reset_index(drop=True)], axis=1)


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def summary_table(frame: pd.DataFrame, estimates: Estimates | None = None) -> tuple[pd.DataFrame, int]:
    """The study's table: modules in order, their roles with counts, shares and typical titles; with
    `estimates`, each role's and module's estimated count with its interval, and the estimated share."""
    t = taxonomy()
    roles = frame["role"].dropna()
    counts = roles.value_counts()
    to_b = int(counts.drop(OTHER, errors="ignore").sum())
    # Typical titles come from confident labels only: one mislabelled ad must not stand for a role.
    confident = frame["confidence"] >= CONFIDENT if "confidence" in frame.columns else pd.Series(True, index=frame.index)
    by_role = estimates.table.set_index("role") if estimates else None
    by_module = estimates.modules.set_index("module") if estimates else None
    est_to_b = estimates.to_b[0] if estimates else 0.0

    def estimated(row: dict, source) -> dict:
        if source is None:
            return row
        est, low, high = (float(source[k]) for k in ("estimate", "estimate_low", "estimate_high"))
        return {**row, "estimate": round(est), "estimate_low": round(low), "estimate_high": round(high), "share_of_to_b_estimated": _share(est, est_to_b)}

    rows = []
    for module in t.modules:
        members = t.roles_in(module.id)
        module_total = int(sum(counts.get(r.id, 0) for r in members))
        for role in members:
            n = int(counts.get(role.id, 0))
            titles = frame.loc[(frame["role"] == role.id) & confident, "title"].dropna() if "title" in frame.columns else pd.Series(dtype=str)
            row = {
                "module": module.id, "module_name": module.zh, "role": role.id, "role_name": role.zh,
                "postings": n, "share_of_to_b": _share(n, to_b), "share_in_module": _share(n, module_total),
            }
            rows.append({**estimated(row, None if by_role is None else by_role.loc[role.id]), "typical_titles": typical_titles(titles)})
        row = {
            "module": module.id, "module_name": module.zh, "role": "subtotal", "role_name": f"{module.zh} 小计",
            "postings": module_total, "share_of_to_b": _share(module_total, to_b), "share_in_module": 1.0 if module_total else 0.0,
        }
        rows.append({**estimated(row, None if by_module is None else by_module.loc[module.id]), "typical_titles": ""})
    row = {"module": "", "module_name": "", "role": "total", "role_name": "to-B 运营合计", "postings": to_b, "share_of_to_b": 1.0 if to_b else 0.0, "share_in_module": np.nan}
    total = None if estimates is None else dict(zip(("estimate", "estimate_low", "estimate_high"), estimates.to_b))
    rows.append({**estimated(row, total), "typical_titles": ""})
    return pd.DataFrame(rows), int(counts.get(OTHER, 0))


DUTY_TERMS = 6
EXAMPLES = 2
_DUTY_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9+#]+$")


def duty_terms(frame: pd.DataFrame, backend: str = "rjieba") -> dict[str, str]:
    """Per role, the duty words and word pairs most characteristic of it against the other roles:
    each role's duties sections (confident labels only) as one document, TF-IDF over the roles."""
    from .sections import split_sections
    from .tokenize import get_tokenizer, stopwords

    if "description" not in frame.columns:
        return {}
    data = _to_b(frame)
    if "confidence" in data.columns:
        data = data[data["confidence"] >= CONFIDENT]
    cut, stop = get_tokenizer(backend).cut, set(stopwords())
    counts: dict[str, Counter] = {}
    for role, descriptions in data.groupby("role")["description"]:
        bag: Counter = Counter()
        for text in descriptions.dropna().unique():
            words = [w for w in cut(split_sections(text)[0].lower()) if _DUTY_WORD.match(w) and w not in stop]
            # Each ad counts a term once: a term repeated in one ad says nothing about the role.
            bag.update(set(words) | {f"{a}{b}" for a, b in zip(words, words[1:])})
        counts[role] = bag
    if len(counts) < 2:
        return {}
    documents = Counter(term for bag in counts.values() for term in bag)
    terms = {}
    for role, bag in counts.items():
        ads = max(bag.most_common(1)[0][1], 1) if bag else 1
        scored = {term: (n / ads) * np.log(len(counts) / documents[term]) for term, n in bag.items() if n >= 2}
        best = sorted(scored, key=scored.get, reverse=True)
        chosen: list[str] = []
        for term in best:  # a word pair already stands for its words
            if not any(term in c or c in term for c in chosen):
                chosen.append(term)
            if len(chosen) == DUTY_TERMS:
                break
        terms[role] = "、".join(chosen)
    return terms


def examples_by_role(frame: pd.DataFrame) -> pd.DataFrame | None:
    """Two of the most confidently labelled postings of each role, one per distinct title."""
    data = _to_b(frame)
    if data.empty or "confidence" not in data.columns:
        return None
    data = data.sort_values("confidence", ascending=False).drop_duplicates(["role", "title"])
    picked = data.groupby("role", sort=False).head(EXAMPLES)
    columns = [c for c in ("role", "title", "company", "source", "url", "confidence") if c in picked.columns]
    picked = picked[columns].copy()
    picked.insert(1, "role_name", picked["role"].map(lambda r: taxonomy().role(r).zh))
    order = {r: i for i, r in enumerate(taxonomy().role_ids)}
    return picked.sort_values("role", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def board_names(frame: pd.DataFrame) -> pd.Series:
    """The board of each posting as ingest named it (from the layout, the board column or the URL's
    host), except where ingest could only fall back on the file's name: those read `file: NAME`, so
    that a reader never takes a file for a board."""
    source = frame["source"].astype("string")
    if "raw_file" not in frame.columns:
        return source
    stem = frame["raw_file"].astype("string").str.replace(r"#.*$", "", regex=True).str.extract(r"([^/\\!]+?)(?:\.[^./\\]+)?$")[0]
    from_url = source_from_urls(frame["url"]) if "url" in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")
    fallback = (source == stem).fillna(False) & from_url.isna()
    return source.where(~fallback, "file: " + stem)


# A title that reads like a code (Software_Test_Engineer_1015_A01_S) says nothing about a role.
_CODE_TITLE = re.compile(r"_|\d{3,}")


def typical_titles(titles: pd.Series) -> str:
    """The most frequent titles of a role's confident postings, codes left out."""
    titles = titles[~titles.str.contains(_CODE_TITLE, na=True)]
    return "、".join(titles.value_counts().index[:TYPICAL_TITLES])


def _to_b(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["role"].notna() & (frame["role"] != OTHER)]


def _role_order(index) -> list[str]:
    return [r for r in taxonomy().role_ids if r in set(index)]


UNKNOWN = "未注明"
EXPERIENCE_BUCKETS = ["不限/应届", "1年以下", "1-3年", "3-5年", "5-10年", "10年以上", UNKNOWN]
EDUCATION_BUCKETS = ["不限", "中专/高中", "大专", "本科", "硕士", "博士", UNKNOWN]
_NO_EXPERIENCE = re.compile(r"不限|应届|实习|在校|毕业生|无经验|无需|提前批")
_YEARS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-\s*\d+(?:\.\d+)?\s*)?年(以下|以内)?")
_DEGREES = [("博士", "博士"), ("硕士|研究生", "硕士"), ("本科", "本科"), ("大专|专科", "大专"), ("中专|中技|高中|技工|职高|初中|小学|中等", "中专/高中"), ("不限|无|未提及", "不限")]


def _bucketed(values: pd.Series, bucket) -> pd.Series:
    """`bucket` of each distinct value (boards write a few dozen), missing values UNKNOWN."""
    text = values.astype("string")
    return text.map({v: bucket(v) for v in text.dropna().unique()}).fillna(UNKNOWN).astype("string")


def _experience(text: str) -> str:
    found = _YEARS.search(text)
    if found:
        years = float(found.group(1))
        if found.group(2) or years < 1:
            return "1年以下"
        return "1-3年" if years < 3 else "3-5年" if years < 5 else "5-10年" if years < 10 else "10年以上"
    return "不限/应届" if _NO_EXPERIENCE.search(text) else UNKNOWN


def experience_bucket(values: pd.Series) -> pd.Series:
    """'3年', '1-3年', '经验不限', '应届毕业生', '1年以下' → one of EXPERIENCE_BUCKETS (by the lower bound)."""
    return _bucketed(values, _experience)


def education_bucket(values: pd.Series) -> pd.Series:
    """'统招本科', '大学专科', '中技/中专', '学历不限', '1-3年大专' → one of EDUCATION_BUCKETS."""
    return _bucketed(values, lambda text: next((name for pattern, name in _DEGREES if re.search(pattern, text)), UNKNOWN))


def grouped_by(frame: pd.DataFrame, column: str, bucket, order: list[str]) -> pd.DataFrame | None:
    """role × the buckets of `column` (None when the column has no data)."""
    if column not in frame.columns or _to_b(frame)[column].dropna().empty:
        return None
    return role_by(frame.assign(**{column: bucket(frame[column])}), column, order)


# Advertised pay outside these bounds (CNY) is a scraping or typing error, not a wage.
PAY_BOUNDS = {"month": (1_000, 300_000), "day": (50, 5_000), "year": (10_000, 5_000_000), "hour": (10, 1_000)}


def checked_pay(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Pay ranges made plausible: a minimum above the maximum is swapped; a range outside PAY_BOUNDS
    for its unit is dropped (both counted, for the data-quality section)."""
    if not {"salary_min", "salary_max", "salary_unit"} <= set(frame.columns):
        return frame, {}
    lo, hi = frame["salary_min"], frame["salary_max"]
    swap = (lo > hi).fillna(False)
    frame = frame.assign(salary_min=lo.where(~swap, hi), salary_max=hi.where(~swap, lo))
    low = frame["salary_unit"].map({u: b[0] for u, b in PAY_BOUNDS.items()}).astype(float)
    high = frame["salary_unit"].map({u: b[1] for u, b in PAY_BOUNDS.items()}).astype(float)
    mid = (frame["salary_min"] + frame["salary_max"].fillna(frame["salary_min"])) / 2
    implausible = (mid.notna() & ((mid < low) | (mid > high))).fillna(False)
    frame = frame.assign(salary_min=frame["salary_min"].mask(implausible), salary_max=frame["salary_max"].mask(implausible))
    return frame, {"pay_ranges_swapped": int(swap.sum()), "pay_ranges_dropped_as_implausible": int(implausible.sum())}


def role_by(frame: pd.DataFrame, column: str, order: list[str] | None = None) -> pd.DataFrame | None:
    """Counts of to-B postings: role × values of `column` (None when the column has no data), the
    columns in `order` or by frequency."""
    data = _to_b(frame)
    if column not in data.columns or data[column].dropna().empty:
        return None
    table = pd.crosstab(data["role"], data[column].fillna("(unknown)"))
    table = table.loc[_role_order(table.index)]
    if order:
        table = table[[c for c in order if c in table.columns]]
    else:
        table = table[table.sum().sort_values(ascending=False).index]
    table.index.name, table.columns.name = "role", None
    return table.reset_index()


def top_cities(frame: pd.DataFrame) -> pd.DataFrame | None:
    data = _to_b(frame)
    if "city" not in data.columns or data["city"].dropna().empty:
        return None
    t = taxonomy()
    data = data.assign(module=data["role"].map(t.module_of))
    rows = []
    for module in t.modules:
        cities = data.loc[data["module"] == module.id, "city"].dropna().value_counts()
        for rank, (city, n) in enumerate(cities.head(TOP_CITIES).items(), start=1):
            rows.append({"module": module.id, "module_name": module.zh, "rank": rank, "city": city, "postings": int(n), "share_in_module": _share(int(n), int(cities.sum()))})
    return pd.DataFrame(rows) if rows else None


def salary_by_role(frame: pd.DataFrame, unit: str) -> pd.DataFrame | None:
    """Pay per role in one unit (month, day or year; never mixed): quartiles of the range midpoints."""
    data = _to_b(frame)
    if not {"salary_min", "salary_max", "salary_unit"} <= set(data.columns):
        return None
    data = data[data["salary_unit"] == unit]
    mid = ((data["salary_min"] + data["salary_max"].fillna(data["salary_min"])) / 2).dropna()
    if mid.empty:
        return None
    grouped = mid.groupby(data.loc[mid.index, "role"])
    table = pd.DataFrame({"postings": grouped.size(), "q1": grouped.quantile(0.25), "median": grouped.median(), "q3": grouped.quantile(0.75)})
    table = table.loc[_role_order(table.index)].round(0)
    table.insert(0, "unit", f"CNY/{unit}")
    table.index.name = "role"
    return table.reset_index()


def companies_by_role(frame: pd.DataFrame) -> pd.DataFrame | None:
    data = _to_b(frame)
    if "company" not in data.columns or data["company"].dropna().empty:
        return None
    table = data.groupby("role")["company"].nunique().rename("distinct_companies")
    return table.loc[_role_order(table.index)].reset_index()


def confidence_histogram(frame: pd.DataFrame, bins: int = 10) -> pd.DataFrame | None:
    if "confidence" not in frame.columns or frame["confidence"].dropna().empty:
        return None
    edges = np.linspace(0, 1, bins + 1)
    counts, _ = np.histogram(frame["confidence"].dropna().clip(0, 1), bins=edges)
    return pd.DataFrame({"from": edges[:-1].round(2), "to": edges[1:].round(2), "postings": counts})


def estimated_counts(frame: pd.DataFrame, model_metadata: dict | None, estimates: str) -> tuple[Estimates | None, str]:
    """The estimates of the rows' true roles (None when there are none) and the note that says how."""
    if estimates == "none":
        return None, "none requested"
    confusion = (model_metadata or {}).get("heldout_confusion")
    if not (confusion and "bands" in confusion):
        return None, "no estimates: the metadata of the model that labelled these rows is not at hand (pass --model), or it predates held-out confusions; counts are the model's labels"
    confidence = frame["confidence"] if "confidence" in frame.columns else pd.Series(1.0, index=frame.index)
    alternatives = frame["alternatives"] if "alternatives" in frame.columns else None
    found = stable_counts(frame["role"], confidence, confusion, alternatives=alternatives, estimator=estimates)
    return found, found.describe() if found else f"WARNING: the {estimates} and banded estimates were both unstable for these postings; counts are the model's labels"


TOP_ROLES = 5


def business_tables(frame: pd.DataFrame, model_metadata: dict | None, estimates: str) -> dict[str, pd.DataFrame | None]:
    """The study's population and its three business models: the study's table for the postings of
    to-B employers only, postings per business type, and roles by business type (platform, service,
    hardware) with counts, shares, estimates and what each type hires most. None where the rows
    carry no business type (a model trained without its labels)."""
    names = ("summary_to_b_employers", "business_types", "top_roles_by_business_type", "roles_by_business_type")
    if "business_type" not in frame.columns or frame["business_type"].dropna().empty:
        return dict.fromkeys(names)
    from .business import business_types, to_b_types

    types = business_types()
    to_b_employers = frame[frame["business_type"].isin(to_b_types())]
    found, _ = estimated_counts(to_b_employers, model_metadata, estimates)
    summary, _ = summary_table(to_b_employers, found)
    roles = frame["role"].notna() & (frame["role"] != OTHER)
    counts = pd.DataFrame(
        [
            {
                "business_type": t, "business_type_name": info["zh"], "to_b": "to-B" if info["to_b"] else "",
                "postings": int((frame["business_type"] == t).sum()), "to_b_role_postings": int(((frame["business_type"] == t) & roles).sum()),
            }
            for t, info in types.items()
        ]
    )
    counts["share_of_to_b_role_postings"] = (counts["to_b_role_postings"] / max(int(counts["to_b_role_postings"].sum()), 1)).round(4)
    roles_list = [r for r in taxonomy().roles if r.id != OTHER]
    wide = pd.DataFrame({"module_name": [taxonomy().module(r.module).zh for r in roles_list], "role": [r.id for r in roles_list], "role_name": [r.zh for r in roles_list]})
    top = []
    for t in to_b_types():
        subset = frame[frame["business_type"] == t]
        found, _ = estimated_counts(subset, model_metadata, estimates)
        to_b_total = int((subset["role"].notna() & (subset["role"] != OTHER)).sum())
        counted = subset["role"].value_counts()
        zh = types[t]["zh"]
        wide[f"{zh} postings"] = [int(counted.get(r.id, 0)) for r in roles_list]
        wide[f"{zh} share"] = [_share(int(counted.get(r.id, 0)), to_b_total) for r in roles_list]
        if found is not None:
            e = found.table.set_index("role")
            wide[f"{zh} estimate (90% interval)"] = [f"{round(e.loc[r.id, 'estimate']):,} ({round(e.loc[r.id, 'estimate_low']):,}–{round(e.loc[r.id, 'estimate_high']):,})" for r in roles_list]
        ranked = wide.sort_values(f"{zh} postings", ascending=False, kind="stable").head(TOP_ROLES)
        ranked = ranked[ranked[f"{zh} postings"] > 0]
        top.append({"business_type": t, "business_type_name": zh, "to_b_role_postings": to_b_total, "hires_most": "、".join(f"{n} {v:.0%}" for n, v in zip(ranked["role_name"], ranked[f"{zh} share"]))})
    return {"summary_to_b_employers": summary, "business_types": counts, "top_roles_by_business_type": pd.DataFrame(top), "roles_by_business_type": wide}


def build_report(frame: pd.DataFrame, quality: dict | None = None, model_metadata: dict | None = None, estimates: str = DEFAULT_ESTIMATOR) -> Report:
    """All tables from classified rows. `quality` adds ingest facts (postings read, duplicates, rejects).

    `estimates` (one of ESTIMATORS, "none" for raw counts only): every estimator needs the held-out
    confusion of the model that labelled the rows, from `model_metadata`; without it the table has
    raw counts only and says why."""
    if estimates not in ESTIMATORS:
        raise ReportError(f"unknown estimator {estimates!r}; choose one of {', '.join(ESTIMATORS)}")
    unreadable = frame.attrs.get("unreadable", [])
    found, note = estimated_counts(frame, model_metadata, estimates)
    frame, pay_checks = checked_pay(frame)
    frame = frame.assign(source=board_names(frame)) if "source" in frame.columns else frame
    summary, other = summary_table(frame, found)
    duties = duty_terms(frame)
    summary.insert(summary.columns.get_loc("typical_titles"), "what_the_job_does", summary["role"].map(lambda r: duties.get(r, "")))
    status = frame["status"].value_counts().to_dict() if "status" in frame.columns else {}
    facts = {
        "classified_rows": int(len(frame)),
        "to_b_postings": int(summary.loc[summary["role"] == "total", "postings"].iloc[0]),
        "other_postings": other,
        "status": {k: int(v) for k, v in status.items()},
        "models": sorted(frame["model"].dropna().unique().tolist()) if "model" in frame.columns else [],
        "estimates": note,
        **pay_checks,
        **(quality or {}),
    }
    if unreadable:  # rows of the classified files that could not be read: not in any table
        facts["classified_rows_not_read"] = {"rows": len(unreadable), "first": unreadable[:5]}
    if found is not None:
        other_row = found.table.set_index("role").loc[OTHER]
        facts["other_estimate"] = {k: round(float(other_row[k])) for k in ("estimate", "estimate_low", "estimate_high")}
    if model_metadata:
        facts["model_metrics"] = {k: model_metadata.get(k) for k in ("model_id", "cv_folds", "cv_accuracy", "cv_macro_f1", "cv_module_accuracy", "training_samples")}
    tables = {
        **business_tables(frame, model_metadata, estimates),
        "role_by_board": role_by(frame, "source"),
        "top_cities_by_module": top_cities(frame),
        "salary_monthly": salary_by_role(frame, "month"),
        "salary_daily": salary_by_role(frame, "day"),
        "salary_yearly": salary_by_role(frame, "year"),
        "experience_by_role": grouped_by(frame, "experience", experience_bucket, EXPERIENCE_BUCKETS),
        "education_by_role": grouped_by(frame, "education", education_bucket, EDUCATION_BUCKETS),
        "companies_by_role": companies_by_role(frame),
        "examples_by_role": examples_by_role(frame),
    }
    return Report(summary, other, int(len(frame)), tables, facts, confidence_histogram(frame))


TITLES = {
    "summary": "Roles by module (the study's table)",
    "role_by_board": "Role × board",
    "top_cities_by_module": f"Top {TOP_CITIES} cities per module",
    "salary_monthly": "Monthly pay per role (CNY/month, midpoint of the advertised range)",
    "salary_daily": "Day rates per role (CNY/day: internships and part-time)",
    "salary_yearly": "Yearly pay per role (CNY/year)",
    "experience_by_role": "Experience asked per role (grouped; the postings keep the board's own wording)",
    "education_by_role": "Education asked per role (grouped; the postings keep the board's own wording)",
    "companies_by_role": "Distinct companies per role",
    "examples_by_role": f"Example postings: the {EXAMPLES} most confidently labelled of each role",
    "confidence_histogram": "Confidence of the labels",
    "summary_to_b_employers": "The study's population: roles by module at to-B employers only (platform, service and hardware businesses)",
    "business_types": "Postings by the employer's business type (each posting's own reading)",
    "roles_by_business_type": "Roles by business type (to-B employers): postings, share of the type's to-B roles, estimate",
    "top_roles_by_business_type": f"What each business type hires most (top {TOP_ROLES} roles)",
}


# ----------------------------------------------------------------------------- charts (inline SVG)


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


MODULE_COLOURS = {"acquisition": "#4e79a7", "conversion": "#f28e2b", "service": "#59a14f"}


def _ticks(top: float, count: int = 5) -> list[float]:
    step = 10 ** np.floor(np.log10(max(top, 1) / count))
    step *= next(m for m in (1, 2, 5, 10) if top / (step * m) <= count)
    return list(np.arange(0, top + step / 2, step))


def svg_role_bars(summary: pd.DataFrame) -> str:
    """Horizontal bars per role, coloured by module, with a legend and an axis: the estimate with its
    90% interval and the model's count as a tick, or the count alone."""
    rows = summary[~summary["role"].isin(["subtotal", "total"])]
    estimated = "estimate" in rows.columns
    top = max(int(rows["estimate_high" if estimated else "postings"].max()), int(rows["postings"].max()), 1)
    bar_h, label_w, width, legend_h, axis_h = 18, 150, 760, 46, 28
    scale = (width - label_w - 90) / top
    height = legend_h + bar_h * len(rows) + axis_h
    label = "estimated postings per role (bar), 90% interval (line), the model's labels (tick)" if estimated else "postings per role"
    parts = [f'<svg role="img" aria-label="{label}" width="{width}" height="{height}" class="chart" id="chart-roles">']
    legend = [(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/><text x="{x + 16}" y="14">{_esc(taxonomy().module(m).zh)}</text>') for x, (m, colour) in zip((label_w, label_w + 90, label_w + 180), MODULE_COLOURS.items())]
    parts.append('<g class="legend">' + "".join(legend))
    if estimated:
        parts.append(
            f'<rect x="{label_w}" y="24" width="22" height="10" fill="#bbb"/><text x="{label_w + 26}" y="33">estimated postings</text>'
            f'<line x1="{label_w + 150}" x2="{label_w + 180}" y1="29" y2="29" stroke="#222" stroke-width="1.5"/><text x="{label_w + 184}" y="33">90% interval</text>'
            f'<line x1="{label_w + 280}" x2="{label_w + 280}" y1="23" y2="35" stroke="#d62728" stroke-width="2"/><text x="{label_w + 286}" y="33">the model\'s labels (count)</text>'
        )
    else:
        parts.append(f'<text x="{label_w}" y="33">postings labelled with each role</text>')
    parts.append("</g>")
    for i, row in enumerate(rows.itertuples()):
        y = legend_h + i * bar_h
        value = row.estimate if estimated else row.postings
        w = scale * value
        tip = f"{row.role_name}: estimate {row.estimate} ({row.estimate_low}-{row.estimate_high}), labels {row.postings}" if estimated else f"{row.role_name}: {row.postings}"
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_esc(row.role_name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 4}" fill="{MODULE_COLOURS.get(row.module, "#999")}"><title>{_esc(tip)}</title></rect>')
        if estimated:
            mid = y + bar_h / 2
            parts.append(f'<line class="interval" x1="{label_w + scale * row.estimate_low:.1f}" x2="{label_w + scale * row.estimate_high:.1f}" y1="{mid}" y2="{mid}" stroke="#222" stroke-width="1.5"/>')
            parts.append(f'<line class="raw" x1="{label_w + scale * row.postings:.1f}" x2="{label_w + scale * row.postings:.1f}" y1="{y + 1}" y2="{y + bar_h - 1}" stroke="#d62728" stroke-width="2"/>')
        end = label_w + scale * max(value, row.estimate_high if estimated else value)
        parts.append(f'<text x="{end + 4:.1f}" y="{y + 13}">{value:,}</text>')
    axis_y = legend_h + bar_h * len(rows) + 2
    parts.append(f'<g class="axis"><line x1="{label_w}" x2="{label_w + scale * top:.1f}" y1="{axis_y}" y2="{axis_y}" stroke="#888"/>')
    for tick in _ticks(top):
        x = label_w + scale * tick
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y}" y2="{axis_y + 4}" stroke="#888"/><text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle">{tick:,.0f}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def svg_heatmap(table: pd.DataFrame) -> str:
    """Role × board counts as a grid of shaded cells, every board, its name slanted above its column."""
    boards = [c for c in table.columns if c != "role"]
    values = table[boards].to_numpy(dtype=float)
    top = max(values.max(), 1.0)
    cell_w, cell_h, label_w, head_h = 46, 20, 150, 120
    width, height = label_w + cell_w * len(boards) + 120, head_h + cell_h * len(table) + 10
    names = {r.id: r.zh for r in taxonomy().roles}
    parts = [f'<svg role="img" aria-label="role by board, {len(boards)} boards" width="{width}" height="{height}" class="chart" id="chart-heatmap">']
    for j, board in enumerate(boards):
        x = label_w + j * cell_w + cell_w / 2
        short = board if len(board) <= 22 else board[:21] + "…"
        parts.append(f'<text class="board" x="{x}" y="{head_h - 8}" transform="rotate(-40 {x} {head_h - 8})">{_esc(short)}<title>{_esc(board)}</title></text>')
    for i, role in enumerate(table["role"]):
        y = head_h + i * cell_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_esc(names.get(role, role))}</text>')
        for j, board in enumerate(boards):
            v = values[i, j]
            shade = int(245 - 190 * (v / top) ** 0.5)
            parts.append(f'<rect x="{label_w + j * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="rgb({shade},{shade + 5 if shade < 250 else 250},255)"><title>{_esc(role)} × {_esc(board)}: {int(v)}</title></rect>')
            parts.append(f'<text x="{label_w + j * cell_w + cell_w / 2}" y="{y + 14}" text-anchor="middle" class="{"light" if v / top > 0.5 else ""}">{int(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_salary(table: pd.DataFrame) -> str:
    """Quartile bars (q1 to q3) with a median tick, per role."""
    names = {r.id: r.zh for r in taxonomy().roles}
    top = max(float(table["q3"].max()), 1.0)
    bar_h, label_w, width, legend_h = 18, 150, 640, 26
    height = legend_h + bar_h * len(table) + 10
    scale = (width - label_w - 90) / top
    parts = [f'<svg role="img" aria-label="monthly pay by role" width="{width}" height="{height}" class="chart" id="chart-salary">']
    parts.append(
        f'<g class="legend"><rect x="{label_w}" y="6" width="24" height="10" fill="#76b7b2"/><text x="{label_w + 28}" y="15">middle half of the postings (q1–q3)</text>'
        f'<rect x="{label_w + 250}" y="4" width="2" height="14" fill="#333"/><text x="{label_w + 256}" y="15">median, also the number, CNY/month</text></g>'
    )
    for i, row in enumerate(table.itertuples()):
        y = legend_h + i * bar_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_esc(names.get(row.role, row.role))}</text>')
        parts.append(f'<rect x="{label_w + row.q1 * scale:.1f}" y="{y + 3}" width="{max((row.q3 - row.q1) * scale, 1):.1f}" height="{bar_h - 6}" fill="#76b7b2"><title>{_esc(row.role)}: {row.q1:.0f}–{row.q3:.0f}, median {row.median:.0f}</title></rect>')
        parts.append(f'<rect x="{label_w + row.median * scale - 1:.1f}" y="{y + 1}" width="2" height="{bar_h - 2}" fill="#333"/>')
        parts.append(f'<text x="{label_w + row.q3 * scale + 4:.1f}" y="{y + 13}">{row.median:,.0f}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- writers


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """A table as a person reads it: shares as percentages, missing values blank."""
    out = table.copy()
    for c in out.columns:
        if "share" in c:
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
    return out.astype(object).where(out.notna(), "")


def summary_view(summary: pd.DataFrame) -> pd.DataFrame:
    """The study's table for reading (HTML, Markdown): one column per idea, the interval beside its
    estimate; the ids and the separate bounds stay in the data (JSON, Excel)."""
    view = pd.DataFrame({"module": summary["module_name"], "role": summary["role_name"], "id": summary["role"].where(~summary["role"].isin(["subtotal", "total"]), "")})
    view["postings"] = summary["postings"]
    view["share of to-B"] = summary["share_of_to_b"]
    view["share in module"] = summary["share_in_module"]
    if "estimate" in summary.columns:
        view["estimate (90% interval)"] = [f"{e:,} ({lo:,}–{hi:,})" for e, lo, hi in zip(summary["estimate"], summary["estimate_low"], summary["estimate_high"])]
        view["estimated share"] = summary["share_of_to_b_estimated"]
    if "what_the_job_does" in summary.columns:
        view["what the job does"] = summary["what_the_job_does"]
    view["typical titles"] = summary["typical_titles"]
    return view


def _cell(value, column: str) -> str:
    if isinstance(value, float) and value != value or value is None or value is pd.NA:
        return "<td></td>"
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating))):
        return f'<td class="num">{value:,.0f}</td>' if float(value).is_integer() else f'<td class="num">{value:,.4g}</td>'
    text = str(value)
    if column == "url" and re.match(r"^https?://", text):
        return f'<td class="text"><a href="{_esc(text)}" rel="noreferrer noopener">{_esc(text[:60])}{"…" if len(text) > 60 else ""}</a></td>'
    numeric = bool(re.fullmatch(r"[\d,.%()–\- ]+", text))
    return f'<td class="{"num" if numeric else "text"}">{_esc(text)}</td>'


def html_table(table: pd.DataFrame, table_id: str | None = None, row_class=None) -> str:
    """An HTML table: text left, numbers right, links clickable, nothing printed for a missing value."""
    head = "".join(f"<th>{_esc(c)}</th>" for c in table.columns)
    rows = []
    for i, row in enumerate(table.itertuples(index=False)):
        cls = row_class(i) if row_class else None
        rows.append((f'<tr class="{cls}">' if cls else "<tr>") + "".join(_cell(v, c) for v, c in zip(row, table.columns)) + "</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def quality_rows(quality: dict) -> pd.DataFrame:
    """The data-quality facts as rows a person reads (nested facts flattened to `a: 1; b: 2`)."""
    def text(value) -> str:
        if isinstance(value, dict):
            return "; ".join(f"{k}: {text(v)}" for k, v in value.items())
        if isinstance(value, list):
            return ", ".join(map(text, value)) or "none"
        if isinstance(value, float):
            return f"{value:.3f}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    return pd.DataFrame([{"fact": k.replace("_", " "), "value": text(v)} for k, v in quality.items()])


def _named(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """A breakdown table with each role's 中文 name beside its id."""
    if table is None or "role" not in table.columns or "role_name" in table.columns:
        return table
    names = {r.id: r.zh for r in taxonomy().roles}
    out = table.copy()
    out.insert(out.columns.get_loc("role") + 1, "role_name", out["role"].map(names).fillna(""))
    return out


def _all_tables(report: Report) -> dict[str, pd.DataFrame | None]:
    other = pd.DataFrame([{"role": OTHER, "role_name": "其他", "postings": report.other_count}])
    tables = {name: _named(table) for name, table in report.tables.items()}
    return {"summary": report.summary, "other": other, **tables, "confidence_histogram": report.confidence_histogram}


def _markdown_table(table: pd.DataFrame) -> str:
    cells = table.astype(object).where(table.notna(), "")
    escape = lambda v: (f"{v:,}" if isinstance(v, (int, np.integer)) else str(v)).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(escape(c) for c in table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(escape(v) for v in row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    lines = ["# Role distribution of to-B operations postings", ""]
    q = report.quality
    lines.append(f"{q['to_b_postings']:,} to-B operations postings in 25 roles under 3 modules, and {report.other_count:,} other postings, from {q['classified_rows']:,} classified rows.")
    lines.append("")
    for name, table in _all_tables(report).items():
        lines += [f"## {TITLES.get(name, name.replace('_', ' ').capitalize())}", ""]
        if name == "summary":
            lines += [f"*{q['estimates']}*", ""] if q["estimates"].startswith("WARNING") else []
        if name in ("summary", "summary_to_b_employers") and table is not None:
            table = summary_view(table)
        lines += [NO_DATA if table is None or table.empty else _markdown_table(_display(table)), ""]
        if name == "summary" and not q["estimates"].startswith("WARNING"):
            lines += [f"*{q['estimates']}*", ""]
    lines += ["## Data quality", "", _markdown_table(quality_rows(q)), ""]
    return "\n".join(lines)


CSS = """body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:2rem auto;max-width:1320px;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}th,td{border:1px solid #ddd;padding:.2rem .45rem;vertical-align:top}
th{background:#f4f4f4;white-space:nowrap;text-align:left}td.num{text-align:right;white-space:nowrap}td.text{text-align:left}
#summary-table{width:100%}#summary-table th{white-space:normal}#summary-table td:nth-child(2){white-space:nowrap}#summary-table td:nth-child(3){font-size:.75rem;color:#666}
tr.subtotal td{font-weight:600;background:#fafafa}.scroll{overflow-x:auto;max-width:100%}
svg.chart text{font-size:12px;fill:#222}svg.chart text.light{fill:#fff}.nodata{color:#888;font-style:italic}.warning{color:#a15c00;font-weight:600}.note{color:#555}"""


def render_html(report: Report) -> str:
    q = report.quality
    warning = q["estimates"].startswith("WARNING")
    body = [
        "<h1>Role distribution of to-B operations postings</h1>",
        f"<p>{q['to_b_postings']:,} to-B operations postings in 25 roles under 3 modules, and {report.other_count:,} other postings, from {q['classified_rows']:,} classified rows.</p>",
        f"<h2>{TITLES['summary']}</h2>",
    ]
    if warning:
        body.append(f'<p class="warning">{_esc(q["estimates"])}</p>')
    body.append(svg_role_bars(report.summary))
    roles = report.summary["role"].tolist()
    body.append(html_table(_display(summary_view(report.summary)), "summary-table", lambda i: "subtotal" if roles[i] in ("subtotal", "total") else None))
    if not warning:
        body.append(f'<p class="note">{_esc(q["estimates"])}</p>')
    body.append(f"<p>其他 (other): {report.other_count:,} postings, reported apart.</p>")
    charts = {"role_by_board": svg_heatmap, "salary_monthly": svg_salary}
    for name, table in report.tables.items():
        body.append(f"<h2>{_esc(TITLES.get(name, name))}</h2>")
        if table is None or table.empty:
            body.append(f'<p class="nodata">{NO_DATA}</p>')
            continue
        if name in charts:
            body.append(f'<div class="scroll">{charts[name](table)}</div>')
        if name == "summary_to_b_employers":
            to_b_roles = table["role"].tolist()
            body.append(html_table(_display(summary_view(table)), "summary-to-b-table", lambda i: "subtotal" if to_b_roles[i] in ("subtotal", "total") else None))
            continue
        if name == "role_by_board":
            body.append(f'<p class="note">All {len(table.columns) - 1} boards. A board named <code>file: NAME</code> is a file that did not say which board it came from.</p>')
        body.append(f'<div class="scroll">{html_table(_display(_named(table)))}</div>')
    body.append("<h2>Data quality</h2>")
    if report.confidence_histogram is not None:
        body.append(f"<h3>{TITLES['confidence_histogram']}</h3>")
        body.append(html_table(report.confidence_histogram))
    body.append(html_table(quality_rows(q), "quality-table"))
    return f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">{CSP}<title>tobroles report</title><style>{CSS}</style></head><body>{"".join(body)}</body></html>\n'


def render_json(report: Report) -> str:
    tables = {name: (None if t is None else json.loads(t.to_json(orient="records", force_ascii=False))) for name, t in _all_tables(report).items()}
    for row in tables["summary"]:
        row["count"] = row["postings"]  # the model's labels, beside `estimate` where there is one
    return json.dumps({"quality": report.quality, "tables": tables}, ensure_ascii=False, indent=2)


WRAPPED = frozenset({"what_the_job_does", "typical_titles", "value"})


def xlsx_sheets(report: Report) -> tuple[dict[str, pd.DataFrame], dict[str, SheetStyle]]:
    """One sheet per table after a contents sheet; shares as percentages, bold frozen headers, widths
    that fit, long text wrapped."""
    tables = {name: table if table is not None and not table.empty else pd.DataFrame({"note": [NO_DATA]}) for name, table in _all_tables(report).items()}
    tables["data_quality"] = quality_rows(report.quality)
    titles = {**TITLES, "other": "Postings outside the 25 roles", "data_quality": "Data quality"}
    contents = pd.DataFrame([{"sheet": name, "what it holds": titles.get(name, name), "rows": len(t)} for name, t in tables.items()])
    sheets = {"contents": contents, **tables}
    styles = {}
    for name, table in sheets.items():
        widths = {c: min(w, 40.0) if c in WRAPPED else w for c, w in fitting_widths(table).items()}
        percent = frozenset(c for c in table.columns if "share" in c)
        styles[name] = SheetStyle(widths=widths, wrap=WRAPPED & set(table.columns), freeze_header=True, percent=percent, bold_header=True)
    return sheets, styles


def write_report(report: Report, path: str | os.PathLike) -> Path:
    """Write the report atomically in the format its suffix names."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ReportError(f"{path}: report must end in one of {sorted(REPORT_SUFFIXES)}")
    with atomic_path(path) as tmp:
        if suffix == ".xlsx":
            write_xlsx(tmp, *xlsx_sheets(report))
        else:
            text = {".html": render_html, ".md": render_markdown, ".json": render_json}[suffix](report)
            tmp.write_text(text, encoding="utf-8")
    return path
