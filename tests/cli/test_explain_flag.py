"""`zoo predict --explain`: Grad-CAM overlays next to the predictions."""

import numpy as np
import pandas as pd
from PIL import Image

import zoo
from zoo.cli import main


def test_predict_explain_writes_one_overlay_per_image_head_and_class(tmp_path):
    rng = np.random.default_rng(0)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a", "b", "c"):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(photos / f"{name}.png")
    heads = [zoo.Head("color", ["black", "red"], kind="multiclass"), zoo.Head("tags", ["x", "y", "z"])]
    model = zoo.build_branches("small_cnn", heads, (32, 32, 3))
    zoo.save_model(model, tmp_path / "model.keras")
    overlays = tmp_path / "overlays"
    assert main(["predict", str(tmp_path / "model.keras"), str(photos), "--output", str(tmp_path / "p.csv"),
                 "--explain", str(overlays)]) == 0
    frame = pd.read_csv(tmp_path / "p.csv")
    expected = set()
    for _, row in frame.iterrows():
        stem = row["file"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        expected.add(f"{stem}_color_{row['color']}.png")
        chosen = row["tags"].split() if row["tags"] != "(none)" else [row["tags:top"]]
        expected |= {f"{stem}_tags_{c}.png" for c in chosen}
    assert {p.name for p in overlays.iterdir()} == expected
    with Image.open(next(overlays.iterdir())) as image:
        assert image.size == (32, 32) and image.mode == "RGB"
