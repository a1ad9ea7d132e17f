from __future__ import annotations

import json
from pathlib import Path

import typer

from ..taxonomy import DEFAULT_MODEL
from . import app
from .common import console, stdout, user_errors, warn_unreadable


def model_metadata(model: Path | None, model_ids: list[str]) -> dict | None:
    """The metadata of the model that labelled the rows, when its folder is at hand (only read, not loaded)."""
    from ..model_store import METADATA_FILE

    try:
        metadata = json.loads((Path(model or DEFAULT_MODEL) / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return metadata if metadata.get("model_id") in model_ids else None


@app.command("report")
def report_cli(
    classified: list[str] = typer.Argument(..., metavar="CLASSIFIED...", help="Output files of `tobroles classify`."),
    output: Path = typer.Option(..., "--output", "-o", help="Report: .html (self-contained), .md, .xlsx or .json."),
    model: Path = typer.Option(None, "--model", "-m", help="Model folder that labelled the rows (default: the shipped model): its metrics and held-out confusion."),
    estimates: str = typer.Option("banded", help="Estimated counts with 90% intervals that correct the classifier's systematic errors: banded (by predicted role and confidence band), acc (adjusted classify-and-count), pacc (its probabilistic form), em (EM re-estimation of priors), or none (the model's labels only)."),
) -> None:
    """Rebuild the role-distribution table (25 roles, 3 modules) and its breakdowns from classified postings."""
    from ..ingest.sources import SourceError
    from ..report import ReportError, build_report, load_classified, write_report

    with user_errors(SourceError, ReportError):
        frame = load_classified(classified)
        warn_unreadable(frame.attrs["unreadable"])
        metadata = model_metadata(model, frame["model"].dropna().unique().tolist() if "model" in frame.columns else [])
        result = build_report(frame, model_metadata=metadata, estimates=estimates)
        write_report(result, output)
    print_summary(result)
    console.print(f"wrote {output}")


def print_summary(result) -> None:
    from rich.table import Table

    estimated = "estimate" in result.summary.columns
    columns = ["module", "role", "中文", "postings", "share", "in module"] + (["estimate (90% interval)", "est. share"] if estimated else [])
    table = Table(*columns, title="role distribution")
    for row in result.summary.itertuples():
        style = "bold" if row.role in ("subtotal", "total") else None
        in_module = "" if row.share_in_module != row.share_in_module else f"{row.share_in_module:.1%}"
        cells = [row.module_name, row.role, row.role_name, f"{row.postings:,}", f"{row.share_of_to_b:.1%}", in_module]
        if estimated:
            cells += [f"{row.estimate:,} ({row.estimate_low:,}-{row.estimate_high:,})", f"{row.share_of_to_b_estimated:.1%}"]
        table.add_row(*cells, style=style)
    table.add_row("", "other", "其他", f"{result.other_count:,}", "", "", *([""] * 2 if estimated else []))
    stdout.print(table)
    note = result.quality["estimates"]
    console.print(f"[yellow]{note}[/yellow]" if note.startswith("WARNING") else note, highlight=False, soft_wrap=True)
