from __future__ import annotations

from pathlib import Path

import typer

from . import app
from .classify import print_classify_summary
from .common import console, user_errors
from .ingest import print_ingest_summary
from .report import print_summary


@app.command("run")
def run_cli(
    sources: list[str] = typer.Argument(None, help="Raw posting files, folders, zips or URLs; default: the bundled corpus."),
    output: Path = typer.Option(Path("tobroles-out"), "--output", "-o", help="Folder for postings, classified rows and reports."),
    model: Path = typer.Option(None, "--model", "-m", help="Model folder; default: the shipped model."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Worker processes for classification."),
) -> None:
    """The main job: ingest → classify → report, all into one folder."""
    from ..ingest.sources import SourceError
    from ..model_store import ModelError
    from ..outputs import OutputError
    from ..report import ReportError
    from ..run import run

    with user_errors(SourceError, ModelError, OutputError, ReportError, ValueError):
        result = run(sources or None, output, model=model, jobs=jobs, progress=True)
    if result.ingest:
        print_ingest_summary(result.ingest)
    print_classify_summary(result.classify)
    print_summary(result.report)
    console.print(f"postings: {result.postings}\nclassified: {result.classified}\nreports: {', '.join(map(str, result.reports))}")
