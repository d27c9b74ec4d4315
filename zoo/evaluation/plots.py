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
    return save_figure(history_figure(history, heads), path)


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
    per_row = rows_of_panels(len(matrices), most=5)
    figure = Figure(figsize=(3.2 * max(per_row), 3 * len(per_row) + 0.4), layout="constrained")
    for (name, matrix, labels), axes in zip(matrices, panels(figure, per_row)):
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
    return save_figure(confusion_figure(head_report, title, split, threshold), path)


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
    return save_figure(figure, path)
