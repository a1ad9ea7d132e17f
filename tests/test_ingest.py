import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import COLUMNS, ingest, rejects_path
from pipeline.ingest.formats import _parquet_table
from pipeline.ingest.layouts import parse_city, parse_salary_text
from pipeline.ingest.sources import RawFile, SourceError


def test_every_fixture_layout_maps_to_the_canonical_schema(fixtures):
    result, frame = ingest([fixtures])
    layouts = {f.file.split("/")[-1]: f.layout for f in result.files}
    assert layouts["neitui_运营.csv"] == "neitui"
    assert layouts["liepin_cleaned.csv"] == "liepin-crawl"
    assert layouts["jobhunting_2024-12-24_company.zip!company.xlsx"] == "company-table"
    assert layouts["jobhunting_2025-02-21_job.zip!job.xlsx"] == "jobhunting"
    assert list(frame.columns[: len(COLUMNS)]) == COLUMNS
    assert set(frame["source"]) == {"51job", "lagou", "boss", "zhilian", "jobonline", "liepin", "ggfw", "neitui"}
    assert frame["title"].notna().all()
    # Every kept row points back to its file and row.
    assert frame["raw_file"].notna().all() and (frame["raw_row"] >= 1).all()


def test_cleaning_of_the_hard_cases(fixtures):
    _, frame = ingest([fixtures])
    descriptions = frame["description"].dropna()
    assert not descriptions.str.contains("<br", regex=False).any(), "Lagou HTML is stripped"
    assert not descriptions.str.contains("_x000d_", regex=False).any(), "Excel escapes are undone"
    assert not descriptions.str.contains("＊|（|）", regex=True).any(), "full-width ASCII is normalised"
    lagou = frame[frame["source"] == "lagou"]["description"].iloc[0]
    assert "\n" in lagou and "\n\n" not in lagou, "line structure is kept, blank lines collapsed"
    jobonline = frame[frame["source"] == "jobonline"]["description"].dropna()
    assert jobonline.str.contains("\n").any() and not jobonline.str.contains(";").any()
    zhilian = frame[frame["source"] == "zhilian"]
    assert zhilian["truncated"].all()
    assert not frame[frame["source"] == "neitui"]["truncated"].any()


def test_salary_units_are_never_mixed(fixtures):
    _, frame = ingest([fixtures])
    intern = frame[(frame["source"] == "liepin") & (frame["salary_unit"] == "day")]
    assert len(intern) == 1 and intern["salary_max"].iloc[0] <= 2000
    neitui = frame[frame["source"] == "neitui"]
    assert (neitui["salary_unit"] == "month").all() and (neitui["salary_min"] >= 1000).all()
    parsed = parse_salary_text(pd.Series(["25-35k·14薪", "1-1.5万/月", "150-200元/天", "20-30万/年", "面议", None]))
    assert parsed["salary_min"].tolist()[:4] == [25000, 10000, 150, 200000]
    assert parsed["salary_unit"].tolist()[:4] == ["month", "month", "day", "year"]
    assert parsed["salary_unit"].isna().tolist()[4:] == [True, True]


def test_city_extraction():
    cities = parse_city(pd.Series(["青岛·市北区·四流南路", "上海-浦东新区", "广东省广州市从化区", "金华市", "北京"]))
    assert cities.tolist() == ["青岛", "上海", "广州", "金华", "北京"]


def test_duplicates_are_kept_once_and_counted(fixtures, tmp_path):
    # The same export given twice: every board id is seen again and merged.
    copy = tmp_path / "again.zip"
    copy.write_bytes((fixtures / "jobhunting_2025-02-21_job.zip").read_bytes())
    result, frame = ingest([fixtures / "jobhunting_2025-02-21_job.zip", copy])
    assert result.rows_read == 30 and result.kept == 15 and result.duplicates == 15
    assert frame["posting_id"].is_unique
    # "Keep the latest": the later file's copy survives.
    assert (frame["raw_file"] == f"{copy}!job.xlsx").all()


def test_same_company_title_description_under_two_ids_is_merged(tmp_path):
    rows = pd.DataFrame(
        {"id": ["a1", "a2", "a3"], "title": ["销售经理"] * 3, "company": ["甲公司", "甲公司", "乙公司"], "description": ["负责大客户开发。"] * 3}
    )
    path = tmp_path / "reposts.csv"
    rows.to_csv(path, index=False)
    result, frame = ingest([path])
    assert result.kept == 2 and result.duplicates == 1
    assert set(frame["company"]) == {"甲公司", "乙公司"}


def test_output_rejects_and_summary(tmp_path):
    src = tmp_path / "ads.csv"
    src.write_text("职位,职位描述,公司\n客服专员,回答客户咨询,甲\n,,乙\n运营,,丙\n", encoding="utf-8")
    out = tmp_path / "out" / "postings.parquet"
    result, _ = ingest([src], out)
    assert result.kept == 2 and result.rejected == 1
    kept = pd.read_parquet(out)
    rejects = pd.read_parquet(rejects_path(out))
    assert kept["title"].tolist() == ["客服专员", "运营"]
    assert rejects[["raw_row", "reason"]].to_dict("records") == [{"raw_row": 2, "reason": "no title and no description"}]
    assert result.files[0].layout == "inferred" and "title←职位" in result.files[0].note


def test_gbk_csv_with_semicolons_is_detected(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("岗位名称;岗位职责;城市\n售前工程师;负责方案设计与演示;深圳\n".encode("gbk"))
    _, frame = ingest([path])
    assert frame[["title", "description", "city"]].iloc[0].tolist() == ["售前工程师", "负责方案设计与演示", "深圳"]


def test_utf8_bom_tsv_json_and_jsonl(tmp_path):
    (tmp_path / "a.tsv").write_bytes("\ufefftitle\tdescription\n客服\t处理投诉\n".encode("utf-8"))
    (tmp_path / "b.json").write_text('{"data": [{"positionName": "BD", "job_description": "地推拉新"}]}', encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"title": "仓管", "description": "仓库管理"}\n{"title": "文案", "description": "写广告文案"}\n', encoding="utf-8")
    result, frame = ingest([tmp_path])
    assert sorted(frame["title"]) == sorted(["客服", "BD", "仓管", "文案"])
    assert all(f.rows_read for f in result.files)


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("empty.csv", b"", "empty file"),
        ("garbage.csv", bytes(range(256)) * 40, "binary data"),
        ("notitle.csv", "公司,地址\n甲,北京\n".encode(), "found no column that holds job titles or descriptions"),
        ("bad.parquet", b"PAR1 not really", "not a readable Parquet file"),
        ("bad.xlsx", b"PK\x03\x04 nope", "not a readable Excel workbook"),
    ],
)
def test_bad_input_is_reported_with_file_and_problem(tmp_path, name, content, problem):
    bad = tmp_path / name
    bad.write_bytes(content)
    good = tmp_path / "good.csv"
    good.write_text("title,description\n客服,回答问题\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result, _ = ingest([bad, good], out)
    summary = {f.file: f for f in result.files}
    assert problem in summary[str(bad)].note and str(bad) in summary[str(bad)].note
    assert result.kept == 1
    rejects = pd.read_csv(rejects_path(out))
    assert rejects["raw_file"].tolist() == [str(bad)] and problem in rejects["reason"].iloc[0]
    with pytest.raises(SourceError, match="nothing could be read"):
        ingest([bad], tmp_path / "nothing.csv")
    assert not (tmp_path / "nothing.csv").exists()


def test_malformed_csv_records_are_rejected_and_the_rest_is_read(tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text('title,description\n客服,回答问题\n销售,卖货,多余\n运营,做活动\n"文案,写稿\n仓管,管仓库\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    result, _ = ingest([bad], out)
    assert pd.read_csv(out)["title"].tolist() == ["客服", "运营"]
    rejects = pd.read_csv(rejects_path(out))
    assert rejects["raw_row"].tolist() == [2, 4]
    assert "3 fields where the header has 2" in rejects["reason"].iloc[0] and "line 3" in rejects["reason"].iloc[0]
    assert "malformed CSV from line" in rejects["reason"].iloc[1]
    assert result.rows_read == result.kept + result.rejected


def test_a_50_mb_description_is_read(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("title,description\n运营," + "负责社群运营。" * 7_500_000 + "\n", encoding="utf-8")
    _, frame = ingest([path])
    assert len(frame) == 1 and len(frame["description"].iloc[0]) > 50_000_000 // 3


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_hostile_zips_are_refused(tmp_path):
    evil = _zip(tmp_path / "evil.zip", {"../../etc/x.csv": b"title,description\na,b\n"})
    with pytest.raises(SourceError, match="points outside the archive"):
        ingest([evil])
    bomb = _zip(tmp_path / "bomb.zip", {"big.csv": b"0" * (80 * 1024 * 1024)})
    with pytest.raises(SourceError, match="zip bomb"):
        ingest([bomb])


def test_ingest_command_prints_summary_and_writes(tmp_path, fixtures):
    out = tmp_path / "postings.csv"
    result = CliRunner().invoke(app, ["ingest", str(fixtures), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "total" in result.output and "rows read" in result.output
    assert len(pd.read_csv(out)) == 46
    missing = CliRunner().invoke(app, ["ingest", str(tmp_path / "nope.csv"), "-o", str(out)])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_in_memory_zip_member_names_and_rows(fixtures):
    result, frame = ingest([fixtures / "jobhunting_2024-10-10_job.zip"])
    assert frame["raw_file"].iloc[0].endswith("jobhunting_2024-10-10_job.zip!job.xlsx")
    assert frame["raw_row"].tolist() == list(range(1, 7))


def test_a_shared_url_never_merges_postings_the_board_told_apart(tmp_path):
    # 51job gives many postings one company careers URL; their board ids tell them apart. Rows
    # without an id still merge on a URL that names one posting.
    ids = ["51JOB_1", "51JOB_2"] + [None] * 21
    titles = ["后端开发工程师", "测试工程师"] + [f"销售代表{i}" for i in range(20)] + ["销售代表0"]
    urls = ["http://boschchina.51job.com/jobdetail.html"] * 2 + [f"https://a.example/job/{i}" for i in range(20)] + ["https://a.example/job/0"]
    descriptions = ["负责后端服务开发", "负责功能测试"] + [f"负责第{i}区客户开发" for i in range(20)] + ["负责客户开发与维护"]
    path = tmp_path / "shared_url.csv"
    pd.DataFrame({"职位编号": ids, "职位": titles, "职位描述": descriptions, "职位链接": urls}).to_csv(path, index=False)
    result, frame = ingest([path])
    assert {"后端开发工程师", "测试工程师"} <= set(frame["title"]) and len(frame) == 22
    assert result.files[0].merged_on == {"url": 1}


@pytest.mark.parametrize("row_group_size, chunks", [(7, [28, 28, 28, 28, 28, 28, 28, 4]), (200, [30] * 6 + [20]), (45, [30, 15] * 4 + [20])])
def test_parquet_comes_in_chunks_of_about_chunk_rows_whatever_its_row_groups(tmp_path, corpus_sample, row_group_size, chunks):
    path = tmp_path / "in.parquet"
    corpus_sample.to_parquet(path, row_group_size=row_group_size)
    table = _parquet_table(RawFile(path.name, ".parquet", path), chunk_rows=30)
    frames = list(table.chunks)
    assert [len(f) for f in frames] == chunks
    together = pd.concat(frames)
    assert together.index.tolist() == list(range(1, 201)), "rows numbered as in the file"
    pd.testing.assert_frame_equal(together.reset_index(drop=True), corpus_sample)
