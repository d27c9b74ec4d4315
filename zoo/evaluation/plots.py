"""Plots saved to files: history, thresholds, confusion matrices, label counts, predictions.

Uses matplotlib's object API (no pyplot state, no display needed). The threshold plots
(`zoo.evaluation.threshold_plots`) and the prediction sheets (`zoo.evaluation.sheets`)
are importable from here too.

Example:
    >>> zoo.evaluation.plots.plot_history(history, "history.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from zoo.evaluation.figures import panels, rows_of_panels, save_figure
from zoo.evaluation.sheets import plot_prediction_sheet, plot_predictions, prediction_sheet_figure  # noqa: F401
from zoo.evaluation.threshold_plots import (  # noqa: F401
    plot_threshold_curves,
    plot_thresholds,
    threshold_curves_figure,
)


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
    per_row = rows_of_panels(len(metrics)) if metrics else [1]
    widest = max(per_row)
    figure = Figure(figsize=(4 * widest, 3.2 * len(per_row)), layout="constrained")
    epochs = frame["epoch"] if "epoch" in frame else pd.Series(np.arange(1, len(frame) + 1))
    stages = frame["stage"].to_numpy() if "stage" in frame else None
    boundaries = [] if stages is None else list(np.flatnonzero(stages[1:] != stages[:-1]) + 1)
    legend = {}
    for metric, axes in zip(metrics, panels(figure, per_row)):
        if metric in frame and frame[metric].notna().any():
            axes.plot(epochs, frame[metric], marker=".", color="C0", label="train")
        if f"val_{metric}" in frame and frame[f"val_{metric}"].notna().any():
            axes.plot(epochs, frame[f"val_{metric}"], marker=".", color="C1", label="validation")
        starts = ([0] + boundaries) if boundaries else []  # one stage: nothing to tell apart
        if starts:
            bottom, top = axes.get_ylim()
            axes.set_ylim(bottom, top + 0.18 * (top - bottom))  # room for the stage names
        for start in starts:
            position = epochs.iloc[start] - 0.5
            if start:
                axes.axvline(position, color="gray", linestyle=":", label="stage boundary")
            axes.text(position, 0.97, f"stage: {stages[start]}", transform=axes.get_xaxis_transform(), ha="left",
                      va="top", fontsize="x-small", fontstyle="italic", color="dimgray", clip_on=True,
                      bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "lightgray",
                            "linewidth": 0.5})
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:  # one point: the locator would fill the axis with fractions
            axes.set_xticks(list(epochs))
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
    Epoch ticks are whole numbers; with more than one stage, a dotted line and a boxed
    "stage: NAME" mark where each stage begins.

    Args:
        history: A Keras `History`, a `StagedHistory`, a dict or a DataFrame.
        path: Output image file.
        heads: Only these heads' metrics, plus the total loss (default: all).

    Returns:
        The path written.

    Example:
        >>> zoo.evaluation.plots.plot_history(history, "history.png")  # doctest: +SKIP
    """
    return save_figure(history_figure(history, heads), path)


def _text_color(image, value) -> str:
    """White on dark cells, black on light ones."""
    red, green, blue, _ = image.cmap(image.norm(value))
    return "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "black"


# A matrix or bar chart shows at most this many classes of a head; the others are summed as "other".
MOST_CLASSES = 50
# Classes beyond this many are ordered by their number of images (most first), not by name.
ORDERED_BY_NAME = 10


def _sizes(count: int) -> tuple[float, float]:
    """(tick label, cell text) font sizes in points for `count` classes."""
    return (10.0, 10.0) if count <= ORDERED_BY_NAME else (8.0, 7.0) if count <= 25 else (7.0, 6.0)


def fold_classes(matrix: np.ndarray, labels: list, most: int = MOST_CLASSES) -> tuple[np.ndarray, list]:
    """A square count matrix with its classes ordered by images (past ORDERED_BY_NAME classes) and
    those past the `most - 1` largest summed into one "other" class.

    Example:
        >>> matrix, labels = fold_classes(np.array([[1, 0, 0], [0, 5, 1], [0, 1, 3]]), ["a", "b", "c"], most=2)
        >>> matrix.tolist(), labels
        ([[5, 1], [1, 4]], ['b', 'other (2 classes)'])
    """
    order = np.arange(len(labels))
    if len(labels) > ORDERED_BY_NAME or len(labels) > most:
        order = np.argsort(-matrix.sum(axis=1), kind="stable")
    if len(labels) <= most:
        return matrix[np.ix_(order, order)], [labels[i] for i in order]
    keep, rest = order[:most - 1], order[most - 1:]
    folded = np.zeros((most, most), dtype=matrix.dtype)
    folded[:-1, :-1] = matrix[np.ix_(keep, keep)]
    folded[:-1, -1] = matrix[np.ix_(keep, rest)].sum(axis=1)
    folded[-1, :-1] = matrix[np.ix_(rest, keep)].sum(axis=0)
    folded[-1, -1] = matrix[np.ix_(rest, rest)].sum()
    return folded, [labels[i] for i in keep] + [f"other ({len(rest)} classes)"]


def _multiclass_confusion(figure_title: str, matrix: np.ndarray, labels: list) -> Figure:
    """One matrix, rows normalized (the colour is the share of the true class's images), counts written."""
    matrix, labels = fold_classes(np.asarray(matrix), list(labels))
    count = len(labels)
    tick_size, text_size = _sizes(count)
    side = max(3.2, 0.32 * count + 1.6)
    figure = Figure(figsize=(side + 1.0, side + 0.4), layout="constrained")
    axes = figure.add_subplot()
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="equal")
    for (i, j), value in np.ndenumerate(matrix):
        if value or count <= ORDERED_BY_NAME:
            axes.text(j, i, int(value), ha="center", va="center", fontsize=text_size,
                      color=_text_color(image, shares[i, j]))
    widest = max(len(str(label)) for label in labels) * 0.62 * tick_size / 72  # inches, roughly
    upright = widest > 0.8 * (side - 1.2) / count
    axes.set_xticks(range(count), labels, rotation=90 if upright else 0, fontsize=tick_size)
    axes.set_yticks(range(count), [f"{label} ({int(total)})" for label, total in zip(labels, totals[:, 0])],
                    fontsize=tick_size)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (images)")
    figure.colorbar(image, ax=axes, shrink=min(1.0, 4 / side + 0.3), label="share of the true class's images")
    figure.suptitle(figure_title)
    return figure


def _per_class_confusion(figure_title: str, per_class: pd.DataFrame) -> Figure:
    """Many classes of a multilabel head: one row per class (most images first, the rest summed as
    "other"), its TP and FN shaded by their share of the images with the class, FP and TN of those without."""
    frame = per_class.set_index("class")[["tp", "fn", "fp", "tn"]].astype(int)
    frame = frame.loc[(frame["tp"] + frame["fn"]).sort_values(ascending=False, kind="stable").index]
    if len(frame) > MOST_CLASSES:
        rest = frame.iloc[MOST_CLASSES - 1:]
        frame = pd.concat([frame.iloc[:MOST_CLASSES - 1],
                           pd.DataFrame([rest.sum()], index=[f"other ({len(rest)} classes)"])])
    count = len(frame)
    tick_size, text_size = _sizes(count)
    values = frame.to_numpy()
    positives = np.maximum(values[:, :2].sum(axis=1, keepdims=True), 1)
    negatives = np.maximum(values[:, 2:].sum(axis=1, keepdims=True), 1)
    shares = np.hstack([values[:, :2] / positives, values[:, 2:] / negatives])
    figure = Figure(figsize=(5.2, 0.28 * count + 1.6), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        axes.text(j, i, int(value), ha="center", va="center", fontsize=text_size,
                  color=_text_color(image, shares[i, j]))
    axes.set_xticks(range(4), ["TP", "FN\n(missed)", "FP\n(false alarm)", "TN"], fontsize=tick_size)
    axes.xaxis.tick_top()
    axes.set_yticks(range(count), [f"{c} ({int(p)})" for c, p in zip(frame.index, values[:, :2].sum(axis=1))],
                    fontsize=tick_size)
    axes.set_ylabel("class (images with it)")
    figure.suptitle(figure_title)
    return figure


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
    parts = [f"{split} split"] if split else []
    if threshold is not None and "confusion" not in head_report:
        parts.append(f"threshold {threshold:g}")
    heading = title or "confusion"
    heading = f"{heading}: {', '.join(parts)}" if parts else heading
    if "confusion" in head_report:
        return _multiclass_confusion(heading, head_report["confusion"].to_numpy(),
                                     list(head_report["confusion"].index))
    per_class = head_report["per_class"]
    if len(per_class) > ORDERED_BY_NAME:
        return _per_class_confusion(heading, per_class)
    matrices = [
        (row["class"] if threshold is not None or "threshold" not in per_class
         else f"{row['class']} (threshold {row['threshold']:.2f})",
         np.array([[row["tn"], row["fp"]], [row["fn"], row["tp"]]]), ["no", "yes"])
        for _, row in per_class.iterrows()
    ]
    per_row = rows_of_panels(len(matrices), most=5)
    figure = Figure(figsize=(3.2 * max(per_row), 3 * len(per_row) + 0.4), layout="constrained")
    for (name, matrix, labels), axes in zip(matrices, panels(figure, per_row)):
        image = axes.imshow(matrix, cmap="Blues", vmin=0, aspect="auto")
        for (i, j), value in np.ndenumerate(matrix):
            axes.text(j, i, int(value), ha="center", va="center", color=_text_color(image, value))
        axes.set_xticks(range(len(labels)), labels)
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        axes.set_title(str(name))
    figure.suptitle(heading)
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
    return save_figure(confusion_figure(head_report, title, split, threshold), path)


def _head_counts(counts: pd.DataFrame, head: str, splits: list, most: int = MOST_CLASSES) -> pd.DataFrame:
    """One head's counts per split, most images first, those past the `most - 1` largest summed as "other"."""
    frame = counts.loc[head, splits].astype(int)
    frame = frame.loc[frame.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    if len(frame) > most:
        rest = frame.iloc[most - 1:]
        frame = pd.concat([frame.iloc[:most - 1], pd.DataFrame([rest.sum()], index=[f"other ({len(rest)} classes)"])])
    return frame


def label_counts_figure(counts: pd.DataFrame) -> Figure:
    """The figure `plot_label_counts` saves; see there.

    Example:
        >>> counts = pd.DataFrame({"train": [3, 1], "validation": [1, 0]},
        ...                       index=pd.MultiIndex.from_tuples([("kind", "x"), ("kind", "y")]))
        >>> [t.get_text() for t in label_counts_figure(counts).axes[0].get_yticklabels()]
        ['x', 'y']
    """
    splits = [c for c in counts.columns if not str(c).endswith("_fraction")]
    heads = list(dict.fromkeys(counts.index.get_level_values(0)))
    frames = {head: _head_counts(counts, head, splits) for head in heads}
    rows = [len(frame) for frame in frames.values()]
    figure = Figure(figsize=(7, sum(0.26 * r + 1.0 for r in rows) + 0.4), layout="constrained")
    grid = figure.add_gridspec(len(heads), 1, height_ratios=[r + 3 for r in rows])
    for index, (head, frame) in enumerate(frames.items()):
        axes = figure.add_subplot(grid[index])
        tick_size, text_size = _sizes(len(frame))
        positions = np.arange(len(frame))
        left = np.zeros(len(frame))
        for number, split in enumerate(splits):
            axes.barh(positions, frame[split], left=left, height=0.7, color=f"C{number}", label=split)
            left += frame[split].to_numpy()
        for position, total in zip(positions, left):
            axes.text(total, position, f" {int(total)}", va="center", fontsize=text_size)
        axes.set_yticks(positions, list(frame.index), fontsize=tick_size)
        axes.set_ylim(len(frame) - 0.5, -0.5)  # most images on top
        axes.set_xlim(0, max(left.max(), 1) * 1.12)
        axes.set_title(f"{head} ({len(counts.loc[head])} classes)", fontsize=11, loc="left")
        axes.set_xlabel("images")
        if index == 0:
            axes.legend(loc="lower right", fontsize="small")
    return figure


def plot_label_counts(counts: pd.DataFrame, path) -> Path:
    """Horizontal bars of images per class, one panel per head, the splits stacked.

    Classes are ordered by their number of images, most on top; past `MOST_CLASSES` classes the
    smallest are summed as "other"; the figure grows with the number of classes, so every name stays
    readable.

    Args:
        counts: `zoo.data.label_counts(...)`: indexed by (head, class), a count column per split.
        path: Output image file.

    Returns:
        The path written.
    """
    return save_figure(label_counts_figure(counts), path)
