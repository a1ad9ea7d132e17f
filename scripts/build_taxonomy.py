"""Rebuild data/taxonomy.json from the spec, ../shared/spec/taxonomy.md (the single source of truth), and
data/business_types.json (+ a copy of the spec as data/business_types.md) from
../shared/spec/business_types.md.

Usage: python scripts/build_taxonomy.py [--spec PATH] [--business-spec PATH]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULE_HEADING = re.compile(r"^## Module `(\w+)` (\S+) — (.+)$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text: str) -> dict:
    modules, roles, module = [], [], None
    rules: list[str] = []
    in_rules = False
    for line in text.splitlines():
        heading = MODULE_HEADING.match(line)
        if heading:
            module_id, zh, desc = heading.groups()
            modules.append({"id": module_id, "zh": zh, "en": module_id.capitalize(), "description": desc})
            module = module_id
            in_rules = False
            continue
        if line.startswith("## Boundaries"):
            in_rules, module = True, None
            continue
        if in_rules and line.startswith("- "):
            rules.append(line[2:].strip())
        elif in_rules and line.startswith("  ") and rules:
            rules[-1] += " " + line.strip()
        if module and line.startswith("|") and not line.startswith("| id") and not line.startswith("|---"):
            rid, zh, en, definition, titles = _cells(line)
            roles.append(
                {
                    "id": rid,
                    "zh": zh,
                    "en": en,
                    "module": module,
                    "definition": definition,
                    "typical_titles": [t.strip() for t in titles.split(",") if t.strip()],
                }
            )
    return {
        "source": "shared/spec/taxonomy.md",
        "modules": modules,
        "roles": roles,
        "other": {"id": "other", "zh": "其他", "en": "Other"},
        "rules": rules,
    }


# The study's three to-B business types; `to_c` and `unclear` are the other answers.
TO_B_TYPES = {"platform", "service", "hardware"}


def parse_business_types(text: str) -> dict:
    types, rules, in_rules = [], [], False
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("| id") and not line.startswith("|---"):
            tid, zh, what, examples = _cells(line)
            types.append({"id": tid, "zh": zh, "to_b": tid in TO_B_TYPES, "definition": what, "examples": examples})
        elif line.startswith("Rules:"):
            in_rules = True
        elif in_rules and line.startswith("- "):
            rules.append(line[2:].strip())
        elif in_rules and line.startswith("  ") and rules:
            rules[-1] += " " + line.strip()
    return {"source": "shared/spec/business_types.md", "types": types, "rules": rules}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=Path, default=REPO.parent / "shared" / "spec" / "taxonomy.md")
    parser.add_argument("--business-spec", type=Path, default=REPO.parent / "shared" / "spec" / "business_types.md")
    args = parser.parse_args()
    spec = args.business_spec.read_text(encoding="utf-8")
    (REPO / "data" / "business_types.md").write_text(spec, encoding="utf-8")
    business = parse_business_types(spec)
    (REPO / "data" / "business_types.json").write_text(json.dumps(business, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote data/business_types.json: {[t['id'] for t in business['types']]}")
    taxonomy = parse(args.spec.read_text(encoding="utf-8"))
    out = REPO / "data" / "taxonomy.json"
    out.write_text(json.dumps(taxonomy, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(taxonomy['roles'])} roles in {len(taxonomy['modules'])} modules")


if __name__ == "__main__":
    main()
