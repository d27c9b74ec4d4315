import inspect
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from zoo.cli import build_parser
from zoo.examples.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_end_to_end_at_a_tiny_size(tmp_path, caplog):
    lines = []
    summary = run_demo(tmp_path / "demo", image_size=32, images_per_pair=4, epochs=(1, 1), verbose=0,
                       log=lines.append)
    # Its frozen random type branch is its own choice: no warning tells a newcomer to change a Python argument.
    assert not [r for r in caplog.records if "start from random weights" in r.getMessage()]
    assert summary["reload_identical"] == {"keras": True, "h5": True}
    assert set(summary["held_out_accuracy"]) == {"color", "type"}
    for name in ("color_type.keras", "color_type.h5", "history.csv", "history.png", "predictions.csv",
                 "predictions.png"):
        assert (tmp_path / "demo" / name).is_file(), name
    predictions = pd.read_csv(tmp_path / "demo" / "predictions.csv")
    assert len(predictions) == 20  # 10 images for each of the two held-out pairs
    assert set(predictions["color"]) <= {"black", "blue", "red"}
    assert any("never seen in training: black dress, red jeans" in line for line in lines)
    assert [line[:5] for line in lines if line.startswith("[")] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    epochs = [line.strip() for line in lines if line.strip().startswith("epoch ")]
    assert epochs[0].startswith("epoch 1/2  loss ") and "elapsed" in epochs[0] and "elapsed" in epochs[1]
    assert "color_type.keras reloads and predicts identically, color_type.h5 reloads and predicts identically" \
        in "\n".join(lines)
    assert lines[-1] == "  zoo train --folders DIR --separator _ --heads color type"
    assert any("only synthetic garments" in line for line in lines)


def test_command_line_defaults_are_the_demo_defaults():
    args = build_parser().parse_args(["demo"])
    defaults = inspect.signature(run_demo).parameters
    assert args.image_size == defaults["image_size"].default
    assert args.images_per_pair == defaults["images_per_pair"].default
    assert tuple(args.epochs) == tuple(defaults["epochs"].default)


@pytest.mark.slow
def test_redirected_demo_output_is_plain_and_quiet(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run([sys.executable, "-m", "zoo", "demo", "--output", str(tmp_path / "demo"),
                             "--image-size", "32", "--images-per-pair", "4", "--epochs", "1", "1"],
                            capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\r" not in result.stdout
    assert "epoch 2/2" in result.stdout
    for noise in ("I0000", "E0000", "absl::InitializeLog", "cuInit", "legacy", "WARNING"):
        assert noise not in result.stderr + result.stdout, noise
