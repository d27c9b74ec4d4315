"""Plots of decisions against thresholds: micro F1, exact match and hamming accuracy.

For a model's `zoo.Predictions`, `plot_threshold_curves` draws one panel per
multilabel or binary head; `plot_thresholds` draws one from arrays.

Example:
    >>> import tempfile, numpy as np
    >>> path = Path(tempfile.mkdtemp()) / "t.png"
    >>> plot_thresholds(np.array([[1], [0]]), np.array([[0.7], [0.4]]), path).name
    't.png'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from zoo.evaluation.figures import panels, rows_of_panels, save_figure


def _threshold_curves(axes, y_true, scores, title: str) -> None:
    """Micro F1, exact match and hamming accuracy against one global threshold, on `axes`."""
    from sklearn import metrics as skm

    y_true, scores = np.asarray(y_true).astype(int), np.asarray(scores)
    thresholds = np.linspace(0.01, 0.99, 99)
    curves = {"micro F1": [], "exact match": [], "hamming accuracy": []}
    for t in thresholds:
        y_pred = (scores > t).astype(int)
        curves["micro F1"].append(skm.f1_score(y_true, y_pred, average="micro", zero_division=0))
        curves["exact match"].append(skm.accuracy_score(y_true, y_pred))
        curves["hamming accuracy"].append(1 - skm.hamming_loss(y_true, y_pred))
    for name, values in curves.items():
        axes.plot(thresholds, values, label=name)
    axes.set_xlabel("threshold")
    axes.set_title(title)
    axes.legend()


def plot_thresholds(y_true, scores, path, title: str = "") -> Path:
    """F1 (micro), exact match and hamming accuracy against one global threshold.

    Args:
        y_true: (samples, labels) 0/1 targets.
        scores: (samples, labels) probabilities.
        path: Output image file.
        title: Heading.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "thresholds.png"
        >>> plot_thresholds(np.array([[1, 0], [0, 1]]), np.array([[0.8, 0.3], [0.2, 0.6]]), path) == path
        True
    """
    figure = Figure(figsize=(6, 4), layout="constrained")
    _threshold_curves(figure.add_subplot(), y_true, scores, title or "metrics against the decision threshold")
    return save_figure(figure, path)


def threshold_curves_figure(predictions, heads=None) -> Figure:
    """The figure `plot_threshold_curves` saves; see there.

    Example:
        >>> import zoo
        >>> predictions = zoo.Predictions({"tags": np.array([[0.8, 0.3], [0.2, 0.6]]), "kind": np.eye(2)},
        ...     {"tags": np.array([[1, 0], [0, 1]]), "kind": np.eye(2)},
        ...     [zoo.Head("tags", ["a", "b"]), zoo.Head("kind", ["x", "y"], kind="multiclass")])
        >>> [axes.get_title() for axes in threshold_curves_figure(predictions).axes]
        ['tags']
    """
    parts = predictions.by_head(heads, thresholded_only=True)
    if not parts:
        raise ValueError(f"No multilabel or binary head to plot thresholds of. Received: heads "
                         f"{[h.name for h in predictions.heads]}, all multiclass")
    per_row = rows_of_panels(len(parts), most=3)
    figure = Figure(figsize=(5 * max(per_row), 3.6 * len(per_row)), layout="constrained")
    for (head, y_true, scores), axes in zip(parts, panels(figure, per_row)):
        _threshold_curves(axes, y_true, scores, head.name)
    return figure


def plot_threshold_curves(predictions, path, heads=None) -> Path:
    """Per multilabel or binary head, micro F1, exact match and hamming accuracy against one threshold.

    Args:
        predictions: `zoo.Predictions` of a model (e.g. on the validation split).
        path: Output image file.
        heads: The heads to plot (default: every thresholded head of `predictions`).

    Returns:
        The path written.

    Example:
        >>> import tempfile, zoo
        >>> tags = zoo.Head("tags", ["a", "b"])
        >>> predictions = zoo.Predictions({"tags": np.array([[0.8, 0.3], [0.2, 0.6]])},
        ...                               {"tags": np.array([[1, 0], [0, 1]])}, [tags])
        >>> plot_threshold_curves(predictions, Path(tempfile.mkdtemp()) / "thresholds.png").name
        'thresholds.png'
    """
    return save_figure(threshold_curves_figure(predictions, heads), path)
