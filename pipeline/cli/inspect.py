from __future__ import annotations

import typer

from . import app
from .common import COLUMNS_HELP, console, parse_columns, stdout, user_errors


@app.command("inspect")
def inspect_cli(
    sources: list[str] = typer.Argument(..., metavar="FILE...", help="Files, folders, .zip archives or http(s) URLs."),
    samples: int = typer.Option(3, "--samples", "-n", help="Postings to show per file."),
    columns: str = typer.Option(None, "--columns", help=COLUMNS_HELP),
) -> None:
    """Show what ingest would do with files (format, column mapping, rows, samples), writing nothing."""
    from rich.table import Table

    from ..ingest.preview import inspect_files
    from ..ingest.sources import SourceError

    with user_errors(SourceError):
        found = inspect_files(sources, samples, parse_columns(columns))
    for entry in found:
        s = entry.summary
        stdout.rule(f"[b]{s.file}[/b]")
        stdout.print(f"format: {s.format or '-'}   layout: {s.layout or '-'}   rows: {s.rows_read:,}   rejected: {s.rejected:,}", highlight=False)
        if s.note.startswith("error"):
            console.print(f"[red]{s.note}[/red]", highlight=False)
        if s.mapping:
            mapping = Table("field", "column", "confidence", box=None)
            for name, column in s.mapping.items():
                conf = s.confidence.get(name)
                mapping.add_row(name, column, "" if conf is None else f"{conf:.2f}")
            stdout.print(mapping)
        for warning in s.warnings:
            console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
        for reject in s.rejects[:3]:
            console.print(f"[yellow]reject[/yellow] row {reject.row}: {reject.reason}", highlight=False)
        for i, sample in enumerate(entry.samples, 1):
            text = (sample.pop("description", "") or "").replace("\n", " ")
            head = " | ".join(str(v) for v in sample.values())
            stdout.print(f"[b]{i}.[/b] {head}\n   {text[:160]}{'…' if len(text) > 160 else ''}", highlight=False)
