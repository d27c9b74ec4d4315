"""Serializable multi-label metrics used while training.

Example:
    >>> import numpy as np
    >>> from zoo.models.metrics import exact_match_accuracy
    >>> y_true = np.array([[1, 0], [0, 1]], "float32")
    >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.7]], "float32")
    >>> float(np.mean(exact_match_accuracy(y_true, y_pred)))
    0.5
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
def exact_match_accuracy(y_true, y_pred, threshold=0.5):
    """Per-sample 1.0 where every label is predicted right (subset accuracy), else 0.0."""
    y_true = ops.cast(y_true, "float32")
    predicted = ops.cast(ops.greater(ops.cast(y_pred, "float32"), threshold), "float32")
    correct = ops.all(ops.equal(predicted, y_true), axis=-1)
    return ops.cast(correct, "float32")


@keras.saving.register_keras_serializable(package="zoo")
class ExactMatchAccuracy(keras.metrics.MeanMetricWrapper):
    """Fraction of samples whose whole label set is predicted exactly.

    Args:
        threshold: Probability above which a label counts as predicted.
        name: Metric name.
        dtype: Metric dtype.
    """

    def __init__(self, threshold: float = 0.5, name: str = "exact_match", dtype=None):
        super().__init__(exact_match_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}
