"""A tiny run folder as `zoo train` leaves it, made in seconds: generated images, a small model,
its three reports, scores, history, plan, a data summary and label issues."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

import zoo
from zoo.cli.reports import report_frame, write_html_report

COLORS = {"red": (200, 30, 30), "green": (30, 170, 40), "blue": (30, 40, 200)}


def make_images(folder: Path, count: int = 18, seed: int = 0) -> pd.DataFrame:
    """`count` 32x32 PNGs of a colour (multiclass head `color`) with a white square for `sun` and a
    dark bar for `sea` (multilabel head `tags`); returns their label rows."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(count):
        color = list(COLORS)[i % 3]
        tags = tuple(t for t, on in zip(("sea", "sun"), rng.integers(0, 2, 2)) if on)
        pixels = np.clip(np.array(COLORS[color]) + rng.integers(-30, 30, (32, 32, 3)), 0, 255).astype("uint8")
        if "sun" in tags:
            pixels[3:11, 3:11] = 255
        if "sea" in tags:
            pixels[24:30] = 10
        Image.fromarray(pixels).save(folder / f"{i:02d}.png")
        rows.append({"filename": f"{i:02d}.png", "color": (color,), "tags": tags})
    return pd.DataFrame(rows)


def make_run(folder: Path) -> dict:
    """Writes the run into `folder` (images in `folder/images`); returns its model and predictions."""
    images = folder / "images"
    rows = make_images(images)
    heads = [zoo.Head("color", list(COLORS), kind="multiclass"), zoo.Head("tags", ["sea", "sun"])]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=None)
    dataset = zoo.data.make_dataset(rows, heads, directory=images, image_size=(32, 32), batch_size=32,
                                    shuffle=False, allow_empty=True)
    predictions = zoo.Predictions.of(model, dataset)
    report_frame(zoo.evaluate(model, predictions)).to_csv(folder / "report_threshold_0.5.csv", index=False)
    cross_fitted = zoo.evaluation.thresholds.cross_fitted_report(model, predictions, metric="f1")
    report_frame(cross_fitted).to_csv(folder / "report_tuned_cross_fitted.csv", index=False)
    zoo.tune_thresholds(model, predictions, metric="f1")
    report_frame(zoo.evaluate(model, predictions)).to_csv(folder / "report.csv", index=False)
    pd.DataFrame({"epoch": [1, 2], "stage": ["heads", "heads"], "loss": [1.2, 0.9], "val_loss": [1.3, 1.1],
                  "val_score": [0.4, 0.5]}).to_csv(folder / "history.csv", index=False)
    (folder / "plan.json").write_text(json.dumps({"image_size": [32, 32], "batch_size": 32,
                                                  "stages": [{"name": "heads", "epochs": 2, "lr": 0.001}]}))
    summary = {"heads": {"color": {"kind": "multiclass", "classes": {c: {"train": 4, "validation": 2}
                                                                      for c in COLORS}}},
               "images": {"count": len(rows), "sizes": "32x32"}, "problems": {}, "a_key_no_renderer_knows": 7}
    (folder / "data_summary.json").write_text(json.dumps(summary))
    pd.DataFrame({"file": ["03.png", "05.png"], "head": ["color", "color"], "given": ["red", "blue"],
                  "suggested": ["green", "red"], "score": [0.91, 0.7], "rank": [1, 2]}).to_csv(
        folder / "label_issues.csv", index=False)
    write_html_report(folder, model, predictions, dataset.files, images)
    return {"model": model, "predictions": predictions, "files": list(dataset.files)}
