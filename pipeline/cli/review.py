from __future__ import annotations

from pathlib import Path

import typer

from . import app
from .common import console, user_errors, warn_unreadable


@app.command("review")
def review_cli(
    classified: list[str] = typer.Argument(..., metavar="CLASSIFIED...", help="Output files of `tobroles classify`."),
    n: int = typer.Option(200, "-n", help="How many ads to pick (one per distinct ad)."),
    output: Path = typer.Option(..., "--output", "-o", help="to_label.xlsx (a sheet with a drop-down of the 26 labels) or tasks.json (Label Studio tasks, with its labelling config beside)."),
    strategy: str = typer.Option("uncertain", help="uncertain: smallest top-two margins, half spread over the predicted roles; rare: an equal share per predicted role; random: a uniform sample."),
    seed: int = typer.Option(0, help="Random seed (strategy random)."),
) -> None:
    """Pick the classified ads most worth a person's look and export them for labelling."""
    from ..ingest.sources import SourceError
    from ..report import load_classified
    from ..report import ReportError
    from ..review import CLASSIFIED_COLUMNS, ReviewError, select_for_review, write_review

    with user_errors(SourceError, ReviewError, ReportError):
        frame = load_classified(classified, CLASSIFIED_COLUMNS)
        warn_unreadable(frame.attrs["unreadable"])
        selected = select_for_review(frame, n, strategy, seed)
        models = frame["model"].dropna().unique().tolist() if "model" in frame.columns else []
        export = write_review(selected, output, models[0] if len(models) == 1 else None)
    roles = selected["role"].value_counts()
    console.print(f"picked {export.rows:,} distinct ads ({strategy}) over {len(roles)} predicted roles; wrote {export.path}" + (f" and {export.config}" if export.config else ""))
    if export.config:  # Label Studio tasks hold no labels: the export of the labelled project does
        console.print(f"import {export.path} into Label Studio with the labelling config {export.config}, label, export the project as JSON, then: tobroles train --add EXPORT.json -o models/mine", highlight=False)
    else:
        console.print(f"fill `role` (and `sure`), then: tobroles train --add {export.path} -o models/mine", highlight=False)
