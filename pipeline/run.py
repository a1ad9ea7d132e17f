"""The main job in one call: ingest → classify → report, into one output folder."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .batch import ClassifyResult, classify_files
from .ingest import IngestResult, ingest
from .model_store import load_model
from .estimates import DEFAULT_ESTIMATOR
from .report import Report, build_report, load_classified, write_report
from .taxonomy import DATA_DIR

BUNDLED_CORPUS = DATA_DIR / "corpus.parquet"
BUNDLED_SUMMARY = DATA_DIR / "corpus.summary.json"


@dataclass
class RunResult:
    folder: Path
    postings: Path
    classified: Path
    reports: list[Path]
    ingest: IngestResult | None
    classify: ClassifyResult
    report: Report


def ingest_quality(result: IngestResult) -> dict:
    posting_files = [f for f in result.files if f.layout not in ("company-table", "tag-table")]
    return {
        "files_read": len(result.files),
        "posting_rows_read": sum(f.rows_read for f in posting_files),
        "postings_kept": result.kept,
        "duplicates_merged": result.duplicates,
        "rejected_rows": result.rejected,
        "files_with_errors": [f.file for f in result.files if f.note.startswith("error")],
    }


def run(
    sources: list[str | os.PathLike] | None,
    folder: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    jobs: int = 1,
    progress: bool = False,
    columns: dict[str, str] | None = None,
    strict: bool = False,
    estimates: str = DEFAULT_ESTIMATOR,
) -> RunResult:
    """Ingest `sources` (default: the bundled corpus, already ingested), classify, write the report.

    `columns`, `strict`: as for `ingest`; `estimates`: the report's estimator (see `build_report`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    loaded = load_model(model)
    if sources:
        postings = folder / "postings.parquet"
        ingested, _ = ingest(sources, postings, progress=progress, columns=columns, strict=strict)
        quality = ingest_quality(ingested)
    else:
        postings, ingested = BUNDLED_CORPUS, None
        quality = json.loads(BUNDLED_SUMMARY.read_text(encoding="utf-8"))
    classified = folder / "classified.parquet"
    classify_result = classify_files([postings], classified, model=loaded, jobs=jobs, progress=progress)
    report = build_report(load_classified([classified]), quality, loaded.metadata, estimates=estimates)
    reports = [write_report(report, folder / f"report.{suffix}") for suffix in ("html", "md", "xlsx")]
    return RunResult(folder, postings, classified, reports, ingested, classify_result, report)
