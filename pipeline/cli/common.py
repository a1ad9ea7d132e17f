"""What every command shares: the console, and turning our errors into a clean exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

# Summaries, progress and warnings go to stderr, results to stdout. Off a terminal (a file, a pipe, a
# notebook's capture) rich would cut tables at 80 columns: give them room instead.
WIDTH_OFF_TERMINAL = 200
console = Console(stderr=True)
stdout = Console()
for _console in (console, stdout):
    if not _console.is_terminal:
        _console.width = WIDTH_OFF_TERMINAL


@contextmanager
def user_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Errors the user can fix are printed as one red line and exit 1, without a traceback."""
    try:
        yield
    except kinds as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


COLUMNS_HELP = "Which column holds which field, beating inference: title=岗位名称,description=岗位需求 (fields: title, description, requirements, company, city, salary, ...)."


def parse_columns(value: str | None) -> dict[str, str] | None:
    """'title=岗位名称,description=岗位需求' → {"title": "岗位名称", "description": "岗位需求"}."""
    if not value:
        return None
    pairs = {}
    for item in value.split(","):
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise typer.BadParameter(f"{item!r}: give FIELD=COLUMN pairs separated by commas, e.g. title=岗位名称,description=岗位需求")
        pairs[name.strip()] = column.strip()
    return pairs


def warn_unreadable(lines: list[str], shown: int = 5) -> None:
    """Rows of the input that could not be read and so are in no result: never left unsaid."""
    if lines:
        more = f" (and {len(lines) - shown:,} more)" if len(lines) > shown else ""
        console.print(f"[yellow]{len(lines):,} row(s) could not be read and are not counted[/yellow]: {'; '.join(lines[:shown])}{more}", highlight=False, soft_wrap=True)
