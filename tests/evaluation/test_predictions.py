"""`zoo.Predictions`: one prediction pass that evaluation, thresholds and plots share."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image
from sklearn import metrics as skm

import zoo

HEADS = [zoo.Head("tags", ["a", "b", "c"]), zoo.Head("kind", ["x", "y"], kind="multiclass")]


def _model_and_data(n=20, seed=0):
    model = zoo.build("multilabel_small", heads=HEADS, input_shape=(32, 32, 3), weights=None)
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (n, 3)).astype("float32"), "kind": np.eye(2)[rng.integers(0, 2, n)]}
    dataset = tf.data.Dataset.from_tensor_slices((images, targets)).shuffle(n, seed=1).batch(6)
    return model, images, targets, dataset


def test_a_predictions_report_is_the_report_from_the_dataset():
    model, images, targets, dataset = _model_and_data()
    predictions = zoo.Predictions.of(model, dataset)
    assert len(predictions) == 20 and [h.name for h in predictions.heads] == ["tags", "kind"]
    from_predictions, from_dataset = zoo.evaluate(model, predictions), zoo.evaluate(model, dataset)
    pd.testing.assert_frame_equal(zoo.summary_table(from_predictions), zoo.summary_table(from_dataset))
    for name in ("tags", "kind"):
        pd.testing.assert_frame_equal(from_predictions[name]["per_class"], from_dataset[name]["per_class"])
    pd.testing.assert_frame_equal(from_predictions["kind"]["confusion"], from_dataset["kind"]["confusion"])
    expected = skm.accuracy_score(targets["kind"].argmax(1), model.predict(images, verbose=0)["kind"].argmax(1))
    assert from_predictions["kind"]["summary"]["accuracy"] == pytest.approx(expected)


def test_thresholds_tuned_on_predictions_give_the_figures_sklearn_computes_by_hand():
    model = zoo.build("multilabel_small", heads=HEADS, input_shape=(32, 32, 3), weights=None)
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, (40, 3))
    scores = np.clip(y_true * [0.1, 0.3, 0.5] + rng.uniform(0, 0.6, (40, 3)), 0, 1)  # informative, not separable
    kind = np.eye(2)[rng.integers(0, 2, 40)]
    predictions = zoo.Predictions({"tags": scores, "kind": kind}, {"tags": y_true, "kind": kind}, HEADS)
    tuned = np.array(zoo.tune_thresholds(model, predictions, metric="hamming")["tags"])
    assert zoo.model_info(model)["heads"]["tags"]["threshold"] == tuned.tolist()
    for j in range(3):  # each class's threshold gives the best accuracy any threshold gives that class
        best = max(skm.accuracy_score(y_true[:, j], scores[:, j] > t) 
                   for t in np.append(np.unique(scores[:, j]) - 1e-9, 1.0))
        assert skm.accuracy_score(y_true[:, j], scores[:, j] > tuned[j]) == pytest.approx(best)
    y_pred = (scores > tuned).astype(int)
    summary = zoo.evaluate(model, predictions)["tags"]["summary"]
    assert summary["hamming_loss"] == pytest.approx(skm.hamming_loss(y_true, y_pred))
    assert summary["exact_match"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert summary["micro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="micro", zero_division=0))
    assert summary["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert summary["samples_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="samples", zero_division=0))
    at_half = zoo.evaluate(model, predictions, thresholds={"tags": 0.5})["tags"]["summary"]
    assert at_half["hamming_loss"] == pytest.approx(skm.hamming_loss(y_true, (scores > 0.5).astype(int)))


def test_predictions_check_their_heads_and_rows():
    tags = HEADS[0]
    with pytest.raises(ValueError, match="missing targets of 'tags'"):
        zoo.Predictions({"tags": np.zeros((2, 3))}, {}, [tags])
    with pytest.raises(ValueError, match=r"Received: \[2, 3\] rows"):
        zoo.Predictions({"tags": np.zeros((2, 3))}, {"tags": np.zeros((3, 3))}, [tags])
    only_tags = zoo.Predictions({"tags": np.zeros((2, 3))}, {"tags": np.zeros((2, 3))}, [tags])
    model = zoo.build("multilabel_small", heads=HEADS, input_shape=(32, 32, 3), weights=None)
    with pytest.raises(ValueError, match="no head 'kind'"):
        zoo.evaluate(model, only_tags)
    with pytest.raises(TypeError, match=r"must be a zoo.Predictions: .*Received: type list"):
        zoo.evaluate(model, predictions=[1, 2])


def test_evaluate_cli_tunes_on_one_pass(tmp_path, monkeypatch):
    from zoo.cli import main

    rng = np.random.default_rng(0)
    rows = []
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
        rows.append({"filename": f"{i}.png", "labels": "a b" if i % 3 else "a"})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    model = zoo.build("multilabel_small", heads={"labels": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
    zoo.save_model(model, tmp_path / "model.keras")
    passes = []
    original = zoo.Predictions.of.__func__
    monkeypatch.setattr(zoo.Predictions, "of",
                        classmethod(lambda cls, *a, **k: passes.append(1) or original(cls, *a, **k)))
    source = ["--csv", str(tmp_path / "labels.csv"), "--images", str(tmp_path), "--delimiter", " "]
    assert main(["evaluate", str(tmp_path / "model.keras"), *source, "--tune-thresholds", "f1",
                 "--output", str(tmp_path / "r.csv")]) == 0
    assert len(passes) == 1
    assert set(pd.read_csv(tmp_path / "r.csv")["class"]) == {"(all)", "a", "b"}
