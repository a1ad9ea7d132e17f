"""The 25 to-B operations roles in 3 modules, plus `other`, loaded from data/taxonomy.json.

The JSON is a machine-readable copy of the spec (scripts/build_taxonomy.py rebuilds it); this module
validates it on load so that a broken copy fails loudly instead of mislabelling postings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_MODEL = DATA_DIR.parent / "models" / "default"
TAXONOMY_PATH = DATA_DIR / "taxonomy.json"
OTHER = "other"
EXPECTED_ROLES = 25
EXPECTED_MODULES = 3


class TaxonomyError(ValueError):
    """The taxonomy file is malformed, or a label does not name a role."""


@dataclass(frozen=True)
class Module:
    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class Role:
    id: str
    zh: str
    en: str
    module: str | None  # None only for `other`
    definition: str
    typical_titles: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    modules: tuple[Module, ...]
    roles: tuple[Role, ...]  # the 25 roles in spec order, then `other`
    hash: str

    @property
    def role_ids(self) -> list[str]:
        return [r.id for r in self.roles]

    def role(self, role_id: str) -> Role:
        return self._by_id[role_id]

    def module(self, module_id: str) -> Module:
        return self._modules[module_id]

    def module_of(self, role_id: str) -> str | None:
        return self._by_id[role_id].module

    def roles_in(self, module_id: str) -> list[Role]:
        return [r for r in self.roles if r.module == module_id]

    def label(self, role_id: str) -> str:
        """'客服 (customer_service)': how review sheets show a role, readable and unambiguous."""
        return f"{self.role(role_id).zh} ({role_id})"

    def resolve(self, label: object) -> str:
        """Map a user's label (role id, Chinese name, English name or `label()`) to the role id."""
        key = str(label).strip() if label is not None else ""
        found = self._lookup.get(key) or self._lookup.get(key.lower())
        if found is None:
            raise TaxonomyError(
                f"unknown role {label!r}: expected one of the {EXPECTED_ROLES} role ids, their Chinese "
                f"names, or '{OTHER}'/其他 (see `tobroles roles`)"
            )
        return found

    def __post_init__(self) -> None:
        by_id = {r.id: r for r in self.roles}
        lookup: dict[str, str] = {}
        for r in self.roles:
            for name in (r.id, r.zh, r.en, r.en.lower(), f"{r.zh} ({r.id})"):
                lookup[name] = r.id
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_modules", {m.id: m for m in self.modules})
        object.__setattr__(self, "_lookup", lookup)


def _validate(raw: dict, path: Path) -> None:
    modules = raw.get("modules", [])
    roles = raw.get("roles", [])
    module_ids = [m["id"] for m in modules]
    role_ids = [r["id"] for r in roles]
    problems = []
    if len(module_ids) != EXPECTED_MODULES or len(set(module_ids)) != len(module_ids):
        problems.append(f"expected {EXPECTED_MODULES} distinct modules, found {module_ids}")
    if len(role_ids) != EXPECTED_ROLES:
        problems.append(f"expected {EXPECTED_ROLES} roles, found {len(role_ids)}")
    dupes = sorted({i for i in role_ids if role_ids.count(i) > 1})
    if dupes:
        problems.append(f"duplicate role ids {dupes}")
    zh = [r["zh"] for r in roles]
    if len(set(zh)) != len(zh):
        problems.append("duplicate Chinese role names")
    if OTHER in role_ids:
        problems.append(f"'{OTHER}' must not be one of the {EXPECTED_ROLES} roles")
    for r in roles:
        if r.get("module") not in module_ids:
            problems.append(f"role {r['id']!r} is in unknown module {r.get('module')!r}")
    for m in module_ids:
        if not any(r.get("module") == m for r in roles):
            problems.append(f"module {m!r} has no roles")
    if problems:
        raise TaxonomyError(f"{path}: " + "; ".join(problems))


def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    data = Path(path).read_bytes()
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"{path}: not valid JSON ({exc})") from exc
    _validate(raw, Path(path))
    other = raw["other"]
    roles = [
        Role(r["id"], r["zh"], r["en"], r["module"], r["definition"], tuple(r["typical_titles"]))
        for r in raw["roles"]
    ]
    roles.append(Role(other["id"], other["zh"], other["en"], None, "none of the 25 roles", ()))
    return Taxonomy(
        modules=tuple(Module(m["id"], m["zh"], m["en"]) for m in raw["modules"]),
        roles=tuple(roles),
        hash=hashlib.sha256(data).hexdigest()[:16],
    )


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    """The bundled taxonomy, loaded once per process."""
    return load_taxonomy()
