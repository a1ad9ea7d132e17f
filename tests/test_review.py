"""The review loop on the real corpus: classify → review → fill the sheet → train --add → compare."""

import json

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.batch import classify_files
from pipeline.cli import app
from pipeline.review import select_for_review
from pipeline.taxonomy import taxonomy
from pipeline.train import TrainingDataError, load_labelled

ROLES = ["sales", "customer_service", "new_media", "logistics", "after_sales", "presales", "implementation", "other"]


@pytest.fixture(scope="module")
def classified(tmp_path_factory, labels):
    """Bundled postings that have a label, and as many without, each posted twice (reposts), classified."""
    folder = tmp_path_factory.mktemp("review")
    corpus = pd.read_parquet("data/corpus.parquet")
    labelled = corpus[corpus["posting_id"].isin(labels["posting_id"])].head(600)
    sample = pd.concat([labelled, corpus.sample(600, random_state=3)]).drop_duplicates("posting_id")
    reposts = sample.head(100).assign(posting_id=lambda f: f["posting_id"] + "-again")
    source = folder / "postings.parquet"
    pd.concat([sample, reposts], ignore_index=True).to_parquet(source, index=False)
    out = folder / "classified.parquet"
    classify_files([source], out)
    return folder, out


@pytest.fixture(scope="module")
def small_base(tmp_path_factory, labels):
    """A small labelled base to add to, so that training in tests takes seconds."""
    path = tmp_path_factory.mktemp("base") / "base.csv"
    labels.groupby("role").head(12)[["posting_id", "title", "description", "role", "sure"]].to_csv(path, index=False)
    return path


def _sheet(path) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name="to_label", dtype=str)


def test_review_sheet_is_made_for_people(classified):
    folder, out = classified
    sheet = folder / "to_label.xlsx"
    result = CliRunner().invoke(app, ["review", str(out), "-n", "50", "-o", str(sheet)])
    assert result.exit_code == 0, result.output
    frame = _sheet(sheet)
    assert len(frame) == 50 and not frame.duplicated(["title", "description"]).any()
    assert list(frame.columns) == [
        "id", "source", "title", "company", "description", "predicted", "confidence", "runner_up", "role", "sure", "predicted_business_type", "business_type", "note", "check",
    ]
    assert frame["role"].isna().all() and frame["business_type"].isna().all()
    assert frame["predicted_business_type"].isin(["platform", "service", "hardware", "to_c", "unclear"]).all()
    workbook = openpyxl.load_workbook(sheet)
    rows = workbook["to_label"]
    assert rows.freeze_panes == "A2" and rows.column_dimensions["E"].width == 80
    formulas = {str(v.sqref): v.formula1 for v in rows.data_validations.dataValidation}
    assert formulas["I2:I51"] == "=taxonomy!$A$2:$A$27" and formulas["J2:J51"] == '"1,2,3"'
    assert formulas["L2:L51"] == "=business_types!$A$2:$A$6"  # a second drop-down, for the business type
    assert pd.read_excel(sheet, sheet_name="business_types")["id"].tolist() == ["platform", "service", "hardware", "to_c", "unclear"]
    definitions = pd.read_excel(sheet, sheet_name="taxonomy")
    assert definitions["label"].tolist() == [taxonomy().label(r.id) for r in taxonomy().roles] and len(definitions) == 26
    assert all(c.data_type != "f" for s in workbook.worksheets for row in s.iter_rows() for c in row)


def test_strategies_pick_distinct_ads_and_spread_over_roles(classified):
    _, out = classified
    frame = pd.read_parquet(out)
    for strategy in ("uncertain", "rare", "random"):
        picked = select_for_review(frame, 200, strategy)
        assert len(picked) == 200 and not picked.duplicated(["title", "description"]).any(), strategy
    rare = select_for_review(frame, 60, "rare")
    predicted = frame["role"].nunique()
    assert rare["role"].nunique() >= min(predicted, 20)
    uncertain = select_for_review(frame, 60, "uncertain")
    everything = select_for_review(frame, len(frame), "uncertain")
    assert uncertain["margin"].median() < everything["margin"].median()
    assert uncertain["role"].nunique() > select_for_review(frame, 60, "random")["role"].nunique() / 2


def _filled(classified, labels, name="filled.xlsx"):
    folder, out = classified
    sheet = folder / "to_label.xlsx"
    if not sheet.exists():
        CliRunner().invoke(app, ["review", str(out), "-n", "50", "-o", str(sheet)])
    frame = _sheet(sheet)
    by_id = labels.set_index("posting_id")["role"]
    frame["role"] = [taxonomy().label(by_id[i]) if i in by_id.index else None for i in frame["id"]]
    frame["sure"] = frame["role"].notna().map({True: "3", False: None})
    path = folder / name
    with pd.ExcelWriter(path) as excel:  # as a person's spreadsheet program would save it
        frame.to_excel(excel, sheet_name="to_label", index=False)
        pd.read_excel(sheet, sheet_name="taxonomy").to_excel(excel, sheet_name="taxonomy", index=False)
    return path, frame


def test_train_add_prints_both_models_on_the_same_folds_and_records_the_files(classified, labels, small_base, tmp_path):
    filled, frame = _filled(classified, labels)
    assert frame["role"].notna().sum() >= 10
    result = CliRunner().invoke(app, ["train", str(small_base), "--add", str(filled), "-o", str(tmp_path / "mine"), "--folds", "3"])
    assert result.exit_code == 0, result.output
    assert "without your labels" in result.output and "with your labels" in result.output and "same folds" in result.output
    assert f"added {frame['role'].notna().sum()} labelled ads" in result.output
    meta = json.loads((tmp_path / "mine" / "metadata.json").read_text(encoding="utf-8"))
    files = {f["path"]: f for f in meta["training_files"]}
    assert str(filled) in files and len(files[str(filled)]["sha256"]) == 64 and str(small_base) in files
    assert meta["added_labels"]["ads"] == frame["role"].notna().sum()
    assert {"accuracy", "macro_f1", "per_role"} <= set(meta["cv_metrics"]["before"])


def test_label_studio_round_trip(classified, labels, small_base, tmp_path):
    folder, out = classified
    tasks_path = tmp_path / "tasks.json"
    result = CliRunner().invoke(app, ["review", str(out), "-n", "30", "-o", str(tasks_path)])
    assert result.exit_code == 0, result.output
    config = (tmp_path / "tasks.label_config.xml").read_text(encoding="utf-8")
    assert config.count("<Choice value=") == 26 + 3 + 5 and 'name="role"' in config and 'name="business_type"' in config
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    assert len(tasks) == 30 and tasks[0]["predictions"][0]["result"][0]["value"]["choices"]
    # What Label Studio exports once a person has labelled them (its documented JSON format).
    by_id = labels.set_index("posting_id")["role"]
    exported = []
    for i, task in enumerate(tasks, 1):
        role = by_id.get(task["data"]["id"], "other")
        result_ = [
            {"from_name": "role", "to_name": "ad", "type": "choices", "value": {"choices": [taxonomy().label(role)]}},
            {"from_name": "business_type", "to_name": "ad", "type": "choices", "value": {"choices": ["service"]}},
        ]
        exported.append({"id": i, "data": task["data"], "annotations": [{"id": i, "result": result_, "was_cancelled": False}], "predictions": task["predictions"]})
    exported[0]["annotations"][0]["was_cancelled"] = True
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    data = load_labelled([export])
    assert len(data.frame) == 29 and any("1 rows without a role" in p for p in data.problems)
    assert (data.frame["business_type"] == "service").all()  # the second question comes back too
    trained = CliRunner().invoke(app, ["train", str(small_base), "--add", str(export), "-o", str(tmp_path / "m"), "--folds", "0"])
    assert trained.exit_code == 0, trained.output


def test_unusable_labels_are_named_with_file_and_row(classified, labels, small_base, tmp_path):
    filled, frame = _filled(classified, labels, "bad.xlsx")
    frame = frame.copy()
    first = frame.index[frame["role"].notna()][:3]
    frame.loc[first[0], "role"] = "销售大神"
    frame.loc[first[1], "id"] = "someone-edited-this"
    twin = frame.loc[[first[2]]].assign(role=taxonomy().label("other") if frame.loc[first[2], "role"] != taxonomy().label("other") else taxonomy().label("sales"))
    bad = pd.concat([frame, twin], ignore_index=True)
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    data = load_labelled([path])
    text = "\n".join(data.problems)
    assert f"{path} row {first[0] + 1}: unknown role '销售大神'" in text
    assert f"{path} row {first[1] + 1}: its id or text was changed" in text
    assert "same text labelled" in text and f"row {len(bad)}" in text
    empty = tmp_path / "empty.csv"
    frame.assign(role=None).to_csv(empty, index=False)
    with pytest.raises(TrainingDataError, match="the role column is empty"):
        load_labelled([empty])
    result = CliRunner().invoke(app, ["train", str(small_base), "--add", str(empty), "-o", str(tmp_path / "never")])
    assert result.exit_code == 1 and "role column is empty" in result.output and not (tmp_path / "never").exists()


def test_evaluate_two_models_side_by_side_with_their_disagreements(small_base, labels, tmp_path):
    runner = CliRunner()
    for name, c in (("a", "0.1"), ("b", "1.0")):
        assert runner.invoke(app, ["train", str(small_base), "-o", str(tmp_path / name), "--folds", "0", "--C", c]).exit_code == 0
    held_out = tmp_path / "held_out.csv"
    labels[labels["role"].isin(ROLES)].groupby("role").tail(10)[["title", "description", "role"]].to_csv(held_out, index=False)
    out = tmp_path / "disagree.xlsx"
    result = runner.invoke(app, ["evaluate", str(held_out), "--model", str(tmp_path / "a"), "--model", str(tmp_path / "b"), "--disagreements", str(out)])
    assert result.exit_code == 0, result.output
    assert "per role" in result.output and "change" in result.output
    disagreements = pd.read_excel(out)
    assert {"title", "description", "label"} <= set(disagreements.columns) and len(disagreements.columns) == 7
