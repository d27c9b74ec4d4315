"""`zoo train --mix`: MixUp or CutMix in the training pipeline."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from zoo import data
from zoo.cli import main


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["cutmix"])
def test_train_mix_passes_mixing_to_the_training_pipeline_only(tmp_path, monkeypatch, mode):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(24):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
        rows.append({"filename": f"{i}.png", "labels": ["a", "b", "a b"][i % 3]})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    seen = []
    make_dataset = data.make_dataset
    monkeypatch.setattr(data, "make_dataset", lambda *a, **k: seen.append(k.get("augment")) or make_dataset(*a, **k))
    output = tmp_path / "run"
    assert main(["train", "--csv", str(tmp_path / "labels.csv"), "--images", str(tmp_path), "--delimiter", " ",
                 "--image-size", "32", "32", "--epochs", "1", "--batch-size", "8", "--weights", "none",
                 "--mix", mode, "--output", str(output)]) == 0
    mixed = [a for a in seen if isinstance(a, dict) and mode in a]
    assert len(mixed) == 1 and mixed[0][mode] == data.mixing.DEFAULT_ALPHA[mode]
    assert mixed[0]["flip"] == "horizontal"  # added to the default augmentation
    assert all(not (isinstance(a, dict) and mode in a) for a in seen if a is not mixed[0])
    assert json.loads((output / "run.json").read_text())["arguments"]["mix"] == mode
    assert (output / "model.keras").is_file()
