import json
import os

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import batch
from pipeline.batch import ClassifyOptions, classify_dask, classify_files
from pipeline.business import BUSINESS_COLUMNS
from pipeline.classify import OUTPUT_COLUMNS, STATUSES
from pipeline.cli import app
from pipeline.ingest.sources import SourceError


def read_any(path):
    suffix = str(path).rsplit(".", 1)[-1]
    return {"csv": pd.read_csv, "parquet": pd.read_parquet, "xlsx": pd.read_excel, "jsonl": lambda p: pd.read_json(p, lines=True)}[suffix](path)


@pytest.fixture(scope="module")
def raw_board_csv(tmp_path_factory, fixtures):
    """A raw export (the 内推 layout with its blank leading column), rows shuffled to test order."""
    return fixtures / "neitui_运营.csv"


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl", "xlsx"])
def test_every_row_in_order_for_every_format(tmp_path, corpus_sample, suffix):
    source = tmp_path / f"in.{suffix}"
    sample = corpus_sample.head(60)[["posting_id", "title", "company", "description"]]
    {"csv": lambda: sample.to_csv(source, index=False), "parquet": lambda: sample.to_parquet(source), "xlsx": lambda: sample.to_excel(source, index=False), "jsonl": lambda: sample.to_json(source, orient="records", lines=True, force_ascii=False)}[suffix]()
    out = tmp_path / f"out.{suffix}"
    result = classify_files([source], out, chunk_rows=25)
    frame = read_any(out)
    assert result.rows_in == result.rows_out == len(frame) == 60
    assert list(frame.columns) == list(sample.columns) + OUTPUT_COLUMNS + BUSINESS_COLUMNS
    assert frame["posting_id"].astype(str).tolist() == sample["posting_id"].tolist()
    assert set(frame["status"]) <= set(STATUSES)
    assert frame["confidence"].between(0, 1).all()
    alternatives = json.loads(frame["alternatives"].iloc[0])
    assert len(alternatives) == 3 and all(0 <= p <= 1 for p in alternatives.values())


def test_raw_board_export_keeps_its_columns(tmp_path, raw_board_csv):
    out = tmp_path / "out.csv"
    classify_files([raw_board_csv], out)
    frame = pd.read_csv(out)
    original = pd.read_csv(raw_board_csv)
    renamed = ["input_status" if c == "status" else c for c in original.columns]
    assert list(frame.columns[: len(original.columns)]) == renamed, "the board's own `status` is kept"
    assert len(frame) == len(original) == 12
    assert frame.loc[frame["title"] == "客服专员", "role"].eq("customer_service").all()


def test_several_files_come_out_in_the_canonical_schema(tmp_path, fixtures):
    out = tmp_path / "out.parquet"
    result = classify_files([fixtures / "neitui_运营.csv", fixtures / "liepin_cleaned.csv"], out)
    frame = pd.read_parquet(out)
    assert result.rows_out == 17 and "raw_file" in frame.columns and "raw_row" in frame.columns
    assert frame["raw_row"].tolist() == list(range(1, 13)) + list(range(1, 6))


def test_statuses_and_no_text_rows(tmp_path, shipped_model):
    frame = pd.DataFrame(
        {
            "title": ["仓库管理员", None, "运营", None],
            "description": ["负责仓库收发货、盘点与库存管理", None, None, ""],
        }
    )
    out = shipped_model.classify(frame, min_confidence=0.99)
    assert out["status"].tolist()[1::2] == ["no_text", "no_text"] and out["role"].iloc[1::2].isna().all()
    assert out["status"].iloc[0] in ("ok", "review") and out["role"].iloc[0] == "logistics"
    strict = shipped_model.classify(frame.head(1), min_confidence=1.0)
    assert strict["status"].iloc[0] == "review"


def test_a_column_of_empty_texts(tmp_path):
    source = tmp_path / "empty_texts.csv"
    source.write_text("title,description,n\n,,1\n,,2\n,,3\n", encoding="utf-8")
    result = classify_files([source], tmp_path / "out.csv")
    assert result.status == {"no_text": 3} and result.rows_out == 3


def test_a_header_only_file_gives_an_empty_output(tmp_path):
    source = tmp_path / "header.csv"
    source.write_text("title,description\n", encoding="utf-8")
    result = classify_files([source], tmp_path / "out.parquet")
    assert result.rows_out == 0 and len(pd.read_parquet(tmp_path / "out.parquet")) == 0


def test_an_empty_file_is_an_error_and_writes_nothing(tmp_path):
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    with pytest.raises(SourceError, match="empty file"):
        classify_files([source], tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == [source]


def test_chunk_boundary_inside_a_run_of_duplicates(tmp_path, corpus_sample):
    row = corpus_sample.head(1)[["title", "description"]]
    frame = pd.concat([corpus_sample.head(3)[["title", "description"]], row, row, row, row, corpus_sample.tail(2)[["title", "description"]]], ignore_index=True)
    frame.insert(0, "n", range(len(frame)))
    source = tmp_path / "dupes.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    classify_files([source], out, chunk_rows=4)
    result = pd.read_csv(out)
    assert result["n"].tolist() == list(range(9))
    assert result.loc[3:6, "role"].nunique() == 1


def test_a_1_mb_description_and_gbk_input(tmp_path):
    source = tmp_path / "gbk.csv"
    long = "负责门店销售，完成业绩目标。" * 75_000
    source.write_bytes(f"职位名称,职位详情\n销售代表,{long}\n客服,回答客户问题\n".encode("gb18030"))
    out = tmp_path / "out.csv"
    result = classify_files([source], out, columns={"title": "职位名称", "description": "职位详情"})
    frame = pd.read_csv(out)
    assert result.rows_out == 2 and frame["role"].tolist()[0] == "sales"
    assert len(frame["职位详情"].iloc[0]) == len(long)


def test_workers_write_what_one_process_writes(tmp_path, corpus_sample, monkeypatch):
    source = tmp_path / "in.parquet"
    pd.concat([corpus_sample, corpus_sample.iloc[::3]], ignore_index=True).to_parquet(source)  # repeated ads too
    classify_files([source], tmp_path / "a.parquet", chunk_rows=30, jobs=1)
    classify_files([source], tmp_path / "b.parquet", chunk_rows=30, jobs=2)
    monkeypatch.setattr(batch, "usable_cores", lambda: 2)  # AUTO (the command's default) starts workers where cores are spare
    started = []
    real_pool = batch._worker_pool
    monkeypatch.setattr(batch, "_worker_pool", lambda *a: started.append(a[2]) or real_pool(*a))
    classify_files([source], tmp_path / "c.parquet", chunk_rows=30, jobs=batch.AUTO)
    classify_files([source], tmp_path / "d.parquet", chunk_rows=10_000, jobs=batch.AUTO)
    assert started == [2], "workers once a chunk holds half of chunk_rows, not for an input under that"
    for name in "bc":
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / f"{name}.parquet"))
    # One chunk pools each company's ads over the whole input: compared with one process doing the same.
    classify_files([source], tmp_path / "e.parquet", chunk_rows=10_000, jobs=1)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "d.parquet"), pd.read_parquet(tmp_path / "e.parquet"))


def test_an_interrupted_write_leaves_no_output(tmp_path, corpus_sample, monkeypatch):
    source = tmp_path / "in.parquet"
    corpus_sample.to_parquet(source)
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous result")
    calls = {"n": 0}
    real = batch.chunk_roles

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "chunk_roles", dying)
    with pytest.raises(KeyboardInterrupt):
        classify_files([source], out, chunk_rows=50, jobs=1)
    assert out.read_bytes() == b"previous result", "the old output is untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"], "no temp file left"


def test_dask_engine_agrees_with_local(tmp_path, corpus_sample):
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(4):
        corpus_sample.iloc[i * 50 : (i + 1) * 50].to_parquet(parts / f"part-{i}.parquet", index=False)
    result = classify_dask([parts], tmp_path / "out", workers=2)
    assert result.rows_in == result.rows_out == 200
    dask_out = pd.read_parquet(tmp_path / "out")
    local = classify_files([corpus_sample_path(tmp_path, corpus_sample)], tmp_path / "local.parquet")
    local_out = pd.read_parquet(tmp_path / "local.parquet")
    assert local.rows_out == 200
    key = ["posting_id", "role", "confidence", "status", "alternatives"]
    pd.testing.assert_frame_equal(
        dask_out[key].sort_values("posting_id").reset_index(drop=True),
        local_out[key].sort_values("posting_id").reset_index(drop=True),
        check_dtype=False,
    )


def corpus_sample_path(tmp_path, sample):
    path = tmp_path / "sample.parquet"
    sample.to_parquet(path, index=False)
    return path


def test_classify_command(tmp_path, raw_board_csv):
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["classify", str(raw_board_csv), "-o", str(out), "--explain", "--top-k", "2"])
    assert result.exit_code == 0, result.output
    assert "rows in" in result.output and "12" in result.output
    frame = pd.read_json(out, lines=True)
    assert "explanation" in frame.columns and len(json.loads(frame["alternatives"].iloc[0])) == 2
    bad = CliRunner().invoke(app, ["classify", str(raw_board_csv), "-o", str(tmp_path / "out.txt")])
    assert bad.exit_code == 1 and "output must end in one of" in bad.output


def test_options_are_validated():
    with pytest.raises(ValueError, match="min_confidence"):
        ClassifyOptions(min_confidence=2)


def test_repeated_ads_are_scored_once_and_come_out_as_if_scored_each(shipped_model, corpus_sample):
    ads = corpus_sample.head(40)[batch.TEXT_FIELDS].reset_index(drop=True)
    other_company = ads.iloc[[3]].assign(company="另一家公司")  # same ad text, another employer: kept apart
    no_title = ads.iloc[[5]].assign(title=pd.NA)
    chunk = pd.concat([ads, ads.iloc[::-1], other_company, no_title, ads.iloc[[0, 0, 7]]], ignore_index=True)
    codes, distinct = batch.distinct_rows(chunk)
    assert len(distinct) == 42 and len(codes) == len(chunk)
    pd.testing.assert_frame_equal(distinct.iloc[codes].reset_index(drop=True), chunk)
    options = batch.ClassifyOptions()
    pd.testing.assert_frame_equal(batch.chunk_roles(shipped_model, chunk, options), batch.score(shipped_model, chunk, options))


def test_a_worker_that_dies_stops_the_run_with_a_clear_error_and_no_output(tmp_path, corpus_sample, monkeypatch):
    source = tmp_path / "in.parquet"
    corpus_sample.to_parquet(source)
    out = tmp_path / "out.csv"
    real = batch.score
    parent, marked = os.getpid(), corpus_sample["description"].iloc[100]

    def killed_in_a_worker(model, texts, options):
        if os.getpid() != parent and (texts["description"] == marked).any():  # as the kernel's OOM killer would
            os._exit(9)
        return real(model, texts, options)

    monkeypatch.setattr(batch, "score", killed_in_a_worker)  # the forked workers inherit it
    result = CliRunner().invoke(app, ["classify", str(source), "-o", str(out), "--jobs", "2", "--chunk-size", "40"])
    assert result.exit_code == 1
    assert "a worker process died (out of memory?); nothing was written" in result.output and "--jobs 1" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"], "no output, no temp file"
