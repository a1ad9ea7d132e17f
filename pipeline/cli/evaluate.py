from __future__ import annotations

import json
from pathlib import Path

import typer

from . import app
from .common import COLUMNS_HELP, console, parse_columns, user_errors
from .train import print_metrics


@app.command("evaluate")
def evaluate_cli(
    labelled: list[str] = typer.Argument(..., help="Labelled postings the model did not see (a `role` column)."),
    model: Path = typer.Option(None, "--model", "-m", help="Model folder; default: the shipped model."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON on stdout."),
    columns: str = typer.Option(None, "--columns", help=COLUMNS_HELP),
) -> None:
    """Measure a model on labelled postings: accuracy, macro-F1, module accuracy, per role."""
    from ..ingest.sources import SourceError
    from ..model_store import ModelError
    from ..taxonomy import TaxonomyError
    from ..train import TrainingDataError, evaluate

    with user_errors(TrainingDataError, SourceError, TaxonomyError, ModelError):
        metrics = evaluate(labelled, model, parse_columns(columns))
    for problem in metrics["problems"]:
        console.print(f"[yellow]left out:[/yellow] {problem}", highlight=False)
    if as_json:
        typer.echo(json.dumps(metrics, ensure_ascii=False, indent=2))
    else:
        print_metrics(metrics, f"model {metrics['model_id']}")
