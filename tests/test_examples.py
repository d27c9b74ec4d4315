"""Each example's --quick run, in-process, on the real data sets."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import pandas as pd

pytestmark = pytest.mark.slow  # whole scripts, end to end: pytest -m slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


def test_fridge_example(data_dir, tmp_path):
    result = _load("fridge_multilabel").main(["--quick", "--data", str(data_dir), "--output", str(tmp_path)])
    # Thresholds tuned for exact match on these predictions cannot score worse on them than 0.5 does.
    assert result["after"]["exact_match"] >= result["before"]["exact_match"]
    assert len(result["thresholds"]["objects"]) == 4
    assert (tmp_path / "fridge.keras").is_file()


def test_clothing_example(data_dir, tmp_path):
    result = _load("clothing_color_type").main(["--quick", "--weights", "none", "--data", str(data_dir),
                                                "--output", str(tmp_path)])
    assert len(result["predictions"]) == 7
    assert {"history.png", "predictions.png", "clothing.h5"} <= {p.name for p in tmp_path.iterdir()}


def test_miml_activation_study(data_dir, tmp_path):
    table = _load("miml_vgg16").main(["--quick", "--weights", "none", "--data", str(data_dir),
                                      "--output", str(tmp_path)])
    assert len(table) == 6 and not table.duplicated(["activation", "loss"]).any()
    assert set(table["activation"]) == {"sigmoid", "softmax", "linear"}
    # A sample counts as an exact match only when every label is right: never more often than a label is.
    assert np.all(table["exact_match"] <= table["binary_accuracy"] + 1e-9)
    saved = pd.read_csv(tmp_path / "activation_study.csv")
    np.testing.assert_allclose(saved[["binary_accuracy", "exact_match", "micro_f1"]],
                               table[["binary_accuracy", "exact_match", "micro_f1"]])


def test_voc_example_on_fridge_images_written_as_voc(data_dir, tmp_path):
    fridge = data_dir / "fridge" / "multilabelFridgeObjects"
    labels = pd.read_csv(fridge / "labels.csv")
    annotations = tmp_path / "Annotations"
    annotations.mkdir()
    for row in labels.itertuples():
        objects = "".join(f"<object><name>{name}</name></object>" for name in row.labels.split())
        (annotations / f"{Path(row.filename).stem}.xml").write_text(
            f"<annotation><filename>{row.filename}</filename>{objects}</annotation>")
    result = _load("voc_resnet50").main(["--quick", "--weights", "none", "--voc", str(annotations),
                                         "--images", str(fridge / "images"), "--output", str(tmp_path / "out")])
    assert set(result["pos_weight"]) == {"can", "carton", "milk_bottle", "water_bottle"}
    assert (tmp_path / "out" / "confusion.png").is_file()
