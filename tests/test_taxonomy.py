import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.taxonomy import TAXONOMY_PATH, TaxonomyError, load_taxonomy, taxonomy


def test_taxonomy_has_25_roles_in_3_modules_plus_other():
    t = taxonomy()
    assert len(t.modules) == 3
    assert [m.id for m in t.modules] == ["acquisition", "conversion", "service"]
    roles = [r for r in t.roles if r.id != "other"]
    assert len(roles) == 25 and len(set(r.id for r in roles)) == 25
    assert all(r.module in {"acquisition", "conversion", "service"} for r in roles)
    assert t.module_of("other") is None


def test_labels_resolve_from_id_chinese_and_english_names():
    t = taxonomy()
    assert t.resolve("customer_success") == "customer_success"
    assert t.resolve("客户成功") == "customer_success"
    assert t.resolve(" 其他 ") == "other"
    assert t.resolve("Sales") == "sales"
    with pytest.raises(TaxonomyError, match="unknown role '运营大师'"):
        t.resolve("运营大师")


def test_taxonomy_matches_the_spec_copy():
    """data/taxonomy.json round-trips: the JSON the loader validates is what build_taxonomy wrote."""
    raw = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))
    t = load_taxonomy()
    assert [r["id"] for r in raw["roles"]] == [r.id for r in t.roles if r.id != "other"]
    assert {r["zh"] for r in raw["roles"]} == {r.zh for r in t.roles if r.id != "other"}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["roles"].pop(), "expected 25 roles"),
        (lambda d: d["roles"][1].update(id=d["roles"][0]["id"]), "duplicate role ids"),
        (lambda d: d["roles"][0].update(module="nowhere"), "unknown module"),
    ],
)
def test_broken_taxonomy_files_are_refused(tmp_path, edit, message):
    data = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(path)


def test_roles_command_prints_table_and_json():
    runner = CliRunner()
    result = runner.invoke(app, ["roles"])
    assert result.exit_code == 0
    assert "客户成功" in result.output and "拉新获客" in result.output
    result = runner.invoke(app, ["roles", "--json"])
    rows = json.loads(result.output)
    assert len(rows) == 26 and rows[-1]["id"] == "other"
