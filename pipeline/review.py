"""The review loop's first step: pick the classified ads most worth a person's look and export them
for labelling, as an Excel sheet made for people or as Label Studio tasks.

Labels move this classifier most, and the ads worth labelling are the ones the model is unsure of.
Strategies (each takes one row per distinct ad, never reposts of one ad):
- uncertain: the smallest margins between the top two roles, half of them spread evenly over the
  predicted roles so that rare roles are not crowded out by the big ones;
- rare: an equal share for every predicted role, the most uncertain of each first;
- random: a uniform sample, for an unbiased estimate of the model's accuracy.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from .outputs import SheetStyle, atomic_path, write_xlsx
from .taxonomy import taxonomy

STRATEGIES = ("uncertain", "rare", "random")
# What selection and the sheet read from classified files.
CLASSIFIED_COLUMNS = ["posting_id", "source", "title", "company", "description", "role", "confidence", "alternatives", "model", "raw_file", "raw_row", "business_type"]
SHEET = "to_label"
TAXONOMY_SHEET = "taxonomy"
BUSINESS_SHEET = "business_types"
# What a review sheet shows; `role`, `sure`, `business_type` and `note` are the person's to fill.
SHEET_COLUMNS = ["id", "source", "title", "company", "description", "predicted", "confidence", "runner_up", "role", "sure", "predicted_business_type", "business_type", "note", "check"]
DESCRIPTION_CHARS = 3_000  # enough to decide; Excel's limit is 32,767


class ReviewError(ValueError):
    """The classified rows cannot be reviewed; the message says why."""


def check_of(posting_id: str, title: str, description: str) -> str:
    """A short digest of a row's id and text: a changed id (or a row pasted from elsewhere) no longer
    matches it when the sheet comes back."""
    return hashlib.sha256("\x1f".join([posting_id or "", title or "", description or ""]).encode()).hexdigest()[:10]


def _margins(frame: pd.DataFrame) -> np.ndarray:
    """Confidence minus the runner-up's probability (alternatives is JSON, best first)."""
    runner = frame["alternatives"].fillna("{}").map(lambda a: max(json.loads(a).values(), default=0.0))
    return (frame["confidence"].astype(float) - runner.astype(float)).to_numpy()


def select_for_review(classified: pd.DataFrame, n: int = 200, strategy: str = "uncertain", seed: int = 0) -> pd.DataFrame:
    """`n` rows of `classified` (output of `tobroles classify`), one per distinct ad, by `strategy`."""
    if strategy not in STRATEGIES:
        raise ReviewError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise ReviewError(f"n must be at least 1, got {n}")
    missing = [c for c in ("title", "description", "role", "confidence", "alternatives") if c not in classified.columns]
    if missing:
        raise ReviewError(f"not classify output: no column {missing[0]!r} (run `tobroles classify` first)")
    rows = classified[classified["role"].notna()].copy()
    rows["margin"] = _margins(rows)
    text = rows["title"].fillna("").str.strip() + "\x1f" + rows["description"].fillna("").str.strip().str[:2000]
    # One row per distinct ad: reposts carry the same text, and the least sure copy stands for them.
    rows = rows.assign(_text=text.to_numpy()).sort_values("margin", kind="stable").drop_duplicates("_text")
    if strategy == "random":
        return rows.sample(min(n, len(rows)), random_state=seed).drop(columns="_text")
    rank = rows.groupby("role").cumcount()
    if strategy == "rare":
        return rows.assign(_rank=rank.to_numpy()).sort_values(["_rank", "margin"], kind="stable").head(n).drop(columns=["_text", "_rank"])
    spread = rows.assign(_rank=rank.to_numpy()).sort_values(["_rank", "margin"], kind="stable").head((n + 1) // 2)
    rest = rows.drop(index=spread.index).head(n - len(spread))
    return pd.concat([spread, rest]).sort_values("margin", kind="stable").drop(columns=["_text", "_rank"], errors="ignore")


def review_table(selected: pd.DataFrame) -> pd.DataFrame:
    """The sheet a person fills: the ad, what the model said, and empty role / sure / note."""
    t = taxonomy()

    def runner_up(alternatives: str) -> str:
        pairs = json.loads(alternatives or "{}").items()
        return "; ".join(f"{t.label(r)} {p:.2f}" for r, p in pairs)

    col = lambda name: selected[name] if name in selected.columns else pd.Series(pd.NA, index=selected.index, dtype="string")  # noqa: E731
    ids = col("posting_id").astype("string").fillna(col("raw_file").astype("string") + "#" + col("raw_row").astype("string"))
    descriptions = col("description").fillna("").astype(str)
    table = pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "source": col("source").to_numpy(),
            "title": col("title").to_numpy(),
            "company": col("company").to_numpy(),
            "description": descriptions.str[:DESCRIPTION_CHARS].to_numpy(),
            "predicted": [t.label(r) for r in selected["role"]],
            "confidence": selected["confidence"].astype(float).round(3).to_numpy(),
            "runner_up": [runner_up(a) for a in selected["alternatives"].fillna("{}")],
            "role": "",
            "sure": pd.array([pd.NA] * len(selected), dtype="Int64"),
            "predicted_business_type": col("business_type").to_numpy(),
            "business_type": "",
            "note": "",
        }
    )
    table["check"] = [check_of(i, ti, d) for i, ti, d in zip(table["id"].fillna(""), table["title"].fillna(""), table["description"])]
    return table


def taxonomy_table() -> pd.DataFrame:
    t = taxonomy()
    return pd.DataFrame(
        [
            {"label": t.label(r.id), "id": r.id, "中文": r.zh, "English": r.en, "module": t.module(r.module).zh if r.module else "", "definition": r.definition}
            for r in t.roles
        ]
    )


def business_types_table() -> pd.DataFrame:
    from .business import business_types

    return pd.DataFrame([{"id": t, "中文": info["zh"], "to-B": "yes" if info["to_b"] else "no", "definition": info["definition"], "examples": info["examples"]} for t, info in business_types().items()])


@dataclass
class ReviewExport:
    path: Path
    rows: int
    config: Path | None = None  # Label Studio's labelling config, beside the tasks


def label_studio_config() -> str:
    """The labelling config of a Label Studio project for these tasks: one role of the 26, a sureness."""
    from .business import business_types

    choices = "\n".join(f"    <Choice value={quoteattr(taxonomy().label(r.id))}/>" for r in taxonomy().roles)
    business = "\n".join(f"    <Choice value={quoteattr(t)}/>" for t in business_types())
    return f"""<View>
  <Header value="$title"/>
  <Text name="meta" value="$company"/>
  <Text name="ad" value="$description"/>
  <Header value="role"/>
  <Choices name="role" toName="ad" choice="single" showInline="false" required="true">
{choices}
  </Choices>
  <Header value="sure (3 clear, 2 probable, 1 a guess between two roles)"/>
  <Choices name="sure" toName="ad" choice="single" showInline="true">
    <Choice value="3"/>
    <Choice value="2"/>
    <Choice value="1"/>
  </Choices>
  <Header value="the employer's business type (who pays the employer)"/>
  <Choices name="business_type" toName="ad" choice="single" showInline="true">
{business}
  </Choices>
</View>
"""


def label_studio_tasks(table: pd.DataFrame, model_id: str | None) -> list[dict]:
    tasks = []
    for row in table.to_dict("records"):
        data = {k: (None if pd.isna(v) else v) for k, v in row.items() if k not in ("role", "sure", "business_type", "note")}
        task = {"data": data}
        if model_id:
            task["predictions"] = [
                {
                    "model_version": model_id,
                    "score": float(row["confidence"]),
                    "result": [{"from_name": "role", "to_name": "ad", "type": "choices", "value": {"choices": [row["predicted"]]}}],
                }
            ]
        tasks.append(task)
    return tasks


def write_review(selected: pd.DataFrame, output: str | os.PathLike, model_id: str | None = None) -> ReviewExport:
    """An xlsx sheet (a drop-down of the 26 labels, the taxonomy on a second sheet) or, for .json,
    Label Studio tasks with the labelling config written beside them (`<stem>.label_config.xml`)."""
    output = Path(output)
    table = review_table(selected)
    if output.suffix.lower() == ".xlsx":
        labels = len(taxonomy().roles)
        business = business_types_table()
        style = SheetStyle(
            widths={
                "id": 18, "source": 10, "title": 24, "company": 22, "description": 80, "predicted": 20, "confidence": 10, "runner_up": 40, "role": 24,
                "sure": 6, "predicted_business_type": 12, "business_type": 14, "note": 24, "check": 11,
            },
            wrap=frozenset({"title", "company", "description", "runner_up"}),
            freeze_header=True,
            lists={"role": f"={TAXONOMY_SHEET}!$A$2:$A${labels + 1}", "sure": '"1,2,3"', "business_type": f"={BUSINESS_SHEET}!$A$2:$A${len(business) + 1}"},
        )
        definitions = SheetStyle(widths={"label": 28, "id": 18, "中文": 12, "English": 28, "module": 10, "definition": 100}, wrap=frozenset({"definition"}), freeze_header=True)
        types = SheetStyle(widths={"id": 12, "中文": 14, "to-B": 6, "definition": 90, "examples": 60}, wrap=frozenset({"definition", "examples"}), freeze_header=True)
        with atomic_path(output) as tmp:
            write_xlsx(tmp, {SHEET: table, TAXONOMY_SHEET: taxonomy_table(), BUSINESS_SHEET: business}, {SHEET: style, TAXONOMY_SHEET: definitions, BUSINESS_SHEET: types})
        return ReviewExport(output, len(table))
    if output.suffix.lower() == ".json":
        config = output.with_name(f"{output.stem}.label_config.xml")
        with atomic_path(output) as tmp:
            tmp.write_text(json.dumps(label_studio_tasks(table, model_id), ensure_ascii=False, indent=1), encoding="utf-8")
        with atomic_path(config) as tmp:
            tmp.write_text(label_studio_config(), encoding="utf-8")
        return ReviewExport(output, len(table), config)
    raise ReviewError(f"{output}: a review export is .xlsx (a sheet for people) or .json (Label Studio tasks)")
