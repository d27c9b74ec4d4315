import numpy as np
import pandas as pd
from PIL import Image

import zoo
from zoo.evaluation import multiclass_head_report, sigmoid_head_report


def _is_png(path):
    with Image.open(path) as image:
        return image.format == "PNG" and image.size[0] > 100


def test_every_plot_writes_an_image(tmp_path):
    rng = np.random.default_rng(0)
    history = pd.DataFrame({"epoch": [1, 2, 3], "stage": ["a", "a", "b"], "loss": [1.0, 0.8, 0.7],
                            "val_loss": [1.1, 0.9, 0.8], "tags_f1": [0.2, 0.4, 0.5], "val_tags_f1": [0.1, 0.3, 0.4]})
    y_true = rng.integers(0, 2, (30, 3))
    scores = rng.random((30, 3))
    tags = zoo.Head("tags", ["a", "b", "c"])
    kind = zoo.Head("kind", ["x", "y"], kind="multiclass")
    df = pd.DataFrame({"filename": ["1", "2", "3"], "tags": [("a",), ("b", "c"), ("a",)]})
    counts = zoo.data.label_counts({"train": df, "validation": df.head(1)}, [tags])
    paths = [
        zoo.plots.plot_history(history, tmp_path / "history.png"),
        zoo.plots.plot_thresholds(y_true, scores, tmp_path / "thresholds.png"),
        zoo.plots.plot_confusion(sigmoid_head_report(tags, y_true, scores), tmp_path / "tags.png"),
        zoo.plots.plot_confusion(multiclass_head_report(kind, np.eye(2)[[0, 1, 1]], rng.random((3, 2))),
                                 tmp_path / "kind.png"),
        zoo.plots.plot_label_counts(counts, tmp_path / "counts.png"),
        zoo.plots.plot_predictions(rng.uniform(0, 255, (3, 16, 16, 3)), ["a", None, "b"], ["a", "b", "c"],
                                   tmp_path / "grid.png"),
    ]
    assert all(_is_png(p) for p in paths)
