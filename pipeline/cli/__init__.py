"""The `tobroles` command line: one module per command, each a thin layer over the Python API.

Command modules import their stage (pandas, scikit-learn, skops) inside the command, so that
`tobroles --help`, `roles` and `inspect` answer without loading the classifier's libraries.
"""

from __future__ import annotations

import logging

import typer

app = typer.Typer(
    name="tobroles",
    help="Classify Chinese job ads into 25 to-B operations roles (3 modules) and report the role distribution.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tobroles {version('tobroles')}")
        raise typer.Exit()


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what each stage decides."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(show_time=False, show_path=False)],
    )


from . import classify, evaluate, ingest, inspect, report, review, roles, run, train  # noqa: E402,F401  (registers commands)


def main() -> None:
    app()
