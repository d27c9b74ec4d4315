"""MixUp and CutMix: images and every head's targets mixed with the same lambda per sample."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

import zoo
from zoo.data import make_dataset
from zoo.data.mixing import Mixing, split_mixing, with_mixing

HEADS = [zoo.Head("tags", ["sea", "sky", "sun"]), zoo.Head("scene", ["day", "dusk", "night"], kind="multiclass"),
         zoo.Head("people", ["people"], kind="binary")]
COUNT = 8


def _colors(count=COUNT, seed=0):
    """Distinct colors far apart in every channel, so that a mix names its partner."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(np.linspace(10, 245, count).round()) for _ in range(3)], axis=1)


def _constant_images(tmp_path, colors):
    rows = []
    rng = np.random.default_rng(1)
    for i, color in enumerate(colors):
        Image.fromarray(np.full((16, 16, 3), color, np.uint8)).save(tmp_path / f"{i}.png")
        rows.append({"filename": f"{i}.png",
                     "tags": tuple(c for c in HEADS[0].classes if rng.random() < 0.5),
                     "scene": (HEADS[1].classes[i % 3],),
                     "people": ("people",) if i % 2 else ()})
    return pd.DataFrame(rows)


def _targets(frame):
    tags = np.array([[c in row for c in HEADS[0].classes] for row in frame["tags"]], "float32")
    scene = np.eye(3, dtype="float32")[[HEADS[1].classes.index(row[0]) for row in frame["scene"]]]
    people = np.array([[len(row) > 0] for row in frame["people"]], "float32")
    return {"tags": tags, "scene": scene, "people": people}


def _recover(mixed_image, first, colors, mode):
    """(partner index, lambda) of a mixed constant-color image whose first image is `first`."""
    pixels = mixed_image.reshape(-1, 3)
    if mode == "cutmix":
        kept = np.all(np.abs(pixels - colors[first]) < 0.5, axis=1)
        if kept.all():
            return first, 1.0
        partner = np.flatnonzero(np.all(np.abs(colors - pixels[~kept][0]) < 0.5, axis=1))
        assert len(partner) == 1 and np.all(np.abs(pixels[~kept] - colors[partner[0]]) < 0.5)
        return int(partner[0]), float(kept.mean())
    value = pixels.mean(axis=0)
    assert np.allclose(pixels, value, atol=1e-3)  # MixUp keeps constant images constant
    if np.allclose(value, colors[first], atol=1e-3):
        return first, 1.0
    for j, color in enumerate(colors):
        if j != first:
            lam = (value - color) / (colors[first] - color)
            if np.allclose(lam, lam[0], atol=1e-3):
                return j, float(lam[0])
    raise AssertionError(f"no partner explains {value}")


@pytest.mark.parametrize("mode, alpha", [("mixup", 0.4), ("cutmix", 1.0)])
def test_targets_of_every_head_kind_are_mixed_with_the_lambda_of_the_images(tmp_path, mode, alpha):
    colors = _colors()
    frame = _constant_images(tmp_path, colors)
    targets = _targets(frame)
    dataset = make_dataset(frame, HEADS, directory=tmp_path, image_size=(16, 16), batch_size=COUNT, shuffle=False,
                           augment={"flip": "horizontal", mode: alpha}, seed=3)
    lambdas = []
    for epoch in range(2):
        images, mixed = next(iter(dataset))
        images = images.numpy()
        assert images.shape == (COUNT, 16, 16, 3)
        assert {k: v.shape for k, v in mixed.items()} == {"tags": (COUNT, 3), "scene": (COUNT, 3), "people": (COUNT, 1)}
        for k in range(COUNT):
            partner, lam = _recover(images[k], k, colors, mode)
            lambdas.append(lam)
            for name, values in targets.items():
                expected = lam * values[k] + (1 - lam) * values[partner]
                np.testing.assert_allclose(mixed[name].numpy()[k], expected, atol=2e-3, err_msg=f"{name} {k}")
        np.testing.assert_allclose(mixed["scene"].numpy().sum(axis=1), 1.0, atol=1e-5)
    lambdas = np.array(lambdas)
    assert ((lambdas > 0.02) & (lambdas < 0.98)).sum() >= 4  # samples were really mixed
    if mode == "cutmix":  # lambda is a kept area fraction: a multiple of one pixel
        np.testing.assert_allclose(lambdas * 256, np.round(lambdas * 256), atol=1e-6)


def test_sample_weights_are_mixed_too_and_unlabelled_batches_refuse_mixing(tmp_path):
    colors = _colors()
    frame = _constant_images(tmp_path, colors)
    weights = {h.name: np.arange(1, COUNT + 1, dtype="float32") for h in HEADS}
    dataset = make_dataset(frame, HEADS, directory=tmp_path, image_size=(16, 16), batch_size=COUNT, shuffle=False,
                           augment={"mixup": 1.0}, sample_weights=weights, seed=0)
    images, mixed, mixed_weights = next(iter(dataset))
    for k in range(COUNT):
        partner, lam = _recover(images.numpy()[k], k, colors, "mixup")
        np.testing.assert_allclose(mixed_weights["tags"].numpy()[k], lam * (k + 1) + (1 - lam) * (partner + 1),
                                   atol=2e-3)
    with pytest.raises(ValueError, match="Received: heads=None"):
        make_dataset(frame[["filename"]], None, directory=tmp_path, image_size=(16, 16), augment={"cutmix": 1.0})


def test_mixing_is_reproducible_for_a_seed_and_options_are_checked():
    images = tf.random.stateless_uniform((6, 8, 8, 3), (1, 2), maxval=255.0)
    targets = {"tags": tf.eye(6)}
    for mode in ("mixup", "cutmix"):
        first = Mixing(mode)(images, targets, tf.constant(5, tf.int64))
        again = Mixing(mode)(images, targets, tf.constant(5, tf.int64))
        other = Mixing(mode)(images, targets, tf.constant(6, tf.int64))
        np.testing.assert_array_equal(first[0].numpy(), again[0].numpy())
        assert not np.array_equal(first[0].numpy(), other[0].numpy())
    assert split_mixing({"flip": "horizontal"}) == ({"flip": "horizontal"}, None)
    assert with_mixing({"zoom": 0.1}, "cutmix", 0.5) == {"zoom": 0.1, "cutmix": 0.5}
    assert with_mixing(None, None) is None
    with pytest.raises(ValueError, match="not both"):
        split_mixing({"mixup": 0.2, "cutmix": 1.0})
    with pytest.raises(ValueError, match="Received: mixup=-1"):
        Mixing("mixup", -1)
    with pytest.raises(ValueError, match="Received: mode='blend'"):
        with_mixing(True, "blend")
