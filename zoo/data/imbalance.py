"""Class-imbalance weights computed from the data.

Keras' `class_weight` does not apply to multi-output models or multi-hot targets;
these give per-label positive weights (for a weighted binary cross-entropy),
per-class weights and per-head sample weights instead.

Example:
    >>> import numpy as np
    >>> from zoo.data.imbalance import positive_weights
    >>> positive_weights(np.array([[1, 0], [1, 0], [0, 1], [1, 0]]))
    array([0.33333334, 3.        ], dtype=float32)
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.class_weight import compute_class_weight


def positive_weights(targets: np.ndarray, max_weight: float = 100.0) -> np.ndarray:
    """Per label, negatives / positives: the `pos_weight` of a weighted BCE.

    Args:
        targets: (samples, labels) multi-hot array.
        max_weight: Upper bound, for labels that are nearly never positive.
    """
    targets = np.asarray(targets, dtype="float32")
    positives = targets.sum(axis=0)
    negatives = len(targets) - positives
    return np.clip(negatives / np.maximum(positives, 1.0), 0.0, max_weight).astype("float32")


def class_weights(targets: np.ndarray) -> np.ndarray:
    """Per class, scikit-learn's "balanced" weight n / (classes * count).

    Args:
        targets: (samples, classes) one-hot array. Classes absent from the data
            get weight 0.
    """
    targets = np.asarray(targets)
    labels = targets.argmax(axis=1)
    present = np.unique(labels)
    weights = np.zeros(targets.shape[1], dtype="float32")
    weights[present] = compute_class_weight("balanced", classes=present, y=labels)
    return weights


def sample_weights(targets: dict, kinds: dict) -> dict:
    """Per-head sample weights that balance classes or labels.

    Multiclass heads: the balanced weight of the sample's class. Multilabel and
    binary heads: the mean balanced weight of the sample's positive labels (1.0
    for samples without positives), normalized to mean 1.

    Args:
        targets: {head: (samples, units) array}, e.g. `encode(...).targets`.
        kinds: {head: kind}.

    Returns:
        {head: (samples,) float32 weights}, usable as `sample_weight` in `fit`
        or as `make_dataset(sample_weights=...)` (which aligns them with the rows).
    """
    result = {}
    for name, y in targets.items():
        y = np.asarray(y, dtype="float32")
        if kinds[name] == "multiclass":
            weights = class_weights(y)[y.argmax(axis=1)]
        else:
            frequency = np.maximum(y.mean(axis=0), 1.0 / max(len(y), 1))
            per_label = 1.0 / (2.0 * frequency)
            positives = y.sum(axis=1)
            weights = np.where(positives > 0, (y * per_label).sum(axis=1) / np.maximum(positives, 1), 1.0)
        result[name] = (weights / weights.mean()).astype("float32")
    return result
