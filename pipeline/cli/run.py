from __future__ import annotations

from pathlib import Path

import typer

from . import app
from .classify import print_classify_summary
from .common import COLUMNS_HELP, console, parse_columns, user_errors
from .ingest import print_ingest_summary
from .report import print_summary


@app.command("run")
def run_cli(
    sources: list[str] = typer.Argument(None, metavar="[SOURCE]...", help="Raw posting files, folders, zips or URLs; default: the bundled corpus."),
    output: Path = typer.Option(Path("tobroles-out"), "--output", "-o", help="Folder for postings, classified rows and reports."),
    model: Path = typer.Option(None, "--model", "-m", help="Model folder; default: the shipped model."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes for classification; 0: one per core (up to 4) for inputs of 10,000 rows or more."),
    columns: str = typer.Option(None, "--columns", help=COLUMNS_HELP),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero, writing nothing, when ingest flags a file (no description column, >20% merged or rejected)."),
    estimates: str = typer.Option("banded", help="The report's estimated counts: banded, acc, pacc, em or none (see `tobroles report --help`)."),
) -> None:
    """The main job: ingest → classify → report, all into one folder."""
    from ..batch import WorkerError
    from ..ingest.sources import SourceError
    from ..model_store import ModelError
    from ..outputs import OutputError
    from ..report import ReportError
    from ..run import run

    # --strict: ingest's IngestWarning is a SourceError, reported as one line naming each flagged file.
    with user_errors(SourceError, ModelError, OutputError, ReportError, ValueError, WorkerError):
        result = run(sources or None, output, model=model, jobs=jobs, progress=True, columns=parse_columns(columns), strict=strict, estimates=estimates)
    if result.ingest:
        print_ingest_summary(result.ingest)
    print_classify_summary(result.classify)
    print_summary(result.report)
    console.print(f"postings: {result.postings}\nclassified: {result.classified}\nreports: {', '.join(map(str, result.reports))}")
