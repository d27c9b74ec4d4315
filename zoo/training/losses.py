"""Serializable multi-label losses: weighted BCE, focal (Keras') and asymmetric.

Example:
    >>> import numpy as np
    >>> from zoo.training.losses import WeightedBinaryCrossentropy
    >>> loss = WeightedBinaryCrossentropy(pos_weight=[3.0, 1.0])
    >>> round(float(loss(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))), 4)
    1.3863
"""

from __future__ import annotations

import keras
from keras import ops

_EPSILON = 1e-7


@keras.saving.register_keras_serializable(package="zoo")
class WeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy whose positive term is weighted per label.

    `pos_weight[j] = negatives / positives` of label j (see
    `zoo.data.positive_weights`) makes rare labels count as much as common ones.

    Args:
        pos_weight: One weight per label (or one for all).
        label_smoothing: Targets move towards 0.5 by this amount.
        name: Loss name.
    """

    def __init__(self, pos_weight=1.0, label_smoothing=0.0, name="weighted_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pos_weight = [float(w) for w in pos_weight] if hasattr(pos_weight, "__len__") else float(pos_weight)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        y_pred = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
        weight = ops.convert_to_tensor(self.pos_weight, y_pred.dtype)
        terms = -(weight * y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred))
        return ops.mean(terms, axis=-1)

    def get_config(self):
        return {**super().get_config(), "pos_weight": self.pos_weight, "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="zoo")
class AsymmetricLoss(keras.losses.Loss):
    """Asymmetric loss for multi-label data with many easy negatives (Ridnik et al., 2021).

    Positives: `-(1 - p)^gamma_pos * log(p)`. Negatives use a shifted
    probability `p_m = max(p - clip, 0)`: `-p_m^gamma_neg * log(1 - p_m)`, which
    down-weights easy negatives and discards very easy ones.

    Args:
        gamma_pos: Focusing exponent for positives.
        gamma_neg: Focusing exponent for negatives.
        clip: Probability margin subtracted for negatives.
        name: Loss name.
    """

    def __init__(self, gamma_pos=0.0, gamma_neg=4.0, clip=0.05, name="asymmetric_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.gamma_pos, self.gamma_neg, self.clip = float(gamma_pos), float(gamma_neg), float(clip)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        p = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
        shifted = ops.clip(p - self.clip, 0.0, 1.0 - _EPSILON) if self.clip else p
        positive = y_true * ops.power(1.0 - p, self.gamma_pos) * ops.log(p)
        negative = (1.0 - y_true) * ops.power(shifted, self.gamma_neg) * ops.log(1.0 - shifted)
        return -ops.mean(positive + negative, axis=-1)

    def get_config(self):
        return {**super().get_config(), "gamma_pos": self.gamma_pos, "gamma_neg": self.gamma_neg, "clip": self.clip}


LOSSES = ("bce", "weighted_bce", "focal", "asymmetric")


def make_loss(name: str, **options) -> keras.losses.Loss:
    """A multi-label loss by name: "bce", "weighted_bce", "focal" or "asymmetric".

    Args:
        name: Loss name.
        **options: Its arguments (`pos_weight`, `gamma`, `label_smoothing`, ...).
    """
    if name == "bce":
        return keras.losses.BinaryCrossentropy(**options)
    if name == "weighted_bce":
        return WeightedBinaryCrossentropy(**options)
    if name == "focal":
        return keras.losses.BinaryFocalCrossentropy(**options)
    if name == "asymmetric":
        return AsymmetricLoss(**options)
    raise ValueError(f"Unknown loss {name!r}; valid: {', '.join(LOSSES)}. Received: loss={name!r}")
