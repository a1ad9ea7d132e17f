"""What a new user meets with ordinary messy files, driven through the CLI: nothing scrambled, nothing
dropped without a trace, and the outputs of one command readable by the next."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.business import BUSINESS_COLUMNS
from pipeline.classify import OUTPUT_COLUMNS
from pipeline.cli import app
from pipeline.ingest import COLUMNS, rejects_path

from test_classify import read_any

REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def two_sheet_book(tmp_path_factory, corpus_sample):
    """Real postings in a workbook whose two sheets name and order their columns differently."""
    described = corpus_sample.dropna(subset=["title", "description", "company"])
    first = described.iloc[:4][["title", "company", "description"]]
    second = described.iloc[4:7][["description", "city", "title"]]
    path = tmp_path_factory.mktemp("book") / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        first.set_axis(["岗位名称", "公司", "岗位描述"], axis=1).to_excel(writer, sheet_name="甲", index=False)
        second.set_axis(["职位描述", "城市", "职位"], axis=1).to_excel(writer, sheet_name="乙", index=False)
    return path, pd.concat([first, second], ignore_index=True)


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl", "xlsx"])
def test_sheets_with_different_headers_are_mapped_each_on_its_own(tmp_path, two_sheet_book, suffix):
    book, expected = two_sheet_book
    out = tmp_path / f"out.{suffix}"
    result = invoke("classify", book, "-o", out)
    assert result.exit_code == 0, result.output
    frame = read_any(out)
    assert list(frame.columns) == COLUMNS + ["truncated"] + OUTPUT_COLUMNS + BUSINESS_COLUMNS, "every format carries the canonical columns"
    assert frame["title"].tolist() == expected["title"].tolist()
    # Cleaning may fold spaces and punctuation, but each description stays on its own row.
    for got, want in zip(frame["description"], expected["description"]):
        assert got[:20].replace(" ", "") in want.replace(" ", "").replace(",", "，") or want[:10] in got
    assert frame["raw_file"].str.endswith(("#甲", "#乙")).all()
    assert frame["raw_row"].tolist() == [1, 2, 3, 4, 1, 2, 3]


def test_report_reads_classify_output_with_the_inputs_own_headers(tmp_path, corpus_sample):
    described = corpus_sample.dropna(subset=["title", "description", "company"]).head(12)
    source = tmp_path / "职位.csv"
    described[["title", "company", "description"]].set_axis(["岗位名称", "公司名称", "岗位职责"], axis=1).to_csv(source, index=False)
    classified = tmp_path / "classified.csv"
    assert invoke("classify", source, "-o", classified).exit_code == 0
    assert "岗位名称" in pd.read_csv(classified).columns, "one table keeps its own columns"
    for suffix in ("html", "md", "json"):
        report = tmp_path / f"report.{suffix}"
        result = invoke("report", classified, "-o", report)
        assert result.exit_code == 0, result.output
    examples = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    titles = {row["title"] for row in examples["tables"]["examples_by_role"]}
    assert titles and titles <= set(described["title"]), "the examples are the input's own titles"


def test_a_record_with_too_many_fields_is_counted_and_kept_in_a_rejects_file(tmp_path, corpus_sample):
    rows = corpus_sample.dropna(subset=["title", "description", "company"]).head(8)[["title", "company", "city", "description"]]
    rows["description"] = rows["description"].str.replace(r"[\s,\"]+", " ", regex=True)
    lines = rows.fillna("").to_csv(index=False).splitlines()
    lines[4] += ",一个多余的字段,又一个"  # data row 4: 6 fields under a 4-column header
    source = tmp_path / "broken.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = invoke("classify", source, "-o", out)
    assert result.exit_code == 0, result.output
    assert "│ 8 " in result.output and "could not be read" in result.output, result.output
    written = pd.read_csv(out)
    assert len(written) == 7 and rows["title"].iloc[3] not in written["title"].tolist()
    rejects = pd.read_csv(rejects_path(out))
    assert rejects["raw_file"].tolist() == [str(source)] and rejects["raw_row"].tolist() == [4]
    assert "6 fields where the header has 4" in rejects["reason"].iloc[0]


def test_a_folder_with_an_unreadable_file_is_read_on(tmp_path, fixtures):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_bytes((fixtures / "liepin_cleaned.csv").read_bytes())
    (folder / "b.csv").write_bytes(b"\x00\x01\x02 not a table \x00" * 50)
    out = tmp_path / "out.parquet"
    result = invoke("classify", folder, "-o", out)
    assert result.exit_code == 0, result.output
    assert "not read:" in result.output and "b.csv" in result.output
    assert len(pd.read_parquet(out)) == 5
    rejects = pd.read_parquet(rejects_path(out))
    assert rejects["raw_file"].str.endswith("b.csv").all() and rejects["raw_row"].isna().all()


def test_a_clean_rerun_removes_the_stale_rejects_file(tmp_path, fixtures):
    out = tmp_path / "out.csv"
    stale = rejects_path(out)
    stale.write_text("raw_file,raw_row,reason\nold.csv,1,old\n", encoding="utf-8")
    assert invoke("classify", fixtures / "liepin_cleaned.csv", "-o", out).exit_code == 0
    assert not stale.exists()


def test_train_lists_the_records_it_could_not_read(tmp_path, labels):
    sample = labels.sample(300, random_state=3)[["title", "description", "role"]]
    sample["description"] = sample["description"].str.replace(r"[\s,\"]+", " ", regex=True)
    source = tmp_path / "labelled.csv"
    sample.to_csv(source, index=False)
    text = source.read_text(encoding="utf-8").splitlines()
    text.insert(5, "客服专员,负责售后,customer_service,多余")
    source.write_text("\n".join(text) + "\n", encoding="utf-8")
    from pipeline.train import load_labelled

    data = load_labelled([source])
    assert any("row 5" in p and "fields where the header has 3" in p for p in data.problems), data.problems
    assert len(data.frame) <= 300


TITLES = {
    "客户成功经理": "customer_success", "渠道经理": "channel_sales", "售前工程师": "presales",
    "大客户经理": "key_account", "ERP实施顾问": "implementation", "SEM竞价专员": "search_marketing",
    "客服专员": "customer_service", "新媒体运营": "new_media", "仓库管理员": "logistics", "电话销售": "inside_sales",
}


def test_a_file_of_titles_only_is_scored_by_the_title_view_and_warned_about(tmp_path, shipped_model):
    source = tmp_path / "titles.csv"
    pd.DataFrame({"职位名称": list(TITLES)}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    result = invoke("classify", source, "-o", out)
    assert result.exit_code == 0, result.output
    assert "no description column" in result.output
    frame = pd.read_csv(out)
    right = (frame["role"] == frame["职位名称"].map(TITLES)).mean()
    assert right >= 0.8, frame[["职位名称", "role", "confidence"]]
    # Title-only rows answer to the title view's threshold, measured on held-out titles.
    threshold = shipped_model.title_review_threshold
    assert threshold > shipped_model.review_threshold
    assert (frame.loc[frame["confidence"] < threshold, "status"] == "review").all()
    assert (frame["role"] != "other").all()


def test_the_title_view_is_calibrated_on_held_out_titles(shipped_model):
    title_only = shipped_model.metadata["cv_metrics"]["title_only"]
    assert title_only["confidence"]["ece"] < 0.08
    # Rows left `ok` are as reliable as full ads left ok, within the CV's noise.
    assert title_only["ok_accuracy"] >= title_only["target_accuracy"] - 0.01
    assert title_only["review_status"]["capture"] > title_only["review_status"]["share"]


def test_evaluate_reports_title_only_accuracy(tmp_path, labels):
    source = tmp_path / "labelled.csv"
    labels.sample(150, random_state=5)[["title", "description", "role", "sure"]].to_csv(source, index=False)
    result = CliRunner().invoke(app, ["evaluate", str(source), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert 0 < metrics["title_only"]["accuracy"] <= metrics["accuracy"]
    assert "review_status" in metrics["title_only"]


def test_a_degenerate_estimator_falls_back_with_a_warning(tmp_path, shipped_model):
    from pipeline.report import build_report, load_classified

    classified = tmp_path / "corpus.parquet"
    assert invoke("classify", REPO / "data" / "corpus.parquet", "-o", classified).exit_code == 0
    frame = load_classified([classified])
    report = build_report(frame, model_metadata=shipped_model.metadata, estimates="pacc")
    note = report.quality["estimates"]
    assert note.startswith("WARNING: the pacc estimates were unstable") and "banded" in note
    summary = report.summary.set_index("role")
    labelled = frame["role"].value_counts()
    for role in ("customer_service", "sales", "new_media"):
        assert summary.loc[role, "estimate"] > 0.5 * labelled[role]
    result = invoke("report", classified, "-o", tmp_path / "r.md", "--estimates", "pacc")
    assert result.exit_code == 0 and "unstable" in result.output
    assert "unstable" in (tmp_path / "r.md").read_text(encoding="utf-8")
    # The default estimator on the same postings is not flagged.
    banded = build_report(frame, model_metadata=shipped_model.metadata)
    assert not banded.quality["estimates"].startswith("WARNING")


# ----------------------------------------------------------------------------- layouts scrapers write


@pytest.fixture(scope="module")
def postings(corpus_sample):
    """Real postings with a title, company, city and a description of several sentences."""
    rows = corpus_sample.dropna(subset=["title", "company", "city", "description"])
    rows = rows[rows["description"].str.len().between(80, 3000)].head(12).reset_index(drop=True)
    assert len(rows) == 12
    return rows


def ingested(tmp_path, source, *extra):
    out = tmp_path / "out.parquet"
    result = invoke("ingest", source, "-o", out, *extra)
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out), result.output


def test_a_sqlite_database_every_table_that_holds_postings(tmp_path, postings):
    import sqlite3

    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("create table job (id integer primary key, job_name text, company_name text, work_city text, job_desc text, crawl_time real)")
        db.executemany("insert into job values (?, ?, ?, ?, ?, ?)", [(i + 1, r.title, r.company, r.city, r.description, 1.7e9) for i, r in enumerate(postings.itertuples())])
        db.execute("create table spider_state (last_page integer, finished integer)")
        db.execute("insert into spider_state values (12, 1)")
        db.execute("create table intern (title text, company text, description text)")
        db.execute("insert into intern values (?, ?, ?)", (postings["title"][0] + "实习生", postings["company"][0], postings["description"][0]))
    frame, output = ingested(tmp_path, path)
    assert len(frame) == len(postings) + 1
    assert frame["title"].head(len(postings)).tolist() == postings["title"].tolist()
    assert frame["raw_file"].str.endswith(("#job", "#intern")).all()
    assert "spider_state" in output, "the table that holds no postings is named, not passed over in silence"


def test_sqlite_detail_tables_are_joined_onto_their_list_table(tmp_path, postings):
    """A scraper that keeps the list page (title, company) and the detail page (description) in two
    tables: each posting comes out whole; rows of either without a match are kept; tables that merely
    number their own rows (id 1..n) are never joined on those numbers."""
    import sqlite3

    n = len(postings)
    path = tmp_path / "scrape.db"
    with sqlite3.connect(path) as db:
        db.execute("create table job_list (id integer primary key, job_id text, title text, company_id integer)")
        db.executemany("insert into job_list values (?, ?, ?, ?)", [(i + 1, f"J{i}", r.title, 900 + i % 3) for i, r in enumerate(postings.itertuples())])
        db.execute("create table job_detail (id integer primary key, job_id text, description text)")
        # Every detail but the first, and one detail whose list row the scraper never saved.
        db.executemany("insert into job_detail values (?, ?, ?)", [(i + 1, f"J{i}", r.description) for i, r in enumerate(postings.itertuples()) if i > 0])
        db.execute("insert into job_detail values (?, ?, ?)", (999, "J-orphan", postings["description"][0]))
        db.execute("create table companies (company_id integer, name text, industry text)")
        db.executemany("insert into companies values (?, ?, ?)", [(900 + k, postings["company"][k], "互联网") for k in range(3)])
        db.execute("create table log (id integer primary key, message text)")
        db.executemany("insert into log values (?, ?)", [(i + 1, "page done") for i in range(n)])
    frame, output = ingested(tmp_path, path)
    assert len(frame) == n + 1, "every list row once, and the detail row without a list row"
    listed = frame[frame["raw_file"].str.endswith("#job_list")].reset_index(drop=True)
    assert listed["title"].tolist() == postings["title"].tolist()
    assert listed["description"].isna().tolist() == [True] + [False] * (n - 1)
    assert listed["description"].iloc[1:].tolist() == postings["description"].iloc[1:].tolist()
    assert listed["company"].tolist() == [postings["company"][i % 3] for i in range(n)]
    assert listed["industry"].eq("互联网").all()
    orphan = frame[~frame["raw_file"].str.endswith("#job_list")]
    assert orphan["description"].tolist() == [postings["description"][0]] and orphan["title"].isna().all()
    assert "'job_detail' joined by job_id" in output and "'companies' joined by company_id" in output
    assert "log" in output and "message" not in frame.columns, "the log is not joined by its own row numbers"


def test_big5_files_are_decoded_by_how_well_they_read(tmp_path, postings):
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    table = postings[["title", "company", "description"]].map(to_traditional.convert)
    table.columns = ["職位名稱", "公司名稱", "職位描述"]
    path = tmp_path / "104.csv"
    path.write_bytes(table.to_csv(index=False).encode("cp950", errors="ignore"))
    frame, output = ingested(tmp_path, path)
    assert "cp950" in output
    assert frame["title"].tolist() == table["職位名稱"].str.encode("cp950", errors="ignore").str.decode("cp950").tolist()
    assert frame["description"].notna().all()
    # The same ads classify as their simplified originals do.
    classified = tmp_path / "classified.csv"
    assert invoke("classify", path, "-o", classified).exit_code == 0
    original = tmp_path / "original.csv"
    postings[["title", "company", "description"]].to_csv(original, index=False)
    assert invoke("classify", original, "-o", tmp_path / "o.csv").exit_code == 0
    agree = (pd.read_csv(classified)["role"] == pd.read_csv(tmp_path / "o.csv")["role"]).mean()
    assert agree >= 0.8


def test_json_postings_inside_lists_of_a_record_inherit_its_fields(tmp_path, postings):
    roles = []
    for r in postings.head(4).itertuples():
        roles.append({
            "name": r.title, "company": {"fullName": r.company}, "jobDescription": r.description,
            "variants": [{"title": f"{r.title}（{city}）", "job_id": f"V{r.Index}{k:03d}", "city": city} for k, city in enumerate(["北京", "上海", "深圳"])],
        })
    path = tmp_path / "careers.json"
    path.write_text(json.dumps({"code": 0, "data": {"roles": roles}}, ensure_ascii=False), encoding="utf-8")
    frame, _ = ingested(tmp_path, path)
    assert len(frame) == 12
    assert frame["city"].tolist() == ["北京", "上海", "深圳"] * 4
    assert (frame["description"].str.len() > 50).all(), "the description comes from the parent record"
    assert frame["posting_id"].str.startswith("V").all()


@pytest.mark.parametrize("key, rule", [("{}：", "*" * 36), ("【{}】", "-" * 40)])
def test_a_text_report_of_key_value_blocks_between_rule_lines(tmp_path, postings, key, rule):
    lines = ["招聘信息导出报告", "导出时间：2024-03-01 10:00", rule]
    for r in postings.itertuples():
        lines += [key.format("职位名称") + r.title, key.format("公司名称") + r.company, key.format("工作地点") + r.city, key.format("职位描述"), r.description, rule]
    path = tmp_path / "jobs_report.txt"
    path.write_text("\n".join(lines) + "\n", encoding="gb18030")
    frame, _ = ingested(tmp_path, path)
    assert frame["title"].tolist() == postings["title"].tolist()
    assert frame["company"].tolist() == postings["company"].tolist()
    # Lines such as 岗位职责： inside a description stay in it.
    for got, want in zip(frame["description"], postings["description"]):
        assert len(got) >= 0.9 * len(want.strip())
    rejects = pd.read_parquet(tmp_path / "out.rejects.parquet")
    assert rejects["raw_row"].tolist() == [1] and "preamble" in rejects["reason"].iloc[0]


def test_spill_over_columns_of_a_split_description_are_joined_back(tmp_path, postings):
    import openpyxl

    long = postings[postings["description"].str.count(",") >= 3]
    assert len(long) >= 4
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["职位名称", "公司", "职位描述"])
    for r in long.itertuples():
        sheet.append([r.title, r.company, *r.description.split(",")])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    frame, output = ingested(tmp_path, path)
    assert "spill-over columns joined back" in output
    assert frame["title"].tolist() == long["title"].tolist()
    for got, want in zip(frame["description"], long["description"]):
        assert len(got) >= 0.95 * len(want.strip()), "never silently cut"


# ----------------------------------------------------------------------------- the rough edges of the CLI


def test_version_bom_and_results_on_stdout(tmp_path, fixtures):
    import subprocess
    import sys

    version = invoke("--version")
    assert version.exit_code == 0 and version.output.startswith("tobroles ")
    out = tmp_path / "excel.csv"
    assert invoke("classify", fixtures / "liepin_cleaned.csv", "-o", out, "--bom").exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and pd.read_csv(out, encoding="utf-8-sig").shape[0] == 5
    # `inspect FILE > out`: the result goes to stdout, even when it is not a terminal.
    result = subprocess.run([sys.executable, "-m", "pipeline", "inspect", str(fixtures / "liepin_cleaned.csv")], capture_output=True, text=True, check=True)
    assert "layout" in result.stdout and "liepin_cleaned.csv" in result.stdout


def test_train_never_replaces_the_shipped_model_by_accident(tmp_path):
    result = invoke("train", "-o", REPO / "models" / "default", "--folds", "0")
    assert result.exit_code == 1 and "--force" in result.output
    from pipeline.model_store import model_folder

    assert model_folder(None).parent == REPO / "models" and model_folder(None).name.startswith("trained-")
