"""Plots saved to files: history, thresholds, confusion matrices, label counts, predictions.

Uses matplotlib's object API (no pyplot state, no display needed).

Example:
    >>> zoo.plots.plot_history(history, "history.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _save(figure: Figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    return path


def _history_frame(history) -> pd.DataFrame:
    if isinstance(history, pd.DataFrame):
        return history
    if hasattr(history, "to_dataframe"):
        return history.to_dataframe()
    return pd.DataFrame(getattr(history, "history", history))


def plot_history(history, path, heads=None) -> Path:
    """One panel per head and metric, training against validation.

    Args:
        history: A Keras `History`, a `StagedHistory`, a dict or a DataFrame.
        path: Output image file.
        heads: Head names (default: guessed from the `<head>_loss` keys).
    """
    frame = _history_frame(history)
    metrics = sorted(c for c in frame.columns if not c.startswith("val_") and c not in ("epoch", "stage"))
    figure = Figure(figsize=(4 * min(len(metrics), 4), 3 * -(-len(metrics) // 4)), layout="constrained")
    for index, metric in enumerate(metrics, start=1):
        axes = figure.add_subplot(-(-len(metrics) // 4), min(len(metrics), 4), index)
        epochs = frame["epoch"] if "epoch" in frame else np.arange(1, len(frame) + 1)
        axes.plot(epochs, frame[metric], label="train")
        if f"val_{metric}" in frame:
            axes.plot(epochs, frame[f"val_{metric}"], label="validation")
        if "stage" in frame:
            for boundary in np.flatnonzero(frame["stage"].to_numpy()[1:] != frame["stage"].to_numpy()[:-1]):
                axes.axvline(epochs.iloc[boundary] + 0.5, color="gray", linestyle=":")
        axes.set_title(metric)
        axes.set_xlabel("epoch")
        axes.legend(fontsize="small")
    return _save(figure, path)


def plot_thresholds(y_true, scores, path, title: str = "") -> Path:
    """F1 (micro), exact match and hamming accuracy against one global threshold."""
    from sklearn import metrics as skm

    y_true = np.asarray(y_true).astype(int)
    thresholds = np.linspace(0.01, 0.99, 99)
    curves = {"micro F1": [], "exact match": [], "hamming accuracy": []}
    for t in thresholds:
        y_pred = (np.asarray(scores) > t).astype(int)
        curves["micro F1"].append(skm.f1_score(y_true, y_pred, average="micro", zero_division=0))
        curves["exact match"].append(skm.accuracy_score(y_true, y_pred))
        curves["hamming accuracy"].append(1 - skm.hamming_loss(y_true, y_pred))
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    for name, values in curves.items():
        axes.plot(thresholds, values, label=name)
    axes.set_xlabel("threshold")
    axes.set_title(title or "metrics against the decision threshold")
    axes.legend()
    return _save(figure, path)


def plot_confusion(head_report: dict, path, title: str = "") -> Path:
    """Confusion matrices of one head's report (`zoo.evaluate(...)[head]`).

    Multiclass heads get one matrix; multilabel heads one 2x2 matrix per class.
    """
    if "confusion" in head_report:
        matrices = [(title or "confusion", head_report["confusion"].to_numpy(), list(head_report["confusion"].index))]
    else:
        matrices = [
            (row["class"], np.array([[row["tn"], row["fp"]], [row["fn"], row["tp"]]]), ["no", "yes"])
            for _, row in head_report["per_class"].iterrows()
        ]
    columns = min(len(matrices), 5)
    rows = -(-len(matrices) // columns)
    figure = Figure(figsize=(3.2 * columns, 3 * rows), layout="constrained")
    for index, (name, matrix, labels) in enumerate(matrices, start=1):
        axes = figure.add_subplot(rows, columns, index)
        axes.imshow(matrix, cmap="Blues")
        for (i, j), value in np.ndenumerate(matrix):
            axes.text(j, i, int(value), ha="center", va="center")
        axes.set_xticks(range(len(labels)), labels, rotation=45)
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        axes.set_title(str(name))
    return _save(figure, path)


def plot_label_counts(counts: pd.DataFrame, path) -> Path:
    """Bars of label counts per class and split (`zoo.data.label_counts`)."""
    splits = [c for c in counts.columns if not c.endswith("_fraction")]
    figure = Figure(figsize=(max(6, 0.6 * len(counts)), 4), layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / len(splits)
    positions = np.arange(len(counts))
    for i, split in enumerate(splits):
        axes.bar(positions + i * width, counts[split], width, label=split)
    axes.set_xticks(positions + 0.4 - width / 2, [f"{h}:{c}" for h, c in counts.index], rotation=45, ha="right")
    axes.set_ylabel("images")
    axes.legend()
    return _save(figure, path)


def plot_predictions(images, true_labels, predicted_labels, path, columns: int = 4) -> Path:
    """A grid of images titled with true and predicted label names.

    Args:
        images: (n, h, w, 3) array of 0..255 pixels.
        true_labels: n strings (or None entries when unknown).
        predicted_labels: n strings.
    """
    images = np.asarray(images)
    rows = -(-len(images) // columns)
    figure = Figure(figsize=(3 * columns, 3.3 * rows), layout="constrained")
    for index, (image, truth, predicted) in enumerate(zip(images, true_labels, predicted_labels), start=1):
        axes = figure.add_subplot(rows, columns, index)
        axes.imshow(np.clip(image, 0, 255).astype(np.uint8))
        right = truth is None or truth == predicted
        axes.set_title(f"true: {truth}\npred: {predicted}" if truth is not None else f"pred: {predicted}",
                       fontsize=9, color="black" if right else "red")
        axes.axis("off")
    return _save(figure, path)
