"""The `tobroles` command line: one module per command, each a thin layer over the Python API."""

from __future__ import annotations

import logging

import typer
from rich.logging import RichHandler

app = typer.Typer(
    name="tobroles",
    help="Classify Chinese job ads into 25 to-B operations roles (3 modules) and report the role distribution.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _configure(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what each stage decides.")) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(show_time=False, show_path=False)],
    )


from . import classify, evaluate, ingest, inspect, report, roles, run, train  # noqa: E402,F401  (registers commands)


def main() -> None:
    app()
