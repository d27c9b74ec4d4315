"""Output heads: what each head predicts and how it is trained.

Example:
    >>> import zoo
    >>> head = zoo.Head("tags", ["sea", "sunset"], kind="multilabel")
    >>> head.activation, head.units
    ('sigmoid', 2)
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

import keras

from zoo.models.metrics import ExactMatchAccuracy

HEAD_KINDS = ("multilabel", "multiclass", "binary")  # several classes at once, exactly one, one yes/no
_ACTIVATIONS = {"multilabel": "sigmoid", "multiclass": "softmax", "binary": "sigmoid"}


@dataclasses.dataclass(frozen=True)
class Head:
    """One named model output.

    Args:
        name: Output name; the model's output layer carries it.
        classes: Ordered class names. A binary head takes one name (the positive
            class) or two (negative, positive) and has one output unit.
        kind: "multilabel" (sigmoid, binary cross-entropy), "multiclass" (softmax,
            categorical cross-entropy) or "binary" (one sigmoid unit).
        hidden_units: Optional width of a Dense+ReLU layer before the output.
        dropout: Dropout rate before the output layer (0 disables it).
        loss_weight: Weight of this head's loss in the total loss.
        threshold: Decision threshold for sigmoid outputs: one number, or one
            per class.

    Example:
        >>> head = Head("genre", ["comedy", "drama", "horror"], threshold=[0.5, 0.4, 0.3])
        >>> head.kind, head.units, head.activation
        ('multilabel', 3, 'sigmoid')
        >>> Head("spam", ["spam"], kind="binary").units
        1
        >>> HEAD_KINDS  # zoo.HEAD_KINDS
        ('multilabel', 'multiclass', 'binary')
    """

    name: str
    classes: Sequence[str]
    kind: str = "multilabel"
    hidden_units: int | None = None
    dropout: float = 0.0
    loss_weight: float = 1.0
    threshold: float | Sequence[float] = 0.5

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(
                f"Head `name` must be a Python identifier. Received: name={self.name!r}"
            )
        if self.kind not in HEAD_KINDS:
            raise ValueError(
                f"Head `kind` must be one of {', '.join(HEAD_KINDS)}. Received: kind={self.kind!r}"
            )
        classes = () if isinstance(self.classes, str) or not isinstance(self.classes, Iterable) else (
            tuple(str(c) for c in self.classes))
        if not classes:
            raise ValueError(
                f"Head {self.name!r} needs a non-empty list of class names. "
                f"Received: classes={self.classes!r}"
            )
        if len(set(classes)) != len(classes):
            raise ValueError(f"Head {self.name!r} has repeated classes. Received: classes={classes}")
        if self.kind == "multiclass" and len(classes) < 2:
            raise ValueError(
                f"A multiclass head needs at least 2 classes. Received: classes={classes}"
            )
        if self.kind == "binary" and len(classes) > 2:
            raise ValueError(
                "A binary head takes 1 class (positive) or 2 (negative, positive). "
                f"Received: classes={classes}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={self.dropout}")
        object.__setattr__(self, "classes", classes)
        threshold = self.threshold
        if not isinstance(threshold, (int, float)):
            threshold = tuple(float(t) for t in threshold)
            if len(threshold) != self.units:
                raise ValueError(
                    f"Head {self.name!r} has {self.units} outputs but "
                    f"{len(threshold)} thresholds. Received: threshold={threshold}"
                )
        object.__setattr__(self, "threshold", threshold)

    @property
    def units(self) -> int:
        """Number of output units."""
        return 1 if self.kind == "binary" else len(self.classes)

    @property
    def activation(self) -> str:
        """Output activation for this kind."""
        return _ACTIVATIONS[self.kind]

    def loss(self) -> keras.losses.Loss:
        """The default loss for this kind."""
        if self.kind == "multiclass":
            return keras.losses.CategoricalCrossentropy()
        return keras.losses.BinaryCrossentropy()

    def metrics(self) -> list[keras.metrics.Metric]:
        """Metrics reported for this head while training."""
        if self.kind == "multiclass":
            return [keras.metrics.CategoricalAccuracy(name="accuracy")]
        if self.kind == "binary":
            return [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]
        return [
            keras.metrics.BinaryAccuracy(name="binary_accuracy"),  # hamming accuracy
            ExactMatchAccuracy(name="exact_match"),
            keras.metrics.F1Score(average="micro", threshold=0.5, name="f1"),
            keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1"),
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
            keras.metrics.AUC(curve="PR", multi_label=True, num_labels=self.units, name="map"),
        ]

    def build(self, features):
        """Adds this head's layers on top of a 2-D `features` tensor."""
        x = features
        if self.hidden_units:
            x = keras.layers.Dense(self.hidden_units, activation="relu", name=f"{self.name}_hidden")(x)
        if self.dropout:
            x = keras.layers.Dropout(self.dropout, name=f"{self.name}_dropout")(x)
        x = keras.layers.Dense(self.units, name=f"{self.name}_logits")(x)
        # float32 output keeps probabilities exact under mixed precision.
        return keras.layers.Activation(self.activation, dtype="float32", name=self.name)(x)

    def to_dict(self) -> dict:
        """JSON-ready description, the inverse of `Head.from_dict`."""
        data = dataclasses.asdict(self)
        data["classes"] = list(self.classes)
        if isinstance(self.threshold, tuple):
            data["threshold"] = list(self.threshold)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Head":
        """Builds a Head from `Head.to_dict` output."""
        return cls(**data)


def as_heads(heads, default_kind: str = "multilabel") -> list[Head]:
    """Normalizes `heads` to a list of Head.

    Args:
        heads: A list of Head, or a dict `{name: classes}` or `{name: Head}`.
        default_kind: Kind of the heads given as `{name: classes}`.

    Returns:
        A list of Head with unique names.
    """
    if isinstance(heads, Head):
        heads = [heads]
    if isinstance(heads, dict):
        heads = [
            value if isinstance(value, Head) else Head(name, value, kind=default_kind)
            for name, value in heads.items()
        ]
    heads = list(heads or [])
    if not heads or not all(isinstance(h, Head) for h in heads):
        raise ValueError(
            "`heads` must be a non-empty list of zoo.Head or a dict {name: classes}. "
            f"Received: heads={heads!r}"
        )
    names = [h.name for h in heads]
    if len(set(names)) != len(names):
        raise ValueError(f"Head names must be unique. Received: {names}")
    return heads


def thresholded(heads) -> list[Head]:
    """The heads whose decisions come from thresholds (multilabel and binary), in order.

    Multiclass heads are decided by their top class and have no threshold to tune.

    Example:
        >>> [h.name for h in thresholded([Head("tags", ["a", "b"]), Head("kind", ["x", "y"], kind="multiclass")])]
        ['tags']
    """
    return [h for h in (as_heads(heads) if heads else []) if h.kind != "multiclass"]
