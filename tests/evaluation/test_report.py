import keras
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import zoo
from zoo.evaluation.report import multiclass_head_report, sigmoid_head_report
from zoo.training.losses import AsymmetricLoss, WeightedBinaryCrossentropy, make_loss
from zoo.models.metrics import ExactMatchAccuracy
from zoo.evaluation.thresholds import best_thresholds, cross_fitted_report, cross_fitted_thresholds

Y_TRUE = np.array([[1, 0, 0, 1], [1, 0, 1, 1], [0, 1, 0, 0], [0, 1, 1, 0], [1, 1, 0, 0]], "float32")
Y_PRED = np.array([[1, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0], [0, 1, 1, 0], [1, 1, 1, 0]], "float32")


def test_worked_example_hamming_and_exact_match():
    hamming = keras.metrics.BinaryAccuracy()
    hamming.update_state(Y_TRUE, Y_PRED)
    exact = ExactMatchAccuracy()
    exact.update_state(Y_TRUE, Y_PRED)
    assert float(hamming.result()) == pytest.approx(0.85)
    assert float(exact.result()) == pytest.approx(0.4)
    report = sigmoid_head_report(zoo.Head("t", list("abcd")), Y_TRUE, Y_PRED * 0.8 + 0.1)
    assert report["summary"]["hamming_accuracy"] == pytest.approx(0.85)
    assert report["summary"]["exact_match"] == pytest.approx(0.4)


def test_training_metrics_match_sklearn_on_random_predictions():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, (64, 5)).astype("float32")
    scores = rng.random((64, 5)).astype("float32")
    y_pred = (scores > 0.5).astype(int)
    head = zoo.Head("t", list("abcde"))
    values = {}
    for metric in head.metrics():
        metric.update_state(y_true, scores)
        values[metric.name] = float(np.asarray(metric.result()))
    assert values["binary_accuracy"] == pytest.approx(1 - skm.hamming_loss(y_true, y_pred), abs=1e-6)
    assert values["exact_match"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-6)
    assert values["f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="micro"), abs=1e-5)
    assert values["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"), abs=1e-5)
    assert values["precision"] == pytest.approx(skm.precision_score(y_true, y_pred, average="micro"), abs=1e-5)
    assert values["recall"] == pytest.approx(skm.recall_score(y_true, y_pred, average="micro"), abs=1e-5)
    expected_map = skm.average_precision_score(y_true, scores, average="macro")
    assert values["map"] == pytest.approx(expected_map, abs=0.03)  # Keras interpolates the PR curve


def test_multilabel_report_equals_sklearn():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, (50, 4))
    scores = rng.random((50, 4))
    thresholds = [0.3, 0.5, 0.6, 0.7]
    report = sigmoid_head_report(zoo.Head("t", list("abcd")), y_true, scores, thresholds)
    y_pred = (scores > np.array(thresholds)).astype(int)
    summary = report["summary"]
    assert summary["hamming_loss"] == pytest.approx(skm.hamming_loss(y_true, y_pred))
    assert summary["exact_match"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    for average in ("micro", "macro", "weighted", "samples"):
        assert summary[f"{average}_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average=average, zero_division=0))
    assert summary["mAP"] == pytest.approx(skm.average_precision_score(y_true, scores, average="macro"))
    per_class = report["per_class"]
    np.testing.assert_allclose(per_class["recall"], skm.recall_score(y_true, y_pred, average=None))
    np.testing.assert_array_equal(per_class["tp"], (y_true & y_pred).sum(axis=0))
    np.testing.assert_array_equal(per_class["support"], y_true.sum(axis=0))


def test_multiclass_report_equals_sklearn():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 40)
    scores = rng.random((40, 3))
    report = multiclass_head_report(zoo.Head("k", ["a", "b", "c"], kind="multiclass"), np.eye(3)[truth], scores)
    assert report["summary"]["accuracy"] == pytest.approx(skm.accuracy_score(truth, scores.argmax(1)))
    np.testing.assert_array_equal(report["confusion"].to_numpy(), skm.confusion_matrix(truth, scores.argmax(1)))


def test_evaluate_a_model_uses_stored_thresholds():
    heads = [zoo.Head("tags", ["a", "b"]), zoo.Head("kind", ["x", "y", "z"], kind="multiclass")]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3))
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (12, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (12, 2)).astype("float32"), "kind": np.eye(3)[rng.integers(0, 3, 12)]}
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, targets)).batch(5)
    probabilities = model.predict(images, verbose=0)
    zoo.models.card.update_head(model, "tags", threshold=[0.0, 1.0])  # everything a, nothing b
    report = zoo.evaluate(model, dataset)
    expected_pred = np.column_stack([np.ones(12), np.zeros(12)])
    assert report["tags"]["summary"]["exact_match"] == pytest.approx(
        skm.accuracy_score(targets["tags"], expected_pred))
    assert report["kind"]["summary"]["accuracy"] == pytest.approx(
        skm.accuracy_score(targets["kind"].argmax(1), probabilities["kind"].argmax(1)))
    table = zoo.summary_table(report)
    assert set(table.index) == {"tags", "kind"}


def test_thresholds_found_where_they_are_known():
    # Label 0 is separable at 0.3, label 1 at 0.8.
    scores = np.array([[0.1, 0.7], [0.25, 0.75], [0.35, 0.85], [0.6, 0.95]])
    y_true = np.array([[0, 0], [0, 0], [1, 1], [1, 1]])
    per_class = best_thresholds(y_true, scores, "f1")
    assert 0.25 < per_class[0] < 0.35 and 0.75 < per_class[1] < 0.85
    hamming = best_thresholds(y_true, scores, "hamming")
    np.testing.assert_allclose(hamming, per_class)
    exact = best_thresholds(y_true, scores, "exact_match")
    assert np.all((scores > exact) == y_true)
    single = best_thresholds(y_true, scores, "f1", per_class=False)
    assert single[0] == single[1]
    with pytest.raises(ValueError, match="Received: metric='auc'"):
        best_thresholds(y_true, scores, "auc")


def test_cross_fitted_thresholds_come_from_the_other_fold():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, (40, 3))
    scores = np.clip(y_true * 0.3 + rng.uniform(0, 0.7, (40, 3)), 0, 1)
    thresholds = cross_fitted_thresholds(y_true, scores, "f1", folds=2, seed=3)
    assert thresholds.shape == (40, 3)
    fold_of = np.random.default_rng(3).permutation(40) % 2
    for fold in (0, 1):
        inside = fold_of == fold
        expected = best_thresholds(y_true[~inside], scores[~inside], "f1")
        np.testing.assert_allclose(thresholds[inside], np.broadcast_to(expected, (inside.sum(), 3)))
    with pytest.raises(ValueError, match="Received: folds=1"):
        cross_fitted_thresholds(y_true, scores, folds=1)


def test_cross_fitted_report_scores_each_sample_with_its_own_thresholds():
    import tensorflow as tf

    model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (20, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (20, 2)).astype("float32")}
    dataset = tf.data.Dataset.from_tensor_slices((images, targets)).batch(8)
    report = cross_fitted_report(model, dataset, "hamming", folds=4, seed=0)
    scores = model.predict(images, verbose=0)["tags"]
    thresholds = cross_fitted_thresholds(targets["tags"], scores, "hamming", folds=4, seed=0)
    expected = skm.hamming_loss(targets["tags"], (scores > thresholds).astype(int))
    assert report["tags"]["summary"]["hamming_loss"] == pytest.approx(expected)
    np.testing.assert_allclose(report["tags"]["per_class"]["threshold"], thresholds.mean(axis=0), rtol=1e-6)
    assert zoo.model_info(model)["heads"]["tags"]["threshold"] == 0.5  # the model is left alone


def test_reports_from_one_prediction_pass_match_reports_from_the_dataset():
    import tensorflow as tf

    from zoo.evaluation.report import predict_with_targets

    model = zoo.build("multilabel_small", heads={"tags": ["a", "b", "c"]}, input_shape=(32, 32, 3))
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, (24, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (24, 3)).astype("float32")}
    dataset = tf.data.Dataset.from_tensor_slices((images, targets)).batch(8)
    predictions = zoo.Predictions.of(model, dataset)
    pd.testing.assert_frame_equal(zoo.summary_table(zoo.evaluate(model, predictions)),
                                  zoo.summary_table(zoo.evaluate(model, dataset)))
    pd.testing.assert_frame_equal(
        zoo.summary_table(cross_fitted_report(model, predictions, "hamming")),
        zoo.summary_table(cross_fitted_report(model, dataset, "hamming")),
    )
    assert zoo.tune_thresholds(model, predictions) == zoo.tune_thresholds(model, dataset)
    # The older keyword forms still work: a (probabilities, targets) tuple, or dataset=.
    pair = predict_with_targets(model, dataset)
    pd.testing.assert_frame_equal(zoo.summary_table(zoo.evaluate(model, predictions=pair)),
                                  zoo.summary_table(zoo.evaluate(model, dataset=dataset)))
    assert zoo.tune_thresholds(model, predictions=predictions) == zoo.tune_thresholds(model, dataset=dataset)
    with pytest.raises(ValueError, match=r"zoo.Predictions.of\(model, dataset\).*Received neither"):
        zoo.evaluate(model)
    with pytest.raises(ValueError, match="Received: 2 of data, dataset= and predictions="):
        zoo.evaluate(model, dataset, predictions=predictions)


def test_tuned_thresholds_are_stored_and_survive_save(tmp_path):
    import tensorflow as tf

    model = zoo.build("multilabel_small", heads={"tags": ["a", "b", "c"]}, input_shape=(32, 32, 3))
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (16, 3)).astype("float32")}
    tuned = zoo.tune_thresholds(model, tf.data.Dataset.from_tensor_slices((images, targets)).batch(8))
    assert len(tuned["tags"]) == 3
    zoo.save_model(model, tmp_path / "m.keras")
    assert zoo.model_info(zoo.load_model(tmp_path / "m.keras"))["heads"]["tags"]["threshold"] == tuned["tags"]


def test_weighted_bce_and_asymmetric_by_hand():
    y_true = np.array([[1.0, 0.0]])
    y_pred = np.array([[0.8, 0.3]])
    loss = WeightedBinaryCrossentropy(pos_weight=[2.0, 5.0])
    expected = -(2.0 * np.log(0.8) + np.log(0.7)) / 2
    assert float(loss(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)
    plain = make_loss("weighted_bce", pos_weight=1.0)
    bce = keras.losses.BinaryCrossentropy()
    assert float(plain(y_true, y_pred)) == pytest.approx(float(bce(y_true, y_pred)), rel=1e-4)
    asymmetric = AsymmetricLoss(gamma_pos=1.0, gamma_neg=2.0, clip=0.1)
    shifted = 0.3 - 0.1
    expected = -((1 - 0.8) * np.log(0.8) + shifted**2 * np.log(1 - shifted)) / 2
    assert float(asymmetric(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)
    assert isinstance(make_loss("focal", gamma=2.0), keras.losses.BinaryFocalCrossentropy)
    with pytest.raises(ValueError, match="Received: loss='hinge'"):
        make_loss("hinge")


def test_custom_losses_survive_keras_file(tmp_path):
    heads = [zoo.Head("tags", ["a", "b"])]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), compile=False)
    zoo.compile_model(model, losses={"tags": AsymmetricLoss(gamma_neg=3.0)})
    zoo.save_model(model, tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.loss["tags"], AsymmetricLoss) and loaded.loss["tags"].gamma_neg == 3.0


def test_per_class_f1_thresholds_maximize_each_class_own_f1():
    rng = np.random.default_rng(3)
    y_true = (rng.random((60, 3)) < [0.2, 0.5, 0.8]).astype(int)
    scores = np.clip(y_true * 0.3 + rng.random((60, 3)) * 0.7, 0, 1)
    tuned = best_thresholds(y_true, scores, metric="f1", per_class=True)
    for j in range(3):
        best = max(skm.f1_score(y_true[:, j], scores[:, j] > t, zero_division=0) for t in np.unique(scores[:, j]))
        assert skm.f1_score(y_true[:, j], scores[:, j] > tuned[j], zero_division=0) == pytest.approx(best)


def test_macro_f1_leaves_out_a_class_neither_present_nor_predicted():
    head = zoo.Head("kind", ["a", "b", "kept_in_training_only"], kind="multiclass")
    true_index, predicted_index = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0])
    report = multiclass_head_report(head, np.eye(3)[true_index], np.eye(3)[predicted_index])
    # scikit-learn's default macro average takes the classes found in the truth or the predictions
    assert report["summary"]["macro_f1"] == pytest.approx(skm.f1_score(true_index, predicted_index, average="macro"))
    assert report["summary"]["macro_f1"] == pytest.approx((1 / 2 + 2 / 3) / 2)  # a: 1 of 2 right, b: 2 of 3
    absent = report["per_class"].iloc[2]
    assert absent["support"] == 0 and np.isnan(absent[["precision", "recall", "f1"]].astype(float)).all()
    # predicted but never present: a real F1 of 0 that the mean keeps
    predicted_index[0] = 2
    report = multiclass_head_report(head, np.eye(3)[true_index], np.eye(3)[predicted_index])
    assert report["summary"]["macro_f1"] == pytest.approx(skm.f1_score(true_index, predicted_index, average="macro"))
    assert report["per_class"]["f1"].iloc[2] == 0.0


def test_multilabel_macro_f1_leaves_out_a_label_neither_present_nor_predicted():
    y_true = np.c_[Y_TRUE, np.zeros(5)]
    scores = np.c_[Y_PRED * 0.8 + 0.1, np.full(5, 0.1)]  # the fifth label: no positive, never predicted
    report = sigmoid_head_report(zoo.Head("t", list("abcde")), y_true, scores)
    assert report["summary"]["macro_f1"] == pytest.approx(skm.f1_score(Y_TRUE, Y_PRED, average="macro"))
    assert np.isnan(report["per_class"].iloc[4][["precision", "recall", "f1", "average_precision"]].astype(float)).all()
    scores[0, 4] = 0.9  # one false positive: that label's F1 is 0 and counts
    report = sigmoid_head_report(zoo.Head("t", list("abcde")), y_true, scores)
    expected = skm.f1_score(y_true, (scores > 0.5).astype(int), average="macro", zero_division=0)
    assert report["summary"]["macro_f1"] == pytest.approx(expected)
