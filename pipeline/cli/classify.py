from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer
from . import app
from .common import COLUMNS_HELP, console, parse_columns, user_errors


class Engine(str, Enum):
    local = "local"
    dask = "dask"


def print_classify_summary(result) -> None:
    from rich.table import Table

    table = Table("rows in", "rejected", "rows out", *result.status, title="classify")
    table.add_row(f"{result.rows_in:,}", f"{result.rejected:,}", f"{result.rows_out:,}", *(f"{n:,}" for n in result.status.values()))
    console.print(table)
    for f in result.unreadable:
        console.print(f"[red]not read:[/red] {f.file}: {f.note.removeprefix('error: ').removeprefix(f'{f.file}: ')}", highlight=False, soft_wrap=True)
    for file, warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {file}: {warning}", highlight=False, soft_wrap=True)
    if result.rejected or result.unreadable:
        if result.rejects:
            where = f"listed with file, row and reason in {result.rejects}"
        else:
            from ..ingest import reject_lines

            where = "; ".join(reject_lines(result.files))
        counts = f"{result.rejected:,} row(s)" + (f" and {len(result.unreadable)} file(s)" if result.unreadable else "")
        console.print(f"[yellow]{counts} could not be read[/yellow], {where}", highlight=False, soft_wrap=True)
    rate = result.rows_out / result.seconds if result.seconds else 0
    console.print(f"model {result.model_id}: wrote {result.output} in {result.seconds:.1f}s ({rate:,.0f} postings/s)")


@app.command("classify")
def classify_cli(
    inputs: list[str] = typer.Argument(..., metavar="INPUT...", help="Posting files, folders, .zip archives or http(s) URLs."),
    output: str = typer.Option(..., "--output", "-o", help="Output: .csv, .parquet, .jsonl or .xlsx ('-' = CSV on stdout); a folder with --engine dask."),
    model: Path = typer.Option(None, "--model", "-m", help="Model folder; default: the shipped model."),
    columns: str = typer.Option(None, "--columns", help=COLUMNS_HELP),
    engine: Engine = typer.Option(Engine.local, help="local: this machine; dask: map_partitions on a Dask cluster."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes (local) or LocalCluster workers (dask); 0: one per core (up to 4); local: only once a chunk holds half of --chunk-size rows."),
    chunk_size: int = typer.Option(20_000, help="Rows per chunk (local engine): memory is bounded by a few chunks; dask partitions follow the input files."),
    scheduler: str = typer.Option(None, help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    top_k: int = typer.Option(3, help="How many alternative roles to list."),
    min_confidence: float = typer.Option(None, help="Below this confidence a row gets status `review`; default: the model's review threshold (the 20% least confident rows in its cross-validation, which held most of its errors)."),
    min_margin: float = typer.Option(0.1, help="If the top two roles are closer than this, status `review`."),
    explain: bool = typer.Option(False, "--explain", help="Add the terms that drove each label."),
    excel_safe: bool = typer.Option(False, "--excel-safe", help="CSV: prefix cells that start with = + - @ with ' so that a spreadsheet shows them as text (changes the values; xlsx output is always safe)."),
    bom: bool = typer.Option(False, "--bom", help="CSV: start with a UTF-8 byte order mark, so that Excel on a Chinese Windows shows the text instead of mojibake."),
) -> None:
    """Add role, module, confidence and status columns to every row of posting files."""
    from ..batch import MAX_AUTO_JOBS, ClassifyOptions, WorkerError, classify_dask, classify_files, usable_cores
    from ..ingest.sources import SourceError
    from ..model_store import ModelError
    from ..outputs import OutputError

    with user_errors(SourceError, ModelError, OutputError, ValueError, WorkerError):
        options = ClassifyOptions(top_k=top_k, min_confidence=min_confidence, min_margin=min_margin, explain=explain)
        fields = parse_columns(columns)
        if engine is Engine.dask:
            result = classify_dask(inputs, output, model_path=model, options=options, columns=fields, scheduler=scheduler, workers=jobs or min(usable_cores(), MAX_AUTO_JOBS))
        else:
            result = classify_files(inputs, output, model=model, options=options, columns=fields, jobs=jobs, chunk_rows=chunk_size, progress=output != "-", excel_safe=excel_safe, bom=bom)
    print_classify_summary(result)
