"""What ingest would make of files, without writing anything: a new user's first look at a strange file."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field

import pandas as pd

from . import FileSummary, read_postings

SAMPLE_FIELDS = ["title", "company", "city", "salary_min", "salary_max", "salary_unit", "posted_at", "description"]


@dataclass
class Inspection:
    summary: FileSummary
    samples: list[dict] = field(default_factory=list)


def inspect_files(sources: list[str | os.PathLike], samples: int = 3, columns: dict[str, str] | None = None) -> list[Inspection]:
    """Per file (or folder of pages): format and encoding, layout or inferred mapping with its
    confidences, rows, rejects, and the first `samples` postings as they would come out."""
    summaries: list[FileSummary] = []
    found: dict[int, Inspection] = {}
    with ExitStack() as stack:
        for batch in read_postings(sources, stack, summaries, columns=columns):
            entry = found.setdefault(id(batch.summary), Inspection(batch.summary))
            if batch.postings is not None and len(entry.samples) < samples:
                rows = batch.postings[SAMPLE_FIELDS].head(samples - len(entry.samples))
                entry.samples += [{k: v for k, v in r.items() if not pd.isna(v)} for r in rows.to_dict("records")]
    for summary in summaries:
        summary.check()
    return [found.get(id(s), Inspection(s)) for s in summaries]
