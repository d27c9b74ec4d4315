"""Test-time augmentation: averaged views, evaluation and thresholds on the same probabilities."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

import zoo
from tests.harness import heads_for
from zoo.cli import main
from zoo.evaluation.report import predict_with_targets
from zoo.evaluation.thresholds import best_thresholds
from zoo.evaluation.tta import predict_tta, views


def _images(count=4, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (count, 32, 32, 3)).astype("float32")


def test_views_are_the_images_their_mirrors_and_mirrored_crops():
    images = _images(2)
    flip = views(images, "flip")
    assert len(flip) == 2
    np.testing.assert_array_equal(np.asarray(flip[0]), images)
    np.testing.assert_array_equal(np.asarray(flip[1]), images[:, :, ::-1])
    crops = views(images, "flip+crops")
    assert len(crops) == 12 and all(tuple(v.shape) == images.shape for v in crops)
    constant = np.full((1, 32, 32, 3), 7.0, "float32")
    for view in views(constant, "flip+crops"):
        np.testing.assert_allclose(np.asarray(view), constant, atol=1e-4)
    ramp = np.broadcast_to(np.arange(32, dtype="float32")[None, None, :, None], (1, 32, 32, 3))
    top_left, top_left_mirror = (np.asarray(v)[0, 0, :, 0] for v in views(ramp, "flip+crops")[4:6])
    # columns 0..27 stretched to 32: interior pixels at (x + 0.5) * 28 / 32 - 0.5
    np.testing.assert_allclose(top_left[1:-1], (np.arange(1, 31) + 0.5) * 28 / 32 - 0.5, atol=1e-4)
    np.testing.assert_array_equal(top_left_mirror, top_left[::-1])
    with pytest.raises(ValueError, match="Received: tta='rotate'"):
        views(images, "rotate")


def test_flip_probabilities_are_the_mean_over_images_and_mirrors():
    model = zoo.build("multilabel_small", heads=heads_for("multilabel_small"), input_shape=(32, 32, 3),
                      weights=None)
    images = _images()
    plain = model(images, training=False)
    mirrored = model(images[:, :, ::-1].copy(), training=False)
    averaged = predict_tta(model, images, "flip")
    assert set(averaged) == {"tags", "scene", "people"}
    for name in averaged:
        expected = (np.asarray(plain[name]) + np.asarray(mirrored[name])) / 2
        np.testing.assert_allclose(averaged[name], expected, atol=1e-6, err_msg=name)
        assert not np.allclose(averaged[name], np.asarray(plain[name]), atol=1e-6)  # the mirror counts
    frame = zoo.Predictor(model, tta="flip").predict(images)
    np.testing.assert_allclose(frame["tags:sunset"], averaged["tags"][:, 1], atol=1e-6)
    targets = {"tags": np.zeros((4, 3), "float32"), "scene": np.eye(2, dtype="float32")[[0, 1, 0, 1]],
               "people": np.ones((4, 1), "float32")}
    dataset = tf.data.Dataset.from_tensor_slices((images, targets)).batch(3)
    predictions = zoo.Predictions.of(model, dataset, tta="flip")
    np.testing.assert_allclose(predictions.probabilities["scene"], averaged["scene"], atol=1e-6)
    np.testing.assert_array_equal(predictions.targets["scene"], targets["scene"])
    probabilities, seen = predict_with_targets(model, dataset, tta="flip")  # the older tuple form
    np.testing.assert_array_equal(probabilities["scene"], predictions.probabilities["scene"])
    np.testing.assert_array_equal(seen["scene"], targets["scene"])
    with pytest.raises(ValueError, match="Received: tta='mirror'"):
        zoo.Predictor(model, tta="mirror")


def test_flip_invariant_models_give_the_same_results_with_and_without_tta():
    inputs = keras.Input((32, 32, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    model = keras.Model(inputs, {"tags": keras.layers.Dense(3, activation="sigmoid", name="tags")(pooled / 255)})
    images = _images()
    plain = predict_tta(model, images, None)["tags"]
    np.testing.assert_allclose(predict_tta(model, images, "flip")["tags"], plain, atol=1e-6)
    pd.testing.assert_frame_equal(zoo.Predictor(model, tta="flip").predict(images), zoo.Predictor(model).predict(images),
                                  atol=1e-6)


def test_evaluate_tta_tunes_and_reports_on_the_augmented_probabilities(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(24):
        image = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / f"{i}.png")
        rows.append({"filename": f"{i}.png", "labels": " ".join(c for c in "ab" if rng.random() < 0.5) or "a"})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    model = zoo.build("multilabel_small", heads={"labels": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
    zoo.save_model(model, tmp_path / "model.keras")
    source = ["--csv", str(tmp_path / "labels.csv"), "--images", str(tmp_path), "--delimiter", " "]
    assert main(["evaluate", str(tmp_path / "model.keras"), *source, "--tta", "flip", "--tune-thresholds", "f1",
                 "--output", str(tmp_path / "report.csv")]) == 0

    images = np.stack([np.asarray(Image.open(tmp_path / r["filename"]), "float32") for r in rows])
    targets = np.array([[c in r["labels"].split() for c in "ab"] for r in rows], "float32")
    scores = (np.asarray(model(images)["labels"]) + np.asarray(model(images[:, :, ::-1].copy())["labels"])) / 2
    expected = best_thresholds(targets, scores, "f1")
    report = pd.read_csv(tmp_path / "report.csv")
    per_class = report[report["class"].isin(["a", "b"])].set_index("class")
    np.testing.assert_allclose(per_class.loc[["a", "b"], "threshold"], expected, atol=1e-5)
    no_tta = best_thresholds(targets, np.asarray(model(images)["labels"]), "f1")
    assert not np.allclose(no_tta, expected, atol=1e-5)  # the tuning saw the augmented probabilities
