from __future__ import annotations

import json

import typer

from ..taxonomy import taxonomy
from . import app
from .common import stdout


def roles_table() -> list[dict]:
    t = taxonomy()
    rows = []
    for role in t.roles:
        module = t.module(role.module) if role.module else None
        rows.append(
            {
                "module": role.module or "",
                "module_zh": module.zh if module else "",
                "id": role.id,
                "zh": role.zh,
                "en": role.en,
                "typical_titles": list(role.typical_titles),
            }
        )
    return rows


@app.command("roles")
def roles_cli(as_json: bool = typer.Option(False, "--json", help="Print JSON for machines.")) -> None:
    """Print the taxonomy: 25 roles in 3 modules, plus `other`."""
    rows = roles_table()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table("module", "id", "中文", "English")
    for r in rows:
        table.add_row(f"{r['module']} {r['module_zh']}".strip() or "-", r["id"], r["zh"], r["en"])
    stdout.print(table)
