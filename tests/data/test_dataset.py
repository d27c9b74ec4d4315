"""`make_dataset` returns an `ImageDataset`: a tf.data.Dataset that knows its files and skipped rows."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

import zoo
from zoo.data import ImageDataset, make_dataset

HEADS = [zoo.Head("tags", ["x", "y", "z"])]


@pytest.fixture
def folder(tmp_path):
    """Six small PNGs (a.png ... f.png) with multi-label tags."""
    rng = np.random.default_rng(0)
    names = list("abcdef")
    for name in names:
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(tmp_path / f"{name}.png")
    tags = [("x",), ("y",), ("x", "y"), ("z",), ("x", "z"), ("y",)]
    return tmp_path, pd.DataFrame({"filename": [f"{n}.png" for n in names], "tags": tags})


def test_the_object_fits_a_model_and_predicts_like_its_dataset(folder):
    directory, df = folder
    data = make_dataset(df, HEADS, directory=directory, image_size=(32, 32), batch_size=4, shuffle=False)
    assert isinstance(data, ImageDataset) and isinstance(data, tf.data.Dataset)
    assert data._variant_tensor is data.dataset._variant_tensor  # the same pipeline, no stage added
    assert len(data) == len(data.dataset) == 2
    model = zoo.build("multilabel_small", heads=HEADS, input_shape=(32, 32, 3), weights=None)
    history = model.fit(data, validation_data=data, epochs=1, verbose=0)
    assert np.isfinite(history.history["val_loss"][0])
    np.testing.assert_allclose(model.predict(data, verbose=0)["tags"], model.predict(data.dataset, verbose=0)["tags"],
                               atol=1e-6)
    assert model.evaluate(data, verbose=0, return_dict=True)["loss"] == pytest.approx(
        model.evaluate(data.dataset, verbose=0, return_dict=True)["loss"], rel=1e-5)


def test_skipped_rows_and_files_are_reported_with_their_reasons(folder):
    directory, df = folder
    bad = pd.concat([df, pd.DataFrame({"filename": ["missing.png", "b.png"], "tags": [("x",), ("w",)]})],
                    ignore_index=True)
    data = make_dataset(bad, HEADS, directory=directory, image_size=(8, 8), shuffle=False, on_error="skip")
    assert [f.rsplit("/", 1)[-1] for f in data.files] == list(df["filename"])
    assert len(data.skipped) == 2
    assert any(s.startswith("Row 7 (b.png)") and "'w'" in s for s in data.skipped)
    assert any(s.endswith("missing.png: file not found") for s in data.skipped)
    assert sum(int(images.shape[0]) for images, _ in data) == 6
    assert data.replay is not None and not data.replay.augmented


def test_a_map_returns_a_plain_dataset_and_derive_keeps_files_without_replay(folder):
    directory, df = folder
    data = make_dataset(df, HEADS, directory=directory, image_size=(8, 8), batch_size=4)
    mapped = data.map(lambda images, targets: (images / 255.0, targets))
    assert isinstance(mapped, tf.data.Dataset) and not isinstance(mapped, ImageDataset)
    derived = data.derive(mapped)
    assert derived.files == data.files and derived.skipped == data.skipped and derived.replay is None
    images, _ = next(iter(derived))
    assert float(tf.reduce_max(images)) <= 1.0
    with pytest.raises(TypeError, match="Received: type list"):
        ImageDataset([1, 2])
