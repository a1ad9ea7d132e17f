"""Scraped text is data, never code: real ads with their fields replaced by hostile payloads, through
ingest → classify (every format) → report (every format)."""

import json
import re

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.batch import classify_files
from pipeline.cli import app
from pipeline.ingest import ingest
from pipeline.report import build_report, load_classified, write_report

PAYLOADS = [
    "=1+2",
    '=HYPERLINK("http://127.0.0.1/x","点我")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "<script>alert(1)</script>客服",
    '<img src=x onerror="alert(1)">销售',
    "javascript:alert(1)",
    "\x1b[31m红色标题\x1b[0m",
    "\u202e反转的标题\u202c",
    "空\x00字\x07符",
    "零\u200b宽\u2066字\u2069符",
]
HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@pytest.fixture(scope="module")
def hostile_postings(tmp_path_factory, labels):
    """Real labelled ads, each with a payload as title and company, one with a 1 MB title."""
    folder = tmp_path_factory.mktemp("hostile")
    ads = labels.dropna(subset=["description"]).head(len(PAYLOADS) + 1).reset_index(drop=True)
    ads = ads[["title", "company", "description"]].copy()
    ads.loc[: len(PAYLOADS) - 1, "title"] = PAYLOADS
    ads.loc[: len(PAYLOADS) - 1, "company"] = PAYLOADS[::-1]
    ads.loc[3, "description"] = "<script>document.location='http://127.0.0.1/'</script>" + ads.loc[3, "description"]
    ads.loc[len(PAYLOADS), "title"] = "运营" * 500_000  # 1 MB
    source = folder / "hostile.csv"
    ads.to_csv(source, index=False)
    postings = folder / "postings.parquet"
    result, _ = ingest([source], postings)
    return folder, source, postings, result


def test_cleaning_removes_and_counts_hidden_characters(hostile_postings):
    _, _, postings, result = hostile_postings
    frame = pd.read_parquet(postings)
    assert len(frame) == len(PAYLOADS) + 1
    for column in ("title", "company", "description"):
        assert not frame[column].fillna("").str.contains(HIDDEN).any(), column
    assert frame["title"].tolist()[10:14] == ["红色标题", "反转的标题", "空字符", "零宽字符"]
    assert result.files[0].hidden_characters >= 10


def _formula_cells(path) -> list:
    workbook = openpyxl.load_workbook(path)
    return [(s.title, c.coordinate, c.value) for s in workbook.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".jsonl"])
def test_classify_outputs_keep_payloads_as_text(hostile_postings, suffix):
    folder, _, postings, _ = hostile_postings
    out = folder / f"classified{suffix}"
    classify_files([postings], out)
    cleaned = pd.read_parquet(postings)
    if suffix == ".xlsx":
        assert _formula_cells(out) == []
        back = pd.read_excel(out, dtype=str)
    elif suffix == ".csv":
        back = pd.read_csv(out, dtype=str, keep_default_na=False, na_values=[""])
    elif suffix == ".jsonl":
        back = pd.read_json(out, lines=True, dtype=False)
    else:
        back = pd.read_parquet(out)
    for column in ("title", "company"):
        expected = cleaned[column].tolist()
        got = back[column].tolist()
        if suffix == ".xlsx":  # a cell holds at most 32,767 characters
            assert got[-1] == expected[-1][:32_767]
            expected, got = expected[:-1], got[:-1]
        assert got == expected, (suffix, column)


def test_excel_safe_csv_quotes_formula_cells_and_the_default_stays_lossless(hostile_postings):
    folder, source, _, _ = hostile_postings
    runner = CliRunner()
    plain, safe = folder / "plain.csv", folder / "safe.csv"
    assert runner.invoke(app, ["classify", str(source), "-o", str(plain)]).exit_code == 0
    assert runner.invoke(app, ["classify", str(source), "-o", str(safe), "--excel-safe"]).exit_code == 0
    original = pd.read_csv(source, dtype=str)["title"].tolist()
    assert pd.read_csv(plain, dtype=str)["title"].tolist() == original
    quoted = pd.read_csv(safe, dtype=str)["title"]
    for value, payload in zip(quoted, PAYLOADS):
        assert value == ("'" + payload if payload.startswith(("=", "+", "-", "@", "\t")) else payload)


def test_reports_escape_everything_and_forbid_scripts(hostile_postings):
    folder, _, postings, _ = hostile_postings
    classified = folder / "for_report.parquet"
    classify_files([postings], classified)
    report = build_report(load_classified([classified]))
    html = write_report(report, folder / "report.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="Content-Security-Policy"' in html and "script-src 'none'" in html
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "onerror=" not in lowered.replace("onerror=&quot;", "")
    assert 'href="javascript:' not in lowered
    assert _formula_cells(write_report(report, folder / "report.xlsx")) == []
    markdown = write_report(report, folder / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown
    json.loads(write_report(report, folder / "report.json").read_text(encoding="utf-8"))
