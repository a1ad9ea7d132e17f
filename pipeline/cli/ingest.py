from __future__ import annotations

from pathlib import Path

import typer

from . import app
from .common import COLUMNS_HELP, console, parse_columns, user_errors


def print_ingest_summary(result) -> None:
    from rich.table import Table

    table = Table(title="ingest")
    table.add_column("file", overflow="fold", ratio=3)
    for name in ("layout", "rows read", "kept", "duplicates", "rejected"):
        table.add_column(name, justify="left" if name == "layout" else "right")
    table.add_column("note", overflow="fold", ratio=2)
    inferred = [f for f in result.files if f.layout in ("inferred", "given")]
    for f in result.files:
        style = "yellow" if f.warnings else None
        note = "mapping below" if f in inferred else f.note
        hidden = f"{f.hidden_characters:,} hidden/control characters removed" if f.hidden_characters else ""
        note = "; ".join(filter(None, [*f.warnings, note, hidden]))
        table.add_row(f.file, f.layout, f"{f.rows_read:,}", f"{f.kept:,}", f"{f.duplicates:,}", f"{f.rejected:,}", note, style=style)
    table.add_row("[b]total[/b]", "", f"{result.rows_read:,}", f"{result.kept:,}", f"{result.duplicates:,}", f"{result.rejected:,}", "")
    console.print(table)
    for f in inferred:
        console.print(f"[b]{f.file}[/b] ({f.format}): {f.note}", highlight=False, soft_wrap=True)
    for file, warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {file}: {warning}", highlight=False, soft_wrap=True)


@app.command("ingest")
def ingest_cli(
    sources: list[str] = typer.Argument(..., metavar="SOURCE...", help="Files, folders, .zip archives or http(s) URLs."),
    output: Path = typer.Option(..., "--output", "-o", help="Output table: .parquet, .csv, .jsonl or .xlsx."),
    columns: str = typer.Option(None, "--columns", help=COLUMNS_HELP),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero, writing nothing, when a file is flagged (no description column, >20% merged or rejected)."),
    excel_safe: bool = typer.Option(False, "--excel-safe", help="CSV: prefix cells that start with = + - @ with ' for spreadsheets (changes the values)."),
) -> None:
    """Load scraped job ads into one clean table (rejected rows go to OUT's .rejects file)."""
    from ..ingest import IngestWarning, ingest
    from ..ingest.sources import SourceError
    from ..outputs import OutputError

    try:
        with user_errors(OutputError):
            result, _ = ingest(sources, output, progress=True, columns=parse_columns(columns), strict=strict, excel_safe=excel_safe)
    except IngestWarning as flagged:
        print_ingest_summary(flagged.result)
        console.print(f"[red]error:[/red] --strict: {len(flagged.result.warnings)} warning(s); nothing written", highlight=False)
        raise typer.Exit(1) from flagged
    except SourceError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    print_ingest_summary(result)
    console.print(f"wrote {result.kept:,} postings to {output} and {result.rejected:,} rejects to {result.rejects}")
