"""What every command shares: the console, and turning our errors into a clean exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

console = Console(stderr=True)  # summaries and errors; stdout stays clean for data
stdout = Console()


@contextmanager
def user_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Errors the user can fix are printed as one red line and exit 1, without a traceback."""
    try:
        yield
    except kinds as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
