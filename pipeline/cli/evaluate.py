from __future__ import annotations

import json
from pathlib import Path

import typer

from . import app
from .common import COLUMNS_HELP, console, parse_columns, user_errors
from .train import print_metrics, print_side_by_side


@app.command("evaluate")
def evaluate_cli(
    labelled: list[str] = typer.Argument(..., metavar="LABELLED...", help="Labelled postings the model did not see (a `role` column)."),
    model: list[Path] = typer.Option(None, "--model", "-m", help="Model folder; default: the shipped model. Give it twice to compare two models on the same ads."),
    disagreements: Path = typer.Option(None, "--disagreements", help="With two models: write the ads on which they disagree here (.xlsx, .csv, ...)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON on stdout."),
    columns: str = typer.Option(None, "--columns", help=COLUMNS_HELP),
) -> None:
    """Measure a model on labelled postings: accuracy, macro-F1, module accuracy, per role; or two side by side."""
    from ..ingest.sources import SourceError
    from ..model_store import ModelError
    from ..outputs import OutputError
    from ..taxonomy import TaxonomyError
    from ..train import TrainingDataError, compare_models

    models = list(model) if model else [None]
    with user_errors(TrainingDataError, SourceError, TaxonomyError, ModelError, OutputError, ValueError):
        if len(models) > 2:
            raise ValueError("give at most two --model folders")
        results = compare_models(labelled, models, parse_columns(columns), disagreements)
    for problem in results[0]["problems"]:
        console.print(f"[yellow]left out:[/yellow] {problem}", highlight=False)
    if as_json:
        typer.echo(json.dumps(results[0] if len(results) == 1 else results, ensure_ascii=False, indent=2))
    elif len(results) == 1:
        print_metrics(results[0], f"model {results[0]['model_id']}")
    else:
        a, b = results
        print_side_by_side(a, b, f"A {a['model_id']}", f"B {b['model_id']}", f"{a['samples']:,} labelled ads")
        if disagreements is not None:
            console.print(f"{a['disagreements']:,} ads on which they disagree: {disagreements}")
