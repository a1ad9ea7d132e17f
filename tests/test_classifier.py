import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from typer.testing import CliRunner

from pipeline.estimator import RoleClassifier
from pipeline.folds import grouped_folds, repost_groups
from pipeline.cli import app
from pipeline.model_store import ModelError, load_estimator, load_model
from pipeline.sections import split_sections
from pipeline.tokenize import agreement, get_tokenizer
from pipeline.train import TrainingDataError, evaluate, load_labelled, train

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_labelled(tmp_path_factory, labels):
    """A real labelled subset: 8 roles × up to 25 ads, as a CSV a user would hand in."""
    roles = ["sales", "customer_service", "new_media", "logistics", "after_sales", "presales", "implementation", "other"]
    subset = labels[labels["role"].isin(roles)].groupby("role").head(25)
    path = tmp_path_factory.mktemp("labelled") / "labelled.csv"
    subset[["title", "description", "role", "sure"]].to_csv(path, index=False)
    return path


def test_tokenizer_keeps_domain_words_whole():
    for backend in ("rjieba", "jieba"):
        tokens = get_tokenizer(backend).cut("负责客户成功与售前工程师工作，做信息流投放和私域运营，熟悉SaaS与CRM")
        for word in ("客户成功", "售前工程师", "信息流", "私域运营", "SaaS", "CRM"):
            assert word in tokens, (backend, word, tokens)


def test_fast_and_reference_tokenizers_agree_on_real_ads(corpus_sample):
    texts = corpus_sample["description"].dropna().head(100)
    assert agreement(texts, get_tokenizer("rjieba"), get_tokenizer("jieba")) > 0.98


def test_sections_put_duties_apart_from_benefits():
    duties, requirements = split_sections("岗位职责：\n1、负责渠道拓展\n任职要求：\n1、两年经验\n福利待遇：\n五险一金，包吃住")
    assert "渠道拓展" in duties and "两年经验" in requirements
    assert "五险一金" not in duties + requirements
    assert split_sections("负责客户回访") == ("负责客户回访", "")


def test_label_problems_are_reported_with_file_and_row(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(
        "title,description,role\n客服,回答问题,customer_service\n销售,卖货,销售大神\n,,sales\n运营,写公众号,new_media\n运营,写公众号,content_ops\n",
        encoding="utf-8",
    )
    data = load_labelled([path])
    problems = "\n".join(data.problems)
    assert f"{path} row 2: unknown role '销售大神'" in problems
    assert f"{path} row 3: no title and no description" in problems
    assert "same text labelled ['content_ops', 'new_media']" in problems and "row 4" in problems and "row 5" in problems
    assert data.frame["role"].tolist() == ["customer_service"]
    assert data.frame["sure"].isna().all() and data.weights.tolist() == [1.0], "no sure column: unknown sureness, full weight"
    with pytest.raises(TrainingDataError, match="at least two roles"):
        train([path], tmp_path / "model", folds=0)


def test_training_refuses_a_file_without_roles(tmp_path):
    path = tmp_path / "unlabelled.csv"
    path.write_text("title,description\n客服,回答问题\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="no `role` column"):
        load_labelled([path])


def test_train_save_load_predict_and_deterministic_id(small_labelled, tmp_path):
    first = train([small_labelled], tmp_path / "m1", folds=3)
    second = train([small_labelled], tmp_path / "m2", folds=3)
    assert first.model.id == second.model.id, "the same data gives the same model id"
    meta = json.loads((tmp_path / "m1" / "metadata.json").read_text(encoding="utf-8"))
    for key in ("model_id", "created_at", "taxonomy_hash", "training_data_hash", "samples_per_class", "cv_metrics", "library_versions", "file_sha256"):
        assert key in meta
    assert meta["cv_metrics"]["macro_f1"] > 0.5
    cv = meta["cv_metrics"]
    # The review status adds the close calls to the 20% least confident rows: more rows, more errors.
    assert cv["review_status"]["threshold"] == cv["confidence"]["review_threshold"]
    assert cv["review_status"]["share"] >= 0.19 and cv["review_status"]["capture"] >= cv["confidence"]["review_capture"]
    by_sureness, sure = meta["cv_metrics"]["by_sureness"], pd.read_csv(small_labelled)["sure"]
    assert {name: m["ads"] for name, m in by_sureness.items()} == {name: int((sure == level).sum()) for level, name in ((3, "clear"), (2, "probable"), (1, "guess")) if (sure == level).any()}
    errors = round((1 - meta["cv_metrics"]["accuracy"]) * len(sure))
    assert sum(round(m["ads"] * (1 - m["accuracy"])) for m in by_sureness.values()) == errors
    assert sum(m["error_share"] for m in by_sureness.values()) == pytest.approx(1.0 if errors else 0.0)
    assert (tmp_path / "m1" / "README.md").read_text(encoding="utf-8").startswith("# tobroles model")
    model = load_model(tmp_path / "m1")
    frame = pd.DataFrame({"title": ["仓库管理员", "售后工程师"], "description": ["负责仓库出入库与盘点", "负责设备的安装调试与维修"]})
    assert list(model.classifier.predict(frame)) == ["logistics", "after_sales"]
    proba = model.classifier.predict_proba(frame)
    assert np.allclose(proba.sum(axis=1), 1) and proba.shape == (2, 8)


@pytest.mark.parametrize("name, loader", [("model.skops", load_estimator), ("linear.npz", load_model), ("linear.json", load_model)])
def test_a_tampered_model_file_is_refused(small_labelled, tmp_path, name, loader):
    train([small_labelled], tmp_path / "m", folds=0)
    model_file = tmp_path / "m" / name
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="hash does not match"):
        loader(tmp_path / "m")


def test_a_model_of_another_taxonomy_is_refused(small_labelled, tmp_path):
    train([small_labelled], tmp_path / "m", folds=0)
    meta_path = tmp_path / "m" / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["taxonomy_hash"] = "0000"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="retrain"):
        load_model(tmp_path / "m")


def test_reposts_of_an_ad_stay_in_one_fold(labels):
    groups = repost_groups(labels["description"])
    assert pd.Series(groups).value_counts().max() >= 5, "the bundled labels hold one ad reposted in several cities"
    assert len(set(groups)) < len(labels)
    for train_idx, test_idx in grouped_folds(groups, labels["role"], 5, seed=0):
        assert not set(groups[train_idx]) & set(groups[test_idx])


def test_a_role_known_only_from_reposts_of_one_ad_still_trains(small_labelled, tmp_path):
    frame = pd.read_csv(small_labelled)
    ad = load_labelled().frame.query("role == 'training'").iloc[0]
    reposts = pd.DataFrame({"title": [ad["title"]] * 2, "description": [ad["description"], ad["description"] + "\n工作地点:杭州"], "role": "training", "sure": 3})
    path = tmp_path / "with_reposts.csv"
    pd.concat([frame, reposts]).to_csv(path, index=False)
    result = train([path], tmp_path / "m", folds=3)
    assert result.cv_metrics["folds"] == 2, "folds are capped by the thinnest role"
    assert result.cv_metrics["per_role"]["training"]["recall"] == 0, "its reposts were never on both sides of a fold"
    assert "training" in result.model.classifier.classes_
    assert 0 < result.model.classifier.temperature_ < 20


def test_a_model_from_an_older_tobroles_is_refused_clearly(small_labelled, tmp_path):
    classifier = train([small_labelled], tmp_path / "m", folds=0).model.classifier
    del classifier.subclass_owner_  # what a model saved before `other` was clustered lacks
    model_file, meta_file = tmp_path / "m" / "model.skops", tmp_path / "m" / "metadata.json"
    sio.dump(classifier, model_file)
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["file_sha256"] = hashlib.sha256(model_file.read_bytes()).hexdigest()
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="older tobroles.*retrain"):
        load_estimator(tmp_path / "m")


def test_other_is_learned_as_clusters_and_answered_as_one_class(shipped_model, shipped_estimator, labels):
    clf = shipped_estimator.classifier
    other = list(clf.classes_).index("other")
    clusters = np.flatnonzero(clf.subclass_owner_[clf.svm_.classes_] == other)
    assert len(clusters) == shipped_model.metadata["other_clusters"] == 8
    ads = labels[labels["role"] == "other"].head(200)[["title", "description"]]
    ads = ads[~clf.linear().title_only(clf.features(ads))]  # the title view scores the others
    scores = clf.decision_function(ads)
    assert scores.shape == (len(ads), len(clf.classes_))
    features = clf.features(ads)
    module_score = clf.module_svm_.decision_function(features)[:, list(clf.module_svm_.classes_).index("other")]
    best_cluster = clf.svm_.decision_function(features)[:, clusters].max(axis=1)
    assert np.allclose(scores[:, other], best_cluster + clf.module_weight * module_score)
    assert np.allclose(clf.predict_proba(ads).sum(axis=1), 1)
    out = shipped_model.classify(ads, explain=True)
    assert set(out["role"]) <= set(clf.classes_) and (out["role"] == "other").mean() > 0.9
    assert (out.loc[out["role"] == "other", "explanation"].str.len() > 0).mean() > 0.9, "an `other` label is explained by its cluster's terms"


def test_other_is_one_class_when_it_has_too_few_ads_to_cluster(small_labelled):
    data = load_labelled([small_labelled])  # 25 `other` ads: fewer than two clusters' worth
    clf = RoleClassifier(other_clusters=8).fit(data.X, data.y)
    assert list(clf.svm_.classes_) == list(range(len(clf.classes_)))
    assert set(clf.predict(data.X)) <= set(clf.classes_)


def test_the_module_svm_adds_to_every_role_of_its_module(shipped_model, shipped_estimator, labels):
    clf = shipped_estimator.classifier
    assert clf.module_weight == shipped_model.metadata["module_weight"] > 0
    assert list(clf.module_svm_.classes_) == ["acquisition", "conversion", "other", "service"]
    ads = labels[labels["role"] != "other"].head(200)[["title", "description"]]
    features = clf.features(ads)
    roles_only = clf._class_scores(clf.svm_, None, features)
    module_scores = clf.module_svm_.decision_function(features)
    for i, role in enumerate(clf.classes_):
        column = list(clf.module_svm_.classes_).index(clf.class_modules_[i])
        assert np.allclose(clf.decision_function(ads)[:, i] - roles_only[:, i], clf.module_weight * module_scores[:, column]), role
    # Explanations stay exact: each term's weight includes the module SVM's share.
    ad = ads.head(1)
    role = clf.predict(ad)[0]
    row = clf.features(ad).toarray()[0]
    i = list(clf.svm_.classes_).index(list(clf.classes_).index(role))
    module = list(clf.module_svm_.classes_).index(clf.class_modules_[list(clf.classes_).index(role)])
    expected = row * (clf.svm_.coef_[i] + clf.module_weight * clf.module_svm_.coef_[module])
    top = np.sort(expected)[::-1][:3].round(3)
    assert [w for _, w in clf.explain(ad, [role], top=3)[0]] == list(top)


def test_without_the_module_svm(small_labelled):
    data = load_labelled([small_labelled])
    clf = RoleClassifier(module_weight=0).fit(data.X, data.y)
    assert clf.module_svm_ is None
    assert np.allclose(clf.decision_function(data.X), clf._class_scores(clf.svm_, None, clf.features(data.X)))


def test_parameters_are_validated_in_fit():
    frame = pd.DataFrame({"title": ["a", "b", "c", "d"], "description": ["x", "y", "z", "w"]})
    with pytest.raises(ValueError, match="C must be positive"):
        RoleClassifier(C=0).fit(frame, ["sales", "sales", "other", "other"])
    with pytest.raises(ValueError, match="other_clusters"):
        RoleClassifier(other_clusters=0).fit(frame, ["sales", "sales", "other", "other"])
    with pytest.raises(ValueError, match="module_weight"):
        RoleClassifier(module_weight=-1).fit(frame, ["sales", "sales", "other", "other"])
    with pytest.raises(ValueError, match="unknown.*cashier"):
        RoleClassifier().fit(frame, ["sales", "sales", "cashier", "other"])
    with pytest.raises(ValueError, match="backend"):
        RoleClassifier(backend="thulac").fit(frame, ["sales", "sales", "other", "other"])
    with pytest.raises(ValueError, match="columns"):
        RoleClassifier().fit(frame[["title"]], ["sales", "sales", "other", "other"])


def test_shipped_model_explains_its_labels(shipped_model):
    frame = pd.DataFrame({"title": ["客户成功经理"], "description": ["负责客户续约、续费和健康度，提升客户满意度"]})
    out = shipped_model.classify(frame, explain=True)
    assert out["role"].iloc[0] == "customer_success" and out["module"].iloc[0] == "service"
    assert "续费" in out["explanation"].iloc[0]


def test_fast_features_equal_sklearns(shipped_estimator, corpus_sample):
    clf = shipped_estimator.classifier
    fast = clf.features(corpus_sample)
    reference = clf.vectorizers_.transform(clf.text_.transform(corpus_sample))
    assert abs(fast - reference).max() < 1e-6


def test_the_arrays_predict_exactly_as_the_estimator(shipped_model, shipped_estimator, corpus_sample, labels):
    ads = pd.concat([corpus_sample, labels.head(300)], ignore_index=True)[["title", "description"]]
    assert shipped_model.id == shipped_estimator.id
    assert list(shipped_model.classifier.predict(ads)) == list(shipped_estimator.classifier.predict(ads))
    assert np.allclose(shipped_model.classifier.predict_proba(ads), shipped_estimator.classifier.predict_proba(ads), atol=1e-9)


def test_classifying_a_local_file_imports_only_what_it_needs(tmp_path):
    # Each of these costs 0.1-2 s of start-up: scikit-learn and skops are for training, httpx for URLs,
    # and pydantic came with typer 0.29's option parsing.
    code = (
        "import sys; from typer.testing import CliRunner; from pipeline.cli import app; "
        f"r = CliRunner().invoke(app, ['classify', 'tests/fixtures/raw/neitui_运营.csv', '-o', {str(tmp_path / 'out.csv')!r}]); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('sklearn', 'skops', 'httpx', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    help_code = "import sys; from typer.testing import CliRunner; from pipeline.cli import app; CliRunner().invoke(app, ['--help']); CliRunner().invoke(app, ['roles']); print(sorted(m for m in ('sklearn', 'skops', 'scipy', 'httpx', 'pydantic') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", help_code], capture_output=True, text=True, cwd=REPO, check=True).stdout.strip() == "[]"


def test_evaluate_and_train_commands(small_labelled, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(small_labelled), "-o", str(tmp_path / "m"), "--folds", "3"])
    assert result.exit_code == 0, result.output
    assert "3-fold cross-validation" in result.output and "macro-F1" in result.output
    assert "by the annotator's sureness: clear" in result.output
    result = runner.invoke(app, ["evaluate", str(small_labelled), "--model", str(tmp_path / "m"), "--json"])
    metrics = json.loads(result.stdout)
    assert metrics["accuracy"] > 0.9 and set(metrics["per_role"]) >= {"sales", "other"}
    assert evaluate([small_labelled], tmp_path / "m")["model_id"] == metrics["model_id"]
    # The review status is measured as `classify` writes it for the same file.
    out = tmp_path / "classified.csv"
    assert runner.invoke(app, ["classify", str(small_labelled), "--model", str(tmp_path / "m"), "-o", str(out)]).exit_code == 0
    classified = pd.read_csv(out)
    wrong, review = classified["role"] != classified["input_role"], classified["status"] == "review"  # the file's own role is kept as input_role
    assert metrics["review_status"]["share"] == pytest.approx(review.mean(), abs=1e-4)
    assert metrics["review_status"]["capture"] == (pytest.approx((wrong & review).sum() / wrong.sum(), abs=1e-4) if wrong.any() else 1.0)
    assert 0 <= metrics["confidence"]["review_capture"] <= 1 and set(metrics["by_sureness"]) <= {"clear", "probable", "guess"}
    result = runner.invoke(app, ["evaluate", str(small_labelled), "--model", str(tmp_path / "m"), "--model", str(tmp_path / "m")])
    assert result.exit_code == 0 and "review capture" in result.output and "ECE" in result.output


def test_two_readings_the_adjudicated_one_is_the_label(labels):
    from pipeline.train import load_labelled

    data = load_labelled()
    frame = data.frame
    second = labels.dropna(subset=["role_2"])
    differ = second[second["role"] != second["role_2"]]
    third = (differ["role_adjudicated"] != differ["role"]) & (differ["role_adjudicated"] != differ["role_2"])  # neither reading won
    assert frame["role_alt"].notna().sum() == len(differ) - third.sum()
    assert (frame["role"] != frame["role_1"]).sum() == (differ["role_adjudicated"] != differ["role"]).sum() > 200
    X, y, w = data.training_set(alt_weight=0.3)
    n, alt = len(frame), frame["role_alt"].notna().to_numpy()
    assert len(X) == len(y) == len(w) == n + alt.sum()
    assert list(y[n:]) == frame.loc[alt, "role_alt"].tolist()
    np.testing.assert_allclose(w[:n][alt] + w[n:], frame.loc[alt, "weight"].to_numpy())  # an ad's weight is shared, not doubled


def test_the_other_clusters_do_not_depend_on_the_order_of_the_ads(shipped_estimator, labels):
    from pipeline.estimator import _stable_centres

    clf = shipped_estimator.classifier
    ads = labels[labels["role"] == "other"].head(600)[["title", "description"]]
    X = clf.features(ads)
    order = np.random.default_rng(0).permutation(X.shape[0])
    np.testing.assert_allclose(_stable_centres(X, 8), _stable_centres(X[order], 8), atol=1e-6)  # float32 sums


def test_retraining_on_0_3_percent_fewer_labels_moves_few_predictions(labels, corpus_sample):
    """The perturbation test of benchmarks/stability.py on a fifth of the labels (bar: < 2%)."""
    subset = labels.sample(2500, random_state=1)
    keep = np.ones(len(subset), dtype=bool)
    keep[np.random.default_rng(0).choice(len(subset), 8, replace=False)] = False

    def fit(rows):
        return RoleClassifier().fit(rows[["title", "description"]], rows["role"].to_numpy(dtype=object))

    postings = corpus_sample[["title", "description"]]
    changed = (fit(subset).predict(postings) != fit(subset[keep]).predict(postings)).mean()
    assert changed < 0.02


def test_character_ngrams_count_as_scikit_learns_char_wb(corpus_sample):
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.linear import TfidfBlock

    documents = [*corpus_sample["title"].fillna(""), *corpus_sample["company"].fillna(""), "", "   ", "a", "A  b\tC\u3000d", "İstanbul 办公室", "𠀀𠀁 ab\n新\u00a0媒体"]
    reference = CountVectorizer(analyzer="char_wb", ngram_range=(1, 3)).fit(documents)
    block = TfidfBlock("chars", "char_wb", (1, 3), frozenset(), dict(reference.vocabulary_), np.ones(len(reference.vocabulary_)), 1.0)
    assert abs(block.counts(documents) - reference.transform(documents)).max() == 0
