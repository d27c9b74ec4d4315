"""`zoo predict`, `zoo evaluate` and `zoo export` on every model form, each command in a new process."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import zoo

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ["sea", "sun", "tree"]


def _zoo(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "zoo", *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained-shape model saved as .keras and .h5, four 32x32 images and their expected probabilities."""
    folder = tmp_path_factory.mktemp("forms")
    model = zoo.build("multilabel_small", heads={"tags": CLASSES}, input_shape=(32, 32, 3), weights=None)
    zoo.save_model(model, folder / "model.keras")
    zoo.save_model(model, folder / "model.h5")
    images = folder / "photos"
    images.mkdir()
    pixels = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    for i, array in enumerate(pixels):
        Image.fromarray(array).save(images / f"{i}.png")
    expected = model.predict(pixels.astype("float32"), verbose=0)["tags"]
    return folder, images, expected


def _probabilities(csv: Path) -> np.ndarray:
    frame = pd.read_csv(csv).sort_values("file")
    return frame[[f"tags:{c}" for c in CLASSES]].to_numpy()


def _predict_and_compare(model_path, images, expected, csv, *flags):
    result = _zoo(*flags, "predict", model_path, images, "--output", csv)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "4 predictions written" in result.stdout
    np.testing.assert_allclose(_probabilities(csv), expected, rtol=1e-4, atol=1e-5)


def test_predict_on_a_keras_file_in_a_new_process(saved, tmp_path):
    folder, images, expected = saved
    _predict_and_compare(folder / "model.keras", images, expected, tmp_path / "p.csv")


@pytest.mark.slow
@pytest.mark.parametrize("suffix, verbose", [(".h5", ()), (".keras", ("--verbose",))])
def test_predict_on_h5_and_with_verbose(saved, tmp_path, suffix, verbose):
    folder, images, expected = saved
    _predict_and_compare(folder / f"model{suffix}", images, expected, tmp_path / "p.csv", *verbose)


@pytest.mark.slow
def test_export_without_output_writes_beside_the_model_as_the_next_steps_suggest(saved, tmp_path):
    folder, images, expected = saved
    model = tmp_path / "run" / "model.keras"
    model.parent.mkdir()
    shutil.copy(folder / "model.keras", model)
    result = _zoo("export", model, "--format", "onnx")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"onnx export written to {tmp_path / 'run' / 'model.onnx'}" in result.stdout
    _predict_and_compare(tmp_path / "run" / "model.onnx", images, expected, tmp_path / "p.csv")


@pytest.mark.slow
@pytest.mark.parametrize("source", ["model.keras", "model.h5"])
@pytest.mark.parametrize("format, name", [("onnx", "m.onnx"), ("litert", "m.tflite"), ("saved_model", "m_saved")])
def test_export_then_predict_and_evaluate_on_the_export_each_in_a_new_process(saved, tmp_path, source, format, name):
    folder, images, expected = saved
    exported = tmp_path / name
    result = _zoo("export", folder / source, "--format", format, "--output", exported)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{format} export written to {exported}" in result.stdout
    assert "Warning" not in result.stderr, result.stderr[-3000:]  # the converters' own warnings stay out of sight
    _predict_and_compare(exported, images, expected, tmp_path / "p.csv")
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"file": [f"{i}.png" for i in range(4)], "tags": ["sea", "sun tree", "tree", "sea sun"]}).to_csv(
        labels, index=False)
    result = _zoo("evaluate", exported, "--csv", labels, "--images", images, "--file-column", "file",
                  "--label-column", "tags", "--delimiter", " ", "--output", tmp_path / "report.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "report.csv").is_file()


def test_other_forms_are_refused_by_name(saved, tmp_path):
    folder, images, _ = saved
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"not read: refused before")
    result = _zoo("predict", notes, images)
    assert result.returncode == 1
    assert result.stderr == (f"zoo predict: error: model: expected a .keras, .h5, .hdf5, .onnx or .tflite file or a "
                             f"SavedModel folder; this is a file of another kind. Received: '{notes}'\n")
    result = _zoo("evaluate", tmp_path, "--folders", images)
    assert "model: expected a .keras, .h5, .hdf5, .onnx or .tflite file or a SavedModel folder; this is a folder " \
           "without saved_model.pb" in result.stderr
    result = _zoo("export", onnx, "--format", "litert", "--output", tmp_path / "m.tflite")
    assert result.returncode == 1
    assert f"model: '{onnx}' is an export (onnx); zoo export converts a .keras, .h5 or .hdf5 model" in result.stderr
    result = _zoo("predict", onnx, images, "--explain", tmp_path / "cams")
    assert "--explain draws Grad-CAM from a Keras model's layers" in result.stderr
    result = _zoo("evaluate", onnx, "--folders", images, "--tune-thresholds", "f1", "--save")
    assert result.returncode == 1
    assert "--save stores thresholds in a .keras or .h5 model file; an export (onnx) cannot be changed" in result.stderr
