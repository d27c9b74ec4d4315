"""The scored images of a run: each image's file, probabilities and targets, kept in `scores.npz`.

`zoo train` and `zoo evaluate` write them beside their reports, so that the HTML report can
be built again later (`zoo report`) without predicting: threshold curves, the confusion
matrices and the images the model gets most wrong all come from this one file.

Example:
    >>> import tempfile, numpy as np, zoo
    >>> kind = zoo.Head("kind", ["x", "y"], kind="multiclass")
    >>> predictions = zoo.Predictions({"kind": np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])},
    ...                               {"kind": np.eye(2)[[0, 1, 1]]}, [kind])
    >>> path = save_scores(predictions, ["a.png", "b.png", "c.png"], Path(tempfile.mkdtemp()) / "scores.npz")
    >>> files, loaded = load_scores(path)
    >>> files, loaded.head("kind").classes
    (['a.png', 'b.png', 'c.png'], ('x', 'y'))
    >>> [files[i] for i in most_wrong(loaded, 2)]
    ['c.png', 'b.png']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zoo.evaluation.predictions import Predictions
from zoo.models.heads import Head

SCORES_FILE = "scores.npz"
_EPSILON = 1e-7


def save_scores(predictions: Predictions, files, path, heads=None) -> Path:
    """Writes `predictions` of the images `files` (in the same order) to a compressed `.npz` file.

    Args:
        predictions: A `zoo.Predictions`.
        files: One image path per row of the predictions.
        path: The `.npz` file.
        heads: The heads to record (e.g. `heads_of(model)` for the thresholds the model
            holds now; default: those of the predictions).

    Returns:
        The path written.
    """
    files = [str(f) for f in files]
    if len(files) != len(predictions):
        raise ValueError(f"One file per scored image is needed: {len(predictions)} scored images. "
                         f"Received: {len(files)} files")
    heads = list(predictions.heads if heads is None else heads)
    arrays = {"files": np.array(files, dtype=str),
              "heads": np.array(json.dumps([h.to_dict() for h in heads]))}
    for head, targets, probabilities in predictions.by_head(heads):
        arrays[f"probabilities:{head.name}"] = np.asarray(probabilities, "float32")
        arrays[f"targets:{head.name}"] = np.asarray(targets, "float32")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path


def load_scores(path) -> tuple[list[str], Predictions]:
    """The files and `zoo.Predictions` that `save_scores` wrote (heads with their thresholds)."""
    with np.load(path, allow_pickle=False) as stored:
        heads = [Head.from_dict(h) for h in json.loads(str(stored["heads"]))]
        probabilities = {h.name: stored[f"probabilities:{h.name}"] for h in heads}
        targets = {h.name: stored[f"targets:{h.name}"] for h in heads}
        files = [str(f) for f in stored["files"]]
    return files, Predictions(probabilities, targets, heads)


def image_losses(predictions: Predictions) -> np.ndarray:
    """Each image's loss, summed over heads: cross-entropy for multiclass heads, binary
    cross-entropy averaged over the classes for multilabel and binary heads.

    Example:
        >>> import zoo
        >>> tags = zoo.Head("tags", ["a", "b"])
        >>> losses = image_losses(zoo.Predictions({"tags": np.array([[0.5, 0.5]])}, {"tags": np.ones((1, 2))},
        ...                                       [tags]))
        >>> round(float(losses[0]), 4) == round(float(np.log(2)), 4)
        True
    """
    total = np.zeros(len(predictions))
    for head, targets, probabilities in predictions.by_head():
        p = np.clip(np.asarray(probabilities, "float64"), _EPSILON, 1 - _EPSILON)
        y = np.asarray(targets, "float64")
        if head.kind == "multiclass":
            total += -(y * np.log(p)).sum(axis=1)
        else:
            total += -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1)
    return total


def most_wrong(predictions: Predictions, count: int) -> list[int]:
    """Row indices of the `count` images with the highest loss, highest first (ties: file order)."""
    losses = image_losses(predictions)
    order = np.argsort(-losses, kind="stable")
    return [int(i) for i in order[:count]]


def given_labels(head: Head, targets) -> list[tuple]:
    """Targets -> the given label names per image (multiclass: the 1; others: every class at 1).

    Example:
        >>> given_labels(Head("tags", ["a", "b"]), np.array([[1, 1], [0, 0]]))
        [('a', 'b'), ()]
    """
    targets = np.asarray(targets)
    if head.kind == "multiclass":
        return [(head.classes[i],) for i in targets.argmax(axis=1)]
    if head.kind == "binary":
        negative = head.classes[0] if len(head.classes) == 2 else None
        return [(head.classes[-1],) if t[0] > 0.5 else ((negative,) if negative else ()) for t in targets]
    return [tuple(c for c, t in zip(head.classes, row) if t > 0.5) for row in targets]
