"""Plots saved to files: history, thresholds, confusion matrices, label counts, predictions.

Uses matplotlib's object API (no pyplot state, no display needed).

Example:
    >>> zoo.evaluation.plots.plot_history(history, "history.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


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


def _history_metrics(frame: pd.DataFrame) -> list[str]:
    """Metric names with some value, training or validation: `loss` first, then by name."""
    names = {c[4:] if c.startswith("val_") else c for c in frame.columns if c not in ("epoch", "stage")}
    with_values = [n for n in names
                   if any(c in frame and frame[c].notna().any() for c in (n, f"val_{n}"))]
    return sorted(with_values, key=lambda n: (n != "loss", n))


def _rows_of_panels(count: int, most: int = 4) -> list[int]:
    """Panels per row, as even as possible: 5 -> [3, 2], 7 -> [4, 3], 8 -> [4, 4]."""
    rows = -(-count // most)
    return [count // rows + (1 if r < count % rows else 0) for r in range(rows)]


def _panels(figure: Figure, per_row: list[int]) -> list:
    """Axes laid out row by row; a shorter row is centred, so no grid cell stays empty."""
    widest = max(per_row)
    grid = figure.add_gridspec(len(per_row), 2 * widest)
    panels = []
    for row, count in enumerate(per_row):
        offset = widest - count
        panels += [figure.add_subplot(grid[row, offset + 2 * c: offset + 2 * c + 2]) for c in range(count)]
    return panels


def history_figure(history, heads=None) -> Figure:
    """The figure `plot_history` saves; see there.

    Example:
        >>> frame = pd.DataFrame({"epoch": [1, 2], "stage": ["a", "b"], "loss": [1.0, 0.5]})
        >>> [axes.get_title() for axes in history_figure(frame).axes]
        ['loss']
    """
    frame = _history_frame(history).reset_index(drop=True)
    metrics = _history_metrics(frame)
    if heads:
        metrics = [m for m in metrics if m == "loss" or any(m.startswith(f"{h}_") for h in heads)]
    per_row = _rows_of_panels(len(metrics)) if metrics else [1]
    widest = max(per_row)
    figure = Figure(figsize=(4 * widest, 3.2 * len(per_row)), layout="constrained")
    epochs = frame["epoch"] if "epoch" in frame else pd.Series(np.arange(1, len(frame) + 1))
    stages = frame["stage"].to_numpy() if "stage" in frame else None
    boundaries = [] if stages is None else list(np.flatnonzero(stages[1:] != stages[:-1]) + 1)
    legend = {}
    for metric, axes in zip(metrics, _panels(figure, per_row)):
        if metric in frame and frame[metric].notna().any():
            axes.plot(epochs, frame[metric], marker=".", color="C0", label="train")
        if f"val_{metric}" in frame and frame[f"val_{metric}"].notna().any():
            axes.plot(epochs, frame[f"val_{metric}"], marker=".", color="C1", label="validation")
        bottom, top = axes.get_ylim()
        axes.set_ylim(bottom, top + 0.18 * (top - bottom))  # room for the stage names
        starts = ([0] + boundaries) if stages is not None and len(stages) else []
        for start in starts:
            position = epochs.iloc[start] - 0.5
            if start:
                axes.axvline(position, color="gray", linestyle=":", label="stage boundary")
            axes.text(position, 0.97, f" {stages[start]}", transform=axes.get_xaxis_transform(), ha="left",
                      va="top", fontsize="small", color="dimgray", clip_on=True)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(metric)
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric.rsplit("_", 1)[-1] if metric != "loss" else "loss")
        for handle, label in zip(*axes.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    if legend:
        figure.legend(list(legend.values()), list(legend), loc="outside upper center", ncols=len(legend),
                      fontsize="small", frameon=False)
    return figure


def plot_history(history, path, heads=None) -> Path:
    """One panel per metric, training against validation, stage boundaries labelled.

    Panels fill their rows (at most four a row); metrics with no value in any epoch get none.
    Epoch ticks are whole numbers; a dotted line and the stage's name mark where a stage begins.

    Args:
        history: A Keras `History`, a `StagedHistory`, a dict or a DataFrame.
        path: Output image file.
        heads: Only these heads' metrics, plus the total loss (default: all).

    Returns:
        The path written.

    Example:
        >>> zoo.evaluation.plots.plot_history(history, "history.png")  # doctest: +SKIP
    """
    return _save(history_figure(history, heads), path)


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


def _text_color(image, value) -> str:
    """White on dark cells, black on light ones."""
    red, green, blue, _ = image.cmap(image.norm(value))
    return "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "black"


def confusion_figure(head_report: dict, title: str = "", split: str | None = None,
                     threshold: float | None = None) -> Figure:
    """The figure `plot_confusion` saves; see there.

    Example:
        >>> from zoo.evaluation.report import multiclass_head_report
        >>> from zoo.models.heads import Head
        >>> report = multiclass_head_report(Head("kind", ["x", "y"], kind="multiclass"),
        ...                                 np.eye(2)[[0, 1, 1]], np.eye(2)[[0, 1, 0]])
        >>> confusion_figure(report, "kind", split="validation").get_suptitle()
        'kind: validation split'
    """
    if "confusion" in head_report:
        matrices = [(None, head_report["confusion"].to_numpy(), list(head_report["confusion"].index))]
    else:
        per_class = head_report["per_class"]
        matrices = [
            (row["class"] if threshold is not None or "threshold" not in per_class
             else f"{row['class']} (threshold {row['threshold']:.2f})",
             np.array([[row["tn"], row["fp"]], [row["fn"], row["tp"]]]), ["no", "yes"])
            for _, row in per_class.iterrows()
        ]
    per_row = _rows_of_panels(len(matrices), most=5)
    figure = Figure(figsize=(3.2 * max(per_row), 3 * len(per_row) + 0.4), layout="constrained")
    for (name, matrix, labels), axes in zip(matrices, _panels(figure, per_row)):
        image = axes.imshow(matrix, cmap="Blues", vmin=0, aspect="auto")
        for (i, j), value in np.ndenumerate(matrix):
            axes.text(j, i, int(value), ha="center", va="center", color=_text_color(image, value))
        axes.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 2 else 0)
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        if name is not None:
            axes.set_title(str(name))
    parts = [f"{split} split"] if split else []
    if threshold is not None and "confusion" not in head_report:
        parts.append(f"threshold {threshold:g}")
    heading = title or "confusion"
    figure.suptitle(f"{heading}: {', '.join(parts)}" if parts else heading)
    return figure


def plot_confusion(head_report: dict, path, title: str = "", split: str | None = None,
                   threshold: float | None = None) -> Path:
    """Confusion matrices of one head's report (`zoo.evaluate(...)[head]`).

    Multiclass heads get one matrix; multilabel heads one 2x2 matrix per class, titled with the
    class's threshold unless one `threshold` for all is given. Counts are white on dark cells
    and black on light ones.

    Args:
        head_report: One head's part of a `zoo.evaluate` report.
        path: Output image file.
        title: Heading, e.g. the head's name.
        split: Which images were scored ("validation"), named in the heading.
        threshold: The one decision threshold used, named in the heading.

    Returns:
        The path written.

    Example:
        >>> report = zoo.evaluate(model, validation)  # doctest: +SKIP
        >>> zoo.evaluation.plots.plot_confusion(report["color"], "color.png", title="color",  # doctest: +SKIP
        ...                          split="validation")
    """
    return _save(confusion_figure(head_report, title, split, threshold), path)


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


def _label_text(value) -> str:
    if isinstance(value, (tuple, list, np.ndarray)):
        return " ".join(str(v) for v in value) or "(none)"
    return "(none)" if value is None or value == "" else str(value)


def prediction_sheet_figure(images, files, true: dict, predicted: dict, columns: int = 5,
                            title: str = "") -> Figure:
    """The figure `plot_prediction_sheet` saves; see there.

    Example:
        >>> figure = prediction_sheet_figure(np.zeros((2, 8, 8, 3)), ["a.jpg", "b.jpg"],
        ...                                  {"color": ["red", "blue"]}, {"color": ["red", "red"]})
        >>> figure.get_suptitle()
        'color 1/2 right'
    """
    images, files = np.asarray(images), list(files)
    true, predicted = {h: list(v) for h, v in true.items()}, {h: list(v) for h, v in predicted.items()}
    heads = list(predicted)
    columns = max(1, min(columns, len(images)))
    rows = max(1, -(-len(images) // columns))
    figure = Figure(figsize=(2.6 * columns, (2.7 + 0.25 * len(heads)) * rows + 0.4), layout="constrained")
    right = {head: 0 for head in heads}
    for index, image in enumerate(images):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.imshow(np.clip(image, 0, 255).astype(np.uint8))
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title("/".join(Path(str(files[index])).parts[-2:]), fontsize=8)
        lines = []
        for head in heads:
            guess, truth = _label_text(predicted[head][index]), _label_text(true[head][index])
            ok = guess == truth
            right[head] += ok
            lines.append((f"{head}: {guess}" + ("" if ok else f" (true: {truth})"), "green" if ok else "red"))
        for number, (text, color) in enumerate(lines):
            axes.text(0.5, -0.03 - 0.085 * number, text, transform=axes.transAxes, ha="center", va="top",
                      fontsize=8, color=color, fontweight="bold" if color == "red" else "normal")
    summary = ", ".join(f"{head} {right[head]}/{len(images)} right" for head in heads)
    figure.suptitle(f"{title}: {summary}" if title else summary)
    return figure


def plot_prediction_sheet(images, files, true: dict, predicted: dict, path, columns: int = 5,
                          title: str = "validation predictions") -> Path:
    """A contact sheet: each image with its file name and, per head, the prediction in green
    when right or red with the true label when wrong; the heading counts the right ones.

    Args:
        images: (n, height, width, 3) array of 0..255 pixels.
        files: n file names (shown with their last folder only).
        true: {head: n true labels}: names, or tuples of names for multilabel heads.
        predicted: {head: n predicted labels}, alike.
        path: Output image file.
        columns: Images per row.
        title: Start of the heading.

    Returns:
        The path written.

    Example:
        >>> zoo.evaluation.plots.plot_prediction_sheet(images, files, {"color": truth}, {"color": guesses},  # doctest: +SKIP
        ...                                 "predictions.png")
    """
    return _save(prediction_sheet_figure(images, files, true, predicted, columns, title), path)
