"""Ingestion of layouts it has never seen: every raw_extra excerpt, and real rows renamed, shuffled,
stripped of their header, re-encoded and re-wrapped."""

import io
import json
import zipfile

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import ingest, rejects_path
from pipeline.ingest.clean import clean_field, clean_text
from pipeline.ingest.sources import SourceError

# file → (title column, description column) as the MANIFEST of raw_extra names them.
EXTRA = {
    "bilibili_result.csv": ("column_3", "column_4"),
    "boss_jobs.csv": ("职位", "职位描述"),
    "lagou_jobs.csv": ("职位", "职位描述"),
    "智联.csv": ("岗位名称", "岗位职责"),
    "recruit_post.csv": ("职位名称", "职位描述"),
    "上海数据分析师.csv": ("company_name", "requirement"),
    "job_information.csv": ("岗位名称", "工作描述"),
    "tencent_gb18030.json": ("job_name", "duty"),
    "tencent.json": ("position_name", "work_duty"),
    "meituan_campus_jobs.xlsx": ("岗位名称", "工作职责"),
    "tencent_campus_jobs.xlsx": ("岗位名称", "工作职责"),
    "mihoyo_campus_jobs_full.xlsx": ("岗位名称", "工作职责"),
    "jobdata_whuhan.xlsx": ("岗位名称", "工作简介"),
}


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_every_raw_extra_excerpt_is_read_whole(extra_fixtures, name):
    result, frame = ingest([extra_fixtures / name])
    summary = result.files[0]
    title, description = EXTRA[name]
    assert summary.mapping["title"] == title
    assert summary.mapping["description"].split(", ")[0] == description
    # Every row is accounted for, and no distinct posting is lost.
    assert summary.rows_read == summary.kept + summary.duplicates + summary.rejected
    assert frame["title"].notna().mean() >= 0.9 and frame["description"].notna().mean() >= 0.9
    distinct = frame.drop_duplicates(["company", "title", "description"])
    assert len(distinct) == len(frame)


def test_career_site_requirements_join_the_duties_as_the_labels_do(extra_fixtures):
    _, frame = ingest([extra_fixtures / "meituan_campus_jobs.xlsx"])
    # Cleaning folds the full-width colon, in the labels as in any input.
    assert frame["description"].str.contains("\n任职要求:\n", regex=False).all()


def test_a_repeated_header_line_is_rejected_not_read_as_a_posting(extra_fixtures):
    result, frame = ingest([extra_fixtures / "job_information.csv"])
    assert not (frame["title"] == "岗位名称").any()
    assert [r.reason for r in result.files[0].rejects] == ["a repeated header row, not a posting"]


def test_html_detail_pages_take_the_page_own_posting(extra_fixtures):
    result, frame = ingest([extra_fixtures / "1dagong"])
    assert len(result.files) == 1 and result.files[0].rows_read == 3  # one summary line for the folder
    page = frame.set_index(frame["raw_file"].str.rsplit("/", n=1).str[-1])
    first = page.loc["041336232015.html"]
    assert first["title"] == "支付宝服务窗营销经理" and first["company"] == "苏州金蚂蚁金服网络科技有限公司"
    assert first["city"] == "苏州" and str(first["posted_at"])[:10] == "2015-04-13"
    assert first["description"].startswith("职责描述:") and "我想去" not in first["description"]
    # Its description block is empty: the sidebar's postings must not stand in for it.
    assert pd.isna(page.loc["032619152015.html", "description"])
    assert frame["source"].eq("壹打工网").all()


def _renamed_and_shuffled(frame: pd.DataFrame) -> pd.DataFrame:
    shuffled = frame[list(frame.columns[::-1])]
    return shuffled.set_axis([f"field{i}" for i in range(shuffled.shape[1])], axis=1)


@pytest.mark.parametrize("name", ["智联.csv", "boss_jobs.csv", "上海数据分析师.csv", "recruit_post.csv"])
def test_renamed_shuffled_headerless_gb18030_copies_map_like_the_original(extra_fixtures, tmp_path, name):
    original = pd.read_csv(extra_fixtures / name, dtype=str, encoding="utf-8-sig")
    _, expected = ingest([extra_fixtures / name])
    variants = {
        "renamed.csv": (_renamed_and_shuffled(original), {"header": True}),
        "noheader.csv": (original, {"header": False}),
        "gb18030.csv": (original, {"header": True, "encoding": "gb18030"}),
    }
    for variant, (frame, options) in variants.items():
        path = tmp_path / variant
        frame.to_csv(path, index=False, **options)
        _, got = ingest([path])
        for field in ("title", "description", "city"):
            assert got[field].tolist() == expected[field].tolist(), (variant, field)


def _tencent_records(extra_fixtures) -> list[dict]:
    lines = (extra_fixtures / "tencent.json").read_text(encoding="utf-8").splitlines()
    return [json.loads(line.rstrip().rstrip(",")) for line in lines]


def test_json_in_every_shape_scrapers_write(extra_fixtures, tmp_path):
    records = _tencent_records(extra_fixtures)
    titles = [r["position_name"] for r in records]
    shapes = {
        "concatenated.json": json.dumps(records[:2], ensure_ascii=False) + json.dumps(records[2:], ensure_ascii=False),
        "envelope.json": json.dumps({"code": 0, "msg": "ok", "data": {"total": 5, "list": records}}, ensure_ascii=False),
        "unclosed.json": "[" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + ",\n",
        "objects.json": "\n".join(json.dumps(r, ensure_ascii=False) for r in records),
        "nested.jsonl": "\n".join(json.dumps({"job": {"name": r["position_name"], "duty": r["work_duty"]}}, ensure_ascii=False) for r in records),
    }
    for name, text in shapes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result, frame = ingest([tmp_path / name])
        assert frame["title"].tolist() == clean_field(pd.Series(titles)).tolist(), name
        assert frame["description"].notna().all(), name
    assert result.files[0].mapping["title"] == "job.name"


def test_a_broken_json_record_is_rejected_with_its_offset(extra_fixtures, tmp_path):
    records = _tencent_records(extra_fixtures)
    lines = [json.dumps(r, ensure_ascii=False) + "," for r in records]
    lines[2] = lines[2][:40]  # cut off mid-record
    path = tmp_path / "broken.json"
    path.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "out.parquet"
    result, _ = ingest([path], out)
    assert result.kept == 4 and result.rejected == 1
    reason = pd.read_parquet(rejects_path(out))["reason"].iloc[0]
    assert "character offset" in reason and "broken JSON record" in reason


def test_cells_holding_list_literals_become_lines():
    cells = pd.Series(["['岗位职责：', '1、负责<b>客户</b>维护', \"2、完成\\'目标\\'\"]", '["任职要求", "本科"]', "[不是列表"])
    assert clean_text(cells).tolist() == ["岗位职责:\n1、负责客户维护\n2、完成'目标'", "任职要求\n本科", "[不是列表"]


def test_excel_every_sheet_and_a_header_below_a_title(extra_fixtures, tmp_path):
    source = openpyxl.load_workbook(extra_fixtures / "meituan_campus_jobs.xlsx")
    rows = list(source.active.iter_rows(values_only=True))
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"  # an empty first sheet
    sheet = workbook.create_sheet("岗位")
    sheet.append(["美团2026校园招聘岗位汇总"])
    sheet.append([])
    for row in rows:
        sheet.append(list(row))
    path = tmp_path / "wrapped.xlsx"
    workbook.save(path)
    result, frame = ingest([path])
    assert frame["title"].tolist() == clean_field(pd.Series([r[0] for r in rows[1:]])).tolist()
    assert result.files[0].format == "xlsx, sheet '岗位'"


def test_780_ads_case_n_distinct_ads_without_a_known_description_header_stay_n(labels, tmp_path):
    ads = labels[labels["description"].str.len() > 80].drop_duplicates("description").head(300).copy()
    # One company and one title for all: only the description tells the ads apart.
    frame = pd.DataFrame({"招聘企业": "某某科技有限公司", "职位名": "销售代表", "岗位需求": ads["description"].to_numpy()})
    path = tmp_path / "ads.csv"
    frame.to_csv(path, index=False, encoding="gb18030")
    result, out = ingest([path])
    assert result.files[0].mapping["description"] == "岗位需求"
    assert len(out) == len(frame) and result.duplicates == 0


def test_empty_descriptions_never_merge_on_company_and_title(tmp_path):
    path = tmp_path / "titles.csv"
    pd.DataFrame({"职位": ["销售代表"] * 5, "公司": ["甲有限公司"] * 5, "城市": ["北京", "上海", "广州", "深圳", "杭州"]}).to_csv(path, index=False)
    result, frame = ingest([path])
    assert len(frame) == 5 and result.duplicates == 0
    assert any("no description column" in w for w in result.files[0].warnings)


def test_text_files_one_posting_each(tmp_path):
    folder = tmp_path / "ads"
    folder.mkdir()
    (folder / "客户成功经理-杭州云帆科技有限公司.txt").write_text("岗位职责：\n1、负责客户续费与续约\n2、提升客户满意度", encoding="utf-8")
    (folder / "ad2.txt").write_text("新媒体运营\n公司：某某传媒有限公司\n负责公众号与抖音的内容运营", encoding="gb18030")
    result, frame = ingest([folder])
    frame = frame.sort_values("title").reset_index(drop=True)
    assert frame["title"].tolist() == ["客户成功经理", "新媒体运营"]
    assert frame["company"].tolist() == ["杭州云帆科技有限公司", "某某传媒有限公司"]
    assert frame["description"].iloc[0].startswith("岗位职责:")
    assert len(result.files) == 1


def test_columns_option_beats_inference_and_unknown_names_are_clear(extra_fixtures, tmp_path):
    source = extra_fixtures / "智联.csv"
    out = tmp_path / "out.csv"
    runner = CliRunner()
    ok = runner.invoke(app, ["ingest", str(source), "-o", str(out), "--columns", "title=岗位关键词,description=岗位职责"])
    assert ok.exit_code == 0, ok.output
    keywords = pd.read_csv(source, dtype=str)["岗位关键词"]
    assert pd.read_csv(out, dtype=str)["title"].tolist() == clean_field(keywords).tolist()
    bad = runner.invoke(app, ["ingest", str(source), "-o", str(out), "--columns", "title=职位名"])
    assert bad.exit_code == 1 and "no column '职位名'" in bad.output and "岗位名称" in bad.output
    bad_field = runner.invoke(app, ["ingest", str(source), "-o", str(out), "--columns", "titel=岗位名称"])
    assert bad_field.exit_code == 1 and "unknown field 'titel'" in bad_field.output


def test_strict_turns_warnings_into_a_failure_and_writes_nothing(tmp_path):
    path = tmp_path / "titles.csv"
    pd.DataFrame({"职位": ["销售代表", "客服"], "公司": ["甲公司", "乙公司"]}).to_csv(path, index=False)
    out = tmp_path / "out.parquet"
    runner = CliRunner()
    loose = runner.invoke(app, ["ingest", str(path), "-o", str(out)])
    assert loose.exit_code == 0 and "warning" in loose.output and "no description column" in loose.output
    out.unlink()
    strict = runner.invoke(app, ["ingest", str(path), "-o", str(out), "--strict"])
    assert strict.exit_code == 1 and not out.exists()


def test_inspect_shows_format_mapping_and_samples_without_writing(extra_fixtures, tmp_path):
    result = CliRunner().invoke(app, ["inspect", str(extra_fixtures / "bilibili_result.csv"), str(extra_fixtures / "tencent_gb18030.json")])
    assert result.exit_code == 0, result.output
    assert "no header row" in result.output and "gb18030" in result.output
    assert "column_4" in result.output and "游戏中心用户运营" in result.output


# ----------------------------------------------------------------------------- never a traceback


def _ingest_bytes(tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        result, _ = ingest([path])
    except SourceError as exc:
        assert str(path) in str(exc)
    else:
        assert result.rows_read == result.kept + result.duplicates + result.rejected


SUFFIXES = st.sampled_from(["x.csv", "x.json", "x.jsonl", "x.xlsx", "x.txt", "x.zip", "x.html", "x.parquet", "x.tsv"])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(name=SUFFIXES, data=st.binary(max_size=2000))
def test_random_bytes_never_raise_a_traceback(tmp_path, name, data):
    _ingest_bytes(tmp_path, name, data)


@SETTINGS
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=20))
def test_random_json_never_raises_a_traceback(tmp_path, value):
    _ingest_bytes(tmp_path, "x.json", json.dumps(value, ensure_ascii=False).encode())


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=2000), encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_truncated_zips_and_mixed_encodings(tmp_path, extra_fixtures, cut, encoding):
    text = (extra_fixtures / "智联.csv").read_text(encoding="utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("a.csv", text.encode(encoding))
    _ingest_bytes(tmp_path, "a.zip", buffer.getvalue()[: cut * 4])
    mixed = text[: len(text) // 2].encode("utf-8") + text[len(text) // 2 :].encode("gb18030")
    _ingest_bytes(tmp_path, "mixed.csv", mixed[: cut * 4 + 100])


def test_spreadsheets_that_cannot_be_read_are_reported_not_skipped(tmp_path, extra_fixtures):
    (tmp_path / "old.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 500)
    (tmp_path / "ads.csv").write_bytes((extra_fixtures / "智联.csv").read_bytes())
    result, frame = ingest([tmp_path])
    old = next(f for f in result.files if f.file.endswith("old.xls"))
    assert "save it as .xlsx" in old.note and len(frame) == 5
