import subprocess
import sys
import textwrap

import h5py
import keras
import numpy as np
import pytest

import zoo
from tests.harness import assert_same_predictions
from zoo.io import _keras2 as keras2_compat
from zoo.models.card import ModelCard, set_card

HEADS = {"color": ["black", "blue", "red"], "type": ["dress", "jeans", "shirt"]}


@pytest.fixture
def model():
    return zoo.build("color_type", heads=HEADS, input_shape=(32, 32, 3), weights=None)


def test_plain_keras_loads_a_zoo_keras_file(model, tmp_path, images):
    path = tmp_path / "m.keras"
    zoo.save_model(model, path)
    assert_same_predictions(model, keras.models.load_model(path), images)


def test_thresholds_survive_save_and_load(tmp_path):
    heads = [zoo.Head("tags", ["a", "b", "c"], threshold=[0.2, 0.5, 0.8])]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3))
    for suffix in (".h5", ".keras"):
        zoo.save_model(model, tmp_path / f"m{suffix}")
        loaded = zoo.load_model(tmp_path / f"m{suffix}")
        assert zoo.model_info(loaded)["heads"]["tags"]["threshold"] == [0.2, 0.5, 0.8]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_sequential_models_classes_and_thresholds_survive_save_and_load(suffix, tmp_path, images):
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="sigmoid", name="tags")])
    set_card(model, ModelCard((zoo.Head("tags", ["sea", "sun", "tree"], threshold=[0.2, 0.5, 0.8]),), (32, 32, 3)))
    zoo.save_model(model, tmp_path / f"m{suffix}")
    loaded = zoo.load_model(tmp_path / f"m{suffix}")
    head = zoo.model_info(loaded)["heads"]["tags"]
    assert (head["classes"], head["threshold"]) == (["sea", "sun", "tree"], [0.2, 0.5, 0.8])
    assert_same_predictions(model, loaded, images)


def test_failed_save_leaves_the_existing_file_intact(model, tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    zoo.save_model(model, path)
    good = path.read_bytes()

    def broken_save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        zoo.save_model(model, path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]


def test_h5_files_hold_no_optimizer_bytes(model, tmp_path, images):
    model.train_on_batch(images, {"color": np.eye(3)[[0, 1, 2, 0]], "type": np.eye(3)[[2, 1, 0, 0]]})
    path = tmp_path / "m.h5"
    zoo.save_model(model, path)
    with h5py.File(path) as f:
        assert "optimizer_weights" not in f and "training_config" in f.attrs
    assert path.stat().st_size < 1.2 * 4 * model.count_params()  # Adam's state would triple it


def test_bad_paths_are_named(model, tmp_path):
    with pytest.raises(ValueError, match=r"Received: path='.*m\.pb'"):
        zoo.save_model(model, tmp_path / "m.pb")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        zoo.load_model(tmp_path / "missing.h5")


def test_model_info_of_a_plain_keras_model():
    inputs = keras.Input((8,))
    model = keras.Model(inputs, {"kind": keras.layers.Dense(3, activation="softmax", name="kind")(inputs),
                                 "tags": keras.layers.Dense(4, activation="sigmoid", name="tags")(inputs)})
    heads = zoo.model_info(model)["heads"]
    assert heads["kind"]["kind"] == "multiclass" and heads["kind"]["classes"] == ["0", "1", "2"]
    assert heads["tags"]["kind"] == "multilabel" and len(heads["tags"]["classes"]) == 4


def _keras3_two_branch():
    inputs = keras.Input((32, 32, 3), name="image")
    color = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(),
         keras.layers.BatchNormalization(), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")],
        name="color_model",
    )
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    vgg.trainable = False
    garment = keras.Sequential(
        [keras.Input((32, 32, 3)), vgg, keras.layers.Flatten(), keras.layers.Dense(16, activation="relu"),
         keras.layers.Dropout(0.5), keras.layers.Dense(3, activation="softmax")],
        name="type_model",
    )
    model = keras.Model(inputs, [color(inputs), garment(inputs)])
    model.compile("adam", ["categorical_crossentropy", "categorical_crossentropy"])
    return model


def test_keras3_h5_with_nested_sequential_models(tmp_path, images):
    model = _keras3_two_branch()
    path = tmp_path / "two_branch.h5"
    model.save(path)
    loaded = zoo.load_model(path)
    for before, after in zip(model.predict(images, verbose=0), loaded.predict(images, verbose=0)):
        np.testing.assert_allclose(before, after, atol=1e-6)
    assert list(zoo.model_info(loaded)["heads"]) == ["color_model", "type_model"]


TF_KERAS_TWO_BRANCH = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tf_keras as k2
    k2.utils.set_random_seed(0)
    inputs = k2.Input((32, 32, 3), name="image")
    color = k2.Sequential([k2.layers.Conv2D(8, 3, activation="relu", input_shape=(32, 32, 3)),
                           k2.layers.MaxPooling2D(), k2.layers.BatchNormalization(),
                           k2.layers.Flatten(), k2.layers.Dense(3, activation="softmax")], name="color_model")
    vgg = k2.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    vgg.trainable = False
    garment = k2.Sequential([vgg, k2.layers.Flatten(), k2.layers.Dense(16, activation="relu"),
                             k2.layers.Dropout(0.5), k2.layers.Dense(3, activation="softmax")],
                            name="type_model")
    model = k2.Model(inputs, [color(inputs), garment(inputs)])
    model.compile("adam", ["categorical_crossentropy", "categorical_crossentropy"])
    images = np.load(sys.argv[1])
    model.fit(images, [np.eye(3)[[0, 1, 2, 0]], np.eye(3)[[2, 1, 0, 0]]], epochs=1, verbose=0)
    np.savez(sys.argv[2], *model.predict(images, verbose=0))
    model.save(sys.argv[3])
    """
)


def test_tf_keras_two_branch_h5_loads_and_predicts_identically(tmp_path, images):
    pytest.importorskip("tf_keras")
    np.save(tmp_path / "images.npy", images)
    script = tmp_path / "write.py"
    script.write_text(TF_KERAS_TWO_BRANCH)
    path = tmp_path / "tf_keras_two_branch.h5"
    subprocess.run(
        [sys.executable, script, tmp_path / "images.npy", tmp_path / "expected.npz", path],
        check=True, timeout=300,
    )
    with h5py.File(path) as f:
        assert keras2_compat.is_keras2_version(f.attrs["keras_version"])
    with pytest.raises(Exception):
        keras.models.load_model(path)  # Keras 3's own loader fails inside Flatten.

    loaded = zoo.load_model(path)
    expected = np.load(tmp_path / "expected.npz")
    for i, predicted in enumerate(loaded.predict(images, verbose=0)):
        np.testing.assert_allclose(predicted, expected[f"arr_{i}"], atol=1e-6)
    loaded.train_on_batch(images, [np.eye(3)[[0, 1, 2, 0]], np.eye(3)[[2, 1, 0, 0]]])


def test_keras2_config_upgrade_shifts_sequential_nodes_only():
    config = {
        "class_name": "Functional",
        "config": {
            "layers": [
                {"class_name": "InputLayer", "config": {"name": "x"}, "inbound_nodes": []},
                {"class_name": "Sequential", "config": {"name": "s"}, "inbound_nodes": [[["x", 0, 0, {}]]]},
                {"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [[["s", 1, 0, {}]]]},
            ],
            "input_layers": [["x", 0, 0]],
            "output_layers": [["d", 0, 0], ["s", 1, 0]],
        },
    }
    upgraded = keras2_compat.upgrade_model_config(config)["config"]
    assert upgraded["input_layers"] == ["x", 0, 0]
    assert upgraded["output_layers"] == [["d", 0, 0], ["s", 0, 0]]
    assert upgraded["layers"][2]["inbound_nodes"] == [[["s", 0, 0, {}]]]
    assert config["config"]["output_layers"][1] == ["s", 1, 0]  # the input is not modified
