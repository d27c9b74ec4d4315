"""Image grids of predictions: the contact sheet `zoo train` writes (mistakes first, every class
shown), and a plain grid.

Example:
    >>> import numpy as np
    >>> figure = prediction_sheet_figure(np.zeros((1, 8, 8, 3)), ["a.jpg"], {"tags": [("sea",)]},
    ...                                  {"tags": [("sea",)]})
    >>> figure.get_suptitle()
    'tags 1/1 right'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from zoo.evaluation.figures import save_figure

# Most images on a contact sheet (it holds more than `limit` only to show every class once).
MOST_ON_A_SHEET = 100


def sheet_rows(predictions, limit: int = 40, heads=None) -> list[int]:
    """Which images a contact sheet shows, in order: the mistakes first (highest loss first), then
    right answers; at least one image of every class (its highest-loss one) where the sheet has room,
    which grows past `limit` up to MOST_ON_A_SHEET to hold every class.

    Args:
        predictions: `zoo.Predictions` of the images.
        limit: How many images (at least).
        heads: The heads whose thresholds decide what is a mistake (default: the predictions').

    Returns:
        Row indices into `predictions`.

    Example:
        >>> import zoo
        >>> kind = zoo.Head("kind", ["x", "y", "z"], kind="multiclass")
        >>> predictions = zoo.Predictions({"kind": np.array([[.8, .1, .1], [.7, .2, .1], [.2, .7, .1],
        ...     [.3, .3, .4], [.1, .1, .8]])}, {"kind": np.eye(3)[[0, 0, 1, 1, 2]]}, [kind])
        >>> sheet_rows(predictions, limit=3)  # 3 is the mistake (a y); 1 and 4: the hardest x and z
        [3, 1, 4]
    """
    from zoo.data.encoding import decode_predictions
    from zoo.evaluation.scored_images import given_labels, image_losses

    parts = predictions.by_head(heads)
    losses = image_losses(predictions)
    by_loss = [int(i) for i in np.argsort(-losses, kind="stable")]
    wrong = np.zeros(len(losses), bool)
    representatives = []
    for head, targets, probabilities in parts:
        given = given_labels(head, targets)
        guessed = decode_predictions(probabilities, head)
        wrong |= np.array([set(g) != set(p) for g, p in zip(given, guessed)], bool)
        for name in head.classes:
            row = next((i for i in by_loss if name in given[i]), None)
            if row is not None and row not in representatives:
                representatives.append(row)
    size = min(len(losses), max(limit, min(len(representatives), MOST_ON_A_SHEET)))
    chosen = representatives[:size]
    for row in [i for i in by_loss if wrong[i]] + [i for i in by_loss if not wrong[i]]:
        if len(chosen) >= size:
            break
        if row not in chosen:
            chosen.append(row)
    rank = {row: place for place, row in enumerate(by_loss)}
    return sorted(chosen, key=lambda row: (not wrong[row], rank[row]))


def plot_predictions(images, true_labels, predicted_labels, path, columns: int = 4) -> Path:
    """A grid of images titled with true and predicted label names.

    Args:
        images: (n, h, w, 3) array of 0..255 pixels.
        true_labels: n strings (or None entries when unknown).
        predicted_labels: n strings.
        path: Output image file.
        columns: Images per row.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "grid.png"
        >>> plot_predictions(np.zeros((2, 8, 8, 3)), ["sea", None], ["sea", "sun"], path) == path
        True
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
    return save_figure(figure, path)


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
        >>> plot_prediction_sheet(images, files, {"color": truth}, {"color": guesses},  # doctest: +SKIP
        ...                                 "predictions.png")
    """
    return save_figure(prediction_sheet_figure(images, files, true, predicted, columns, title), path)
