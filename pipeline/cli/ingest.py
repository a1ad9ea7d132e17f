from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..ingest import IngestResult, ingest
from ..outputs import OutputError
from ..sources import SourceError
from . import app
from .common import console, user_errors


def print_ingest_summary(result: IngestResult) -> None:
    table = Table(title="ingest")
    table.add_column("file", overflow="fold", ratio=3)
    for name in ("layout", "rows read", "kept", "duplicates", "rejected"):
        table.add_column(name, justify="left" if name == "layout" else "right")
    table.add_column("note", overflow="fold", ratio=2)
    for f in result.files:
        table.add_row(f.file, f.layout, f"{f.rows_read:,}", f"{f.kept:,}", f"{f.duplicates:,}", f"{f.rejected:,}", f.note)
    table.add_row("[b]total[/b]", "", f"{result.rows_read:,}", f"{result.kept:,}", f"{result.duplicates:,}", f"{result.rejected:,}", "")
    console.print(table)


@app.command("ingest")
def ingest_cli(
    sources: list[str] = typer.Argument(..., help="Files, folders, .zip archives or http(s) URLs."),
    output: Path = typer.Option(..., "--output", "-o", help="Output table: .parquet, .csv, .jsonl or .xlsx."),
) -> None:
    """Load scraped job ads into one clean table (rejected rows go to OUT's .rejects file)."""
    with user_errors(SourceError, OutputError):
        result, _ = ingest(sources, output, progress=True)
    print_ingest_summary(result)
    console.print(f"wrote {result.kept:,} postings to {output} and {result.rejected:,} rejects to {result.rejects}")
