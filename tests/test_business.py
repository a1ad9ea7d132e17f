"""The employer's business type: labels, the model, company pooling, honest CV, and the report's
population of to-B employers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from pipeline.business import BUSINESS_COLUMNS, business_types, company_groups, company_key, pool_by_company, to_b_types
from pipeline.cli import app
from pipeline.folds import grouped_folds
from pipeline.report import build_report, load_classified
from pipeline.train import load_labelled


def test_the_spec_copy_and_the_labels(labels):
    assert list(business_types()) == ["platform", "service", "hardware", "to_c", "unclear"]
    assert to_b_types() == ["platform", "service", "hardware"]
    assert labels["business_type"].value_counts().to_dict() == {"to_c": 886, "service": 381, "hardware": 330, "unclear": 162, "platform": 141}
    data = load_labelled()
    assert data.frame["business_type"].notna().sum() == 1900


def test_pooling_gives_every_ad_of_a_company_its_company_answer():
    company = pd.Series(["甲科技有限公司", "甲科技 有限公司", "乙餐饮", None, "乙餐饮"])
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    pooled, ads = pool_by_company(company, proba)
    np.testing.assert_allclose(pooled[0], [0.6, 0.4]) and np.testing.assert_allclose(pooled[1], [0.6, 0.4])
    np.testing.assert_allclose(pooled[2], [0.3, 0.7])
    np.testing.assert_allclose(pooled[3], proba[3])  # no company: the ad stands alone
    assert ads.tolist() == [2, 2, 2, 1, 2]
    assert company_key(company).iloc[0] == company_key(company).iloc[1]


def test_the_cross_validation_never_splits_a_company(labels):
    frame = labels.dropna(subset=["business_type"]).reset_index(drop=True)
    groups = company_groups(frame["company"])
    key = company_key(frame["company"])
    assert len(set(groups)) == key.nunique() + key.isna().sum()  # an ad without a company is alone
    for train, test in grouped_folds(groups, frame["business_type"], 5, 0):
        assert not set(key.iloc[train].dropna()) & set(key.iloc[test].dropna())


def test_the_shipped_model_has_a_business_type_measured_by_company(shipped_model):
    cv = shipped_model.metadata["business_type"]["cv_metrics"]
    assert cv["companies"] > 1000 and cv["folds"] == 5
    per_ad = cv["per ad"]
    assert per_ad["ads"] == 1900 and 0.5 < per_ad["macro_f1"] and 0.7 < per_ad["to_b_vs_to_c_accuracy"]
    # Better than always answering the most frequent type (to_c: 886 of 1,900).
    assert per_ad["accuracy"] > 886 / 1900 + 0.15
    curve = cv["learning_curve"]
    assert list(curve) == ["25%", "50%", "100%"] and curve["100%"]["macro_f1"] > curve["25%"]["macro_f1"]


def test_classify_adds_the_business_type_pooled_over_a_companys_ads(tmp_path, corpus_sample):
    rows = corpus_sample.dropna(subset=["company", "description"]).head(40)[["title", "company", "description"]]
    twice = pd.concat([rows, rows.head(5).assign(title=rows.head(5)["title"] + "（二）")], ignore_index=True)
    source = tmp_path / "ads.csv"
    twice.to_csv(source, index=False)
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(app, ["classify", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert set(BUSINESS_COLUMNS) <= set(frame.columns)
    assert frame["business_type"].isin(list(business_types())).all()
    assert frame["business_type_confidence"].between(0, 1).all()
    for company, group in frame.groupby("company"):
        assert group["company_business_type"].nunique() == 1, company  # one answer per company
        assert (group["company_ads"] == len(group)).all()
    repeated = frame[frame["company_ads"] > 1]
    assert len(repeated) >= 10
    # jobs=2 pools over the whole chunk exactly as jobs=1 does
    other = tmp_path / "out2.parquet"
    assert CliRunner().invoke(app, ["classify", str(source), "-o", str(other), "--jobs", "2"]).exit_code == 0
    pd.testing.assert_frame_equal(frame, pd.read_parquet(other))


def test_the_report_rebuilds_the_studys_population(tmp_path, corpus_sample, shipped_model):
    source = tmp_path / "sample.parquet"
    corpus_sample.to_parquet(source)
    out = tmp_path / "classified.parquet"
    assert CliRunner().invoke(app, ["classify", str(source), "-o", str(out)]).exit_code == 0
    frame = load_classified([out])
    report = build_report(frame, model_metadata=shipped_model.metadata)
    to_b = report.tables["summary_to_b_employers"].set_index("role")
    expected = ((frame["business_type"].isin(to_b_types())) & frame["role"].notna() & (frame["role"] != "other")).sum()
    assert to_b.loc["total", "postings"] == expected < report.summary.set_index("role").loc["total", "postings"]
    counts = report.tables["business_types"].set_index("business_type")
    assert counts["postings"].sum() == frame["business_type"].notna().sum()
    wide = report.tables["roles_by_business_type"]
    for t in to_b_types():
        zh = business_types()[t]["zh"]
        in_type = frame[(frame["business_type"] == t) & (frame["role"] != "other")]
        assert wide[f"{zh} postings"].sum() == len(in_type)
    for suffix in ("html", "md", "xlsx", "json"):
        result = CliRunner().invoke(app, ["report", str(out), "-o", str(tmp_path / f"r.{suffix}")])
        assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "to-B employers only" in html and "What each business type hires most" in html
    assert "summary_to_b_employers" in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["tables"]


def test_train_learns_business_types_from_a_users_file(tmp_path, labels):
    sample = labels.dropna(subset=["business_type"]).sample(400, random_state=0)
    sample["business_type"] = sample["business_type"].map(lambda t: business_types()[t]["zh"])  # 中文 names work too
    source = tmp_path / "mine.csv"
    sample[["title", "company", "description", "role", "business_type"]].to_csv(source, index=False)
    from pipeline.train import train

    result = train([source], tmp_path / "m", folds=3)
    assert result.model.business is not None
    assert result.model.metadata["business_type"]["training_samples"] == 400
    metrics = CliRunner().invoke(app, ["evaluate", str(source), "--model", str(tmp_path / "m"), "--json"])
    assert metrics.exit_code == 0, metrics.output
    assert json.loads(metrics.stdout)["business_type"]["ads"] == 400


def test_a_model_without_business_labels_still_classifies(tmp_path, labels):
    sample = labels[labels["role"].isin(["sales", "customer_service", "logistics", "other"])].sample(300, random_state=1)[["title", "description", "role"]]
    source = tmp_path / "roles_only.csv"
    sample.to_csv(source, index=False)
    from pipeline.train import train

    model = train([source], tmp_path / "m", folds=0).model
    assert model.business is None
    out = model.classify(sample.head(5))
    assert "business_type" not in out.columns and out["role"].notna().all()
