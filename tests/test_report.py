import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.batch import classify_files
from pipeline.cli import app
from pipeline.model_store import load_model
from pipeline.report import ReportError, build_report, load_classified, write_report
from pipeline.taxonomy import taxonomy

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def classified(tmp_path_factory, fixtures):
    """Real raw exports of every layout, classified by the shipped model."""
    folder = tmp_path_factory.mktemp("classified")
    out = folder / "classified.parquet"
    classify_files([fixtures], out)
    return out


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Known counts: 3 sales, 2 customer service, 1 logistics, 2 other; salaries in three units."""
    frame = pd.DataFrame(
        {
            "title": ["销售代表", "销售经理", "销售代表", "客服专员", "在线客服", "仓管", "Java开发", "会计"],
            "company": ["甲", "乙", "甲", "丙", "丁", "戊", "己", "庚"],
            "source": ["boss", "lagou", "boss", "liepin", "liepin", "51job", "lagou", "boss"],
            "city": ["北京", "上海", "北京", "广州", "广州", "深圳", "北京", "上海"],
            "salary_min": [8000, 10000, 150, 4000, 5000, 200000, 20000, 6000],
            "salary_max": [12000, 20000, 200, 6000, 7000, 300000, 30000, 8000],
            "salary_unit": ["month", "month", "day", "month", "month", "year", "month", "month"],
            "role": ["sales", "sales", "sales", "customer_service", "customer_service", "logistics", "other", "other"],
            "status": ["ok", "ok", "review", "ok", "ok", "ok", "ok", "no_text"],
            "confidence": [0.9, 0.8, 0.4, 0.95, 0.9, 0.7, 0.99, None],
            "model": ["m1"] * 8,
        }
    )
    path = tmp_path_factory.mktemp("synthetic") / "classified.csv"
    frame.to_csv(path, index=False)
    return path


def test_summary_numbers_equal_direct_counts(classified):
    frame = pd.read_parquet(classified)
    report = build_report(load_classified([classified]))
    counts = frame["role"].value_counts()
    to_b = int(counts.drop("other", errors="ignore").sum())
    summary = report.summary.set_index("role")
    for role in taxonomy().role_ids:
        if role != "other":
            assert summary.loc[role, "postings"] == counts.get(role, 0)
    assert summary.loc["total", "postings"] == to_b
    assert report.other_count == counts.get("other", 0)
    subtotals = report.summary[report.summary["role"] == "subtotal"].set_index("module")["postings"]
    for module in taxonomy().modules:
        assert subtotals[module.id] == sum(counts.get(r.id, 0) for r in taxonomy().roles_in(module.id))
    board = report.tables["role_by_board"].set_index("role")
    direct = pd.crosstab(frame.loc[frame["role"] != "other", "role"], frame.loc[frame["role"] != "other", "source"])
    assert (board.loc[direct.index, direct.columns] == direct).all().all()


def test_every_table_on_known_data(synthetic):
    report = build_report(load_classified([synthetic]))
    summary = report.summary.set_index("role")
    assert summary.loc["sales", "postings"] == 3 and summary.loc["sales", "share_of_to_b"] == 0.5
    assert summary.loc["sales", "share_in_module"] == 1.0
    assert summary.loc["customer_service", "share_in_module"] == round(2 / 3, 4)
    assert summary.loc["sales", "typical_titles"].startswith("销售代表")
    assert report.other_count == 2 and summary.loc["total", "postings"] == 6
    monthly = report.tables["salary_monthly"].set_index("role")
    assert monthly.loc["sales", "postings"] == 2 and monthly.loc["sales", "median"] == 12500  # (10000+15000)/2
    assert report.tables["salary_daily"].set_index("role").loc["sales", "median"] == 175
    assert report.tables["salary_yearly"].set_index("role").loc["logistics", "median"] == 250000
    cities = report.tables["top_cities_by_module"]
    assert cities[(cities["module"] == "conversion")].iloc[0][["city", "postings"]].tolist() == ["北京", 2]
    companies = report.tables["companies_by_role"].set_index("role")["distinct_companies"]
    assert companies["sales"] == 2 and companies["customer_service"] == 2
    assert report.quality["status"] == {"ok": 6, "review": 1, "no_text": 1}
    assert report.confidence_histogram["postings"].sum() == 7


def test_missing_columns_say_no_data(tmp_path):
    path = tmp_path / "bare.csv"
    pd.DataFrame({"title": ["销售"], "role": ["sales"]}).to_csv(path, index=False)
    report = build_report(load_classified([path]))
    for name in ("role_by_board", "top_cities_by_module", "salary_monthly", "education_by_role"):
        assert report.tables[name] is None
    md = tmp_path / "r.md"
    write_report(report, md)
    text = md.read_text(encoding="utf-8")
    assert text.count("no data") >= 4 and "| sales |" in text.replace("  ", " ")


def test_empty_input_and_only_other(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("title,role\n", encoding="utf-8")
    report = build_report(load_classified([empty]))
    assert report.summary["postings"].sum() == 0 and report.other_count == 0
    write_report(report, tmp_path / "empty.html")
    only_other = tmp_path / "other.csv"
    pd.DataFrame({"title": ["会计", "出纳"], "role": ["other", "other"]}).to_csv(only_other, index=False)
    report = build_report(load_classified([only_other]))
    assert report.other_count == 2 and report.summary.set_index("role").loc["total", "postings"] == 0
    for suffix in ("html", "md", "xlsx", "json"):
        write_report(report, tmp_path / f"other.{suffix}")


def test_all_formats_and_the_command(tmp_path, classified):
    for suffix in ("html", "md", "xlsx", "json"):
        result = CliRunner().invoke(app, ["report", str(classified), "-o", str(tmp_path / f"report.{suffix}")])
        assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len([r for r in data["tables"]["summary"] if r["role"] not in ("subtotal", "total")]) == 25
    sheets = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)
    assert {"summary", "role_by_board", "salary_monthly", "data_quality"} <= set(sheets)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    # Postings' links are clickable <a> links; nothing is loaded from anywhere.
    for loader in ('src="http', "src='http", "url(http", "@import", "<link", "<img"):
        assert loader not in html
    assert "<script" not in html
    assert html.count('href="http') == html.count('<a href="http') > 0


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_html_report_in_a_real_browser(tmp_path, classified):
    browser_path = _chromium()
    if browser_path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI: .ci/run must install it")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    sync_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else __import__("playwright.sync_api").sync_api
    page_file = tmp_path / "report.html"
    frame = load_classified([classified])
    report = build_report(frame, model_metadata=load_model().metadata)
    write_report(report, page_file)
    errors, requests = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        assert page.locator("#summary-table tbody tr").count() == 25 + 3 + 1
        assert page.locator("#chart-roles > rect").count() == 25
        assert page.locator("#chart-roles line.interval").count() == 25 and page.locator("#chart-roles line.raw").count() == 25
        assert page.locator("#chart-heatmap").count() == 1 and page.locator("#chart-salary").count() == 1
        assert "客户成功" in page.inner_text("#summary-table")
        # What a reader sees at 1,400 px: the study's table fits, the chart says what its marks are,
        # every board is in the heatmap, no missing value prints as <NA>.
        width = page.evaluate("document.querySelector('#summary-table').getBoundingClientRect().right")
        assert width <= 1400, f"the study's table overflows: its right edge is at {width}px"
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400
        legend = page.locator("#chart-roles .legend").text_content()  # SVG text: no inner_text
        assert "90% interval" in legend and "拉新获客" in legend
        assert page.locator("#chart-roles .axis text").count() >= 3
        boards = report.tables["role_by_board"].columns.drop("role")
        assert len(boards) >= frame.loc[frame["role"] != "other", "source"].nunique()
        assert page.locator("#chart-heatmap text.board").count() == len(boards)
        assert "<NA>" not in page.inner_text("body") and "nan" not in page.inner_text("#summary-table")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert errors == [] and requests == []


@pytest.mark.parametrize("estimator", ["banded", "acc", "pacc", "em"])
def test_estimates_with_intervals_in_every_format(tmp_path, classified, estimator):
    frame = load_classified([classified])
    report = build_report(frame, model_metadata=load_model().metadata, estimates=estimator)
    summary = report.summary
    roles = summary[~summary["role"].isin(["subtotal", "total"])]
    assert (roles["estimate_low"] <= roles["estimate"]).all() and (roles["estimate"] <= roles["estimate_high"]).all()
    for module in taxonomy().modules:
        subtotal = summary[(summary["module"] == module.id) & (summary["role"] == "subtotal")].iloc[0]
        assert abs(subtotal["estimate"] - roles.loc[roles["module"] == module.id, "estimate"].sum()) <= len(roles)  # rounding
    labelled = frame["role"].notna().sum()
    other = report.quality["other_estimate"]["estimate"]
    assert abs(summary.loc[summary["role"] == "total", "estimate"].iloc[0] + other - labelled) <= 2
    assert report.quality["estimates"].startswith("Estimates:")
    data = json.loads(write_report(report, tmp_path / "r.json").read_text(encoding="utf-8"))
    row = next(r for r in data["tables"]["summary"] if r["role"] == "sales")
    assert {"role", "count", "estimate", "estimate_low", "estimate_high"} <= set(row) and row["count"] == row["postings"]
    assert "*Estimates:" in write_report(report, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "estimate_high" in pd.read_excel(write_report(report, tmp_path / "r.xlsx"), sheet_name="summary").columns


def test_estimates_none_and_without_the_models_metadata(classified):
    frame = load_classified([classified])
    assert "estimate" not in build_report(frame, model_metadata=load_model().metadata, estimates="none").summary.columns
    plain = build_report(frame)
    assert "estimate" not in plain.summary.columns and plain.quality["estimates"].startswith("no estimates")
    with pytest.raises(ReportError, match="unknown estimator"):
        build_report(frame, estimates="magic")


def test_typical_titles_come_from_confident_labels(synthetic):
    report = build_report(load_classified([synthetic]))
    sales = report.summary.set_index("role").loc["sales", "typical_titles"]
    assert sales.split("、") == ["销售代表", "销售经理"] or sales.split("、") == ["销售经理", "销售代表"]
    logistics = report.summary.set_index("role").loc["logistics", "typical_titles"]
    assert logistics == "", "a 0.7-confidence label does not stand as a typical title"


def test_what_the_job_does_and_example_postings(tmp_path):
    """On real classified postings: each role's characteristic duty terms, and its most confident ads."""
    corpus = pd.read_parquet("data/corpus.parquet").sample(4000, random_state=1)
    source = tmp_path / "postings.parquet"
    corpus.to_parquet(source, index=False)
    classify_files([source], tmp_path / "classified.parquet")
    frame = load_classified([tmp_path / "classified.parquet"])
    report = build_report(frame)
    duties = report.summary.set_index("role")["what_the_job_does"]
    assert "what_the_job_does" in report.summary.columns
    assert any(term in duties["logistics"] for term in ("仓库", "出入库", "库存", "盘点", "发货"))
    assert any(term in duties["new_media"] for term in ("抖音", "短视频", "公众号", "粉丝", "账号"))
    examples = report.tables["examples_by_role"]
    assert (examples.groupby("role").size() <= 2).all() and not examples.duplicated(["role", "title"]).any()
    confident = frame[frame["role"] == "sales"]["confidence"].max()
    assert examples[examples["role"] == "sales"]["confidence"].iloc[0] == confident


def test_the_xlsx_report_reads_as_a_workbook(tmp_path, classified):
    import openpyxl

    path = write_report(build_report(load_classified([classified]), model_metadata=load_model().metadata), tmp_path / "r.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[0] == "contents"
    contents = [row[0].value for row in workbook["contents"].iter_rows(min_row=2)]
    assert contents == workbook.sheetnames[1:]
    summary = workbook["summary"]
    header = [c.value for c in summary[1]]
    share = header.index("share_of_to_b") + 1
    assert summary.freeze_panes == "A2" and summary.cell(1, 1).font.b
    assert summary.cell(2, share).number_format == "0.0%" and 0 <= summary.cell(2, share).value <= 1
    assert summary.column_dimensions["B"].width >= 8


def test_experience_and_education_are_grouped(tmp_path):
    from pipeline.report import EDUCATION_BUCKETS, EXPERIENCE_BUCKETS, education_bucket, experience_bucket

    corpus = pd.read_parquet(Path(__file__).resolve().parents[1] / "data" / "corpus.parquet", columns=["experience", "education"])
    experience, education = experience_bucket(corpus["experience"]), education_bucket(corpus["education"])
    assert set(experience) <= set(EXPERIENCE_BUCKETS) and len(EXPERIENCE_BUCKETS) <= 8
    assert set(education) <= set(EDUCATION_BUCKETS) and len(EDUCATION_BUCKETS) <= 8
    samples = pd.Series(["3年", "1-3年", "经验不限", "应届毕业生", "1年以下", "10年以上", "5-10年"])
    assert experience_bucket(samples).tolist() == ["3-5年", "1-3年", "不限/应届", "不限/应届", "1年以下", "10年以上", "5-10年"]
    samples = pd.Series(["统招本科", "大学专科", "中技/中专", "学历不限", "1-3年大专", "博士及以上", "硕士研究生", None])
    assert education_bucket(samples).tolist() == ["本科", "大专", "中专/高中", "不限", "大专", "博士", "硕士", "未注明"]


def test_implausible_pay_is_swapped_or_dropped_and_counted():
    from pipeline.report import checked_pay

    frame = pd.DataFrame({"salary_min": [15000.0, 22.0, 8000.0], "salary_max": [10000.0, 22.0, 12000.0], "salary_unit": ["month", "day", "month"]})
    checked, counts = checked_pay(frame)
    assert counts == {"pay_ranges_swapped": 1, "pay_ranges_dropped_as_implausible": 1}
    assert checked["salary_min"].tolist()[0] == 10000 and pd.isna(checked["salary_min"].iloc[1]) and checked["salary_max"].iloc[2] == 12000


def test_boards_and_typical_titles_say_what_they_are():
    from pipeline.report import board_names, typical_titles

    frame = pd.DataFrame({
        "source": ["boss", "广东数据分析师", "tencent"],
        "raw_file": ["raw/a.xlsx", "raw_extra/x/广东数据分析师.csv", "raw_extra/tencent.json"],
        "url": [None, None, "https://careers.tencent.com/jobdesc.html?postId=1"],
    })
    assert board_names(frame).tolist() == ["boss", "file: 广东数据分析师", "tencent"]
    assert typical_titles(pd.Series(["客户成功经理", "Software_Test_Engineer_1015_A01_S", "客户成功经理"])) == "客户成功经理"


def test_a_classified_row_that_cannot_be_read_is_named_not_dropped(tmp_path, classified):
    rows = pd.read_parquet(classified).head(40)
    damaged = tmp_path / "classified.csv"
    rows.to_csv(damaged, index=False)
    with damaged.open("a", encoding="utf-8") as f:
        f.write(",".join(["x"] * (len(rows.columns) + 3)) + "\n")  # a row edited by hand, or cut and pasted badly
    frame = load_classified([damaged])
    assert len(frame) == 40
    [line] = frame.attrs["unreadable"]
    assert line.startswith(f"{damaged} row 41: line ") and line.endswith(f": {len(rows.columns) + 3} fields where the header has {len(rows.columns)}")
    result = CliRunner().invoke(app, ["report", str(damaged), "-o", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    assert f"1 row(s) could not be read and are not counted: {damaged} row 41" in result.output
    quality = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["quality"]
    assert quality["classified_rows_not_read"]["rows"] == 1 and quality["classified_rows"] == 40
