"""`Predictions`: a model's probabilities and the targets, per head, from one pass over labelled data.

One pass can serve every report: `zoo.evaluate`, `zoo.tune_thresholds`,
`zoo.evaluation.thresholds.cross_fitted_report` and the threshold plots all take
a `Predictions` where they take a dataset.

Example:
    >>> import numpy as np, zoo
    >>> tags = zoo.Head("tags", ["sea", "sun"])
    >>> predictions = Predictions({"tags": np.array([[0.9, 0.2], [0.4, 0.7]])},
    ...                           {"tags": np.array([[1, 0], [0, 1]])}, [tags])
    >>> len(predictions), [head.name for head, _, _ in predictions.by_head()]
    (2, ['tags'])
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.models.heads import Head, as_heads, thresholded
from zoo.models.card import heads_of

NEW_FORM = "zoo.evaluate(model, dataset) or zoo.evaluate(model, zoo.Predictions.of(model, dataset))"


@dataclasses.dataclass(frozen=True, eq=False)
class Predictions:
    """Probabilities and targets per head, row for row.

    Build one with `Predictions.of(model, dataset)`: probabilities and
    targets come from the same batches, so they stay aligned even when the
    dataset reshuffles every pass.

    Args:
        probabilities: {head name: (samples, units) probabilities}.
        targets: {head name: (samples, units) targets}.
        heads: The `zoo.Head`s they belong to (a list, or `{name: classes}`).

    Example:
        >>> import numpy as np, zoo
        >>> kind = zoo.Head("kind", ["x", "y"], kind="multiclass")
        >>> predictions = Predictions({"kind": np.eye(2)}, {"kind": np.eye(2)[[1, 1]]}, [kind])
        >>> predictions.probabilities["kind"].shape, predictions.head("kind").kind
        ((2, 2), 'multiclass')
        >>> Predictions({"kind": np.eye(2)}, {}, [kind])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Predictions need probabilities and targets for every head; missing targets of 'kind'. Received: ...
    """

    probabilities: dict
    targets: dict
    heads: tuple[Head, ...]

    def __post_init__(self):
        heads = tuple(as_heads(self.heads))
        for field in ("probabilities", "targets"):
            given = getattr(self, field)
            missing = [h.name for h in heads if h.name not in given]
            if missing:
                raise ValueError(f"Predictions need probabilities and targets for every head; missing {field} of "
                                 f"{', '.join(map(repr, missing))}. Received: {field} for {sorted(given)}")
            object.__setattr__(self, field, {h.name: np.asarray(given[h.name]) for h in heads})
        rows = {len(v) for v in (*self.probabilities.values(), *self.targets.values())}
        if len(rows) > 1:
            raise ValueError(f"Every head's probabilities and targets need the same number of rows. "
                             f"Received: {sorted(rows)} rows")
        object.__setattr__(self, "heads", heads)

    @classmethod
    def of(cls, model, dataset, tta: str | None = None) -> Predictions:
        """The model's probabilities and the targets from one pass over `dataset`, batch by batch.

        Args:
            model: A Keras model with dict (or list) outputs, or an export opened
                with `zoo.io.export.runtimes.load_any`.
            dataset: Batches of `(images, {head: targets}, ...)`: a dataset or
                any iterable of such batches.
            tta: Test-time augmentation: None, "flip" or "flip+crops" (see
                `zoo.evaluation.tta`); the probabilities are then averaged over
                each image's views.

        Returns:
            A `Predictions` of the model's heads.

        Example:
            >>> import numpy as np, zoo
            >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
            ...                   weights=None)
            >>> batches = [(np.zeros((3, 32, 32, 3)), {"tags": np.ones((3, 2))})] * 2
            >>> predictions = Predictions.of(model, batches, tta="flip")
            >>> len(predictions), predictions.probabilities["tags"].shape
            (6, (6, 2))
        """
        from zoo.evaluation.tta import check_tta, predict_tta

        check_tta(tta)
        heads = heads_of(model)
        probabilities, targets = {h.name: [] for h in heads}, {h.name: [] for h in heads}
        for batch in dataset:
            images, labels = batch[0], batch[1]
            outputs = predict_tta(model, images, tta)
            for head in heads:
                probabilities[head.name].append(np.asarray(outputs[head.name]))
                targets[head.name].append(np.asarray(labels[head.name]))
        return cls({k: _joined(v, h) for (k, v), h in zip(probabilities.items(), heads)},
                   {k: _joined(v, h) for (k, v), h in zip(targets.items(), heads)}, heads)

    def __len__(self) -> int:
        return len(next(iter(self.targets.values())))

    def head(self, name: str) -> Head:
        """The head called `name`.

        Example:
            >>> tags = Head("tags", ["a", "b"])
            >>> Predictions({"tags": np.zeros((1, 2))}, {"tags": np.zeros((1, 2))}, [tags]).head("tags").classes
            ('a', 'b')
        """
        for head in self.heads:
            if head.name == name:
                return head
        raise ValueError(f"No head {name!r} in these predictions; heads: {[h.name for h in self.heads]}. "
                         f"Received: name={name!r}")

    def by_head(self, heads=None, thresholded_only: bool = False):
        """(head, targets, probabilities) for each head.

        Args:
            heads: Whose heads, e.g. `heads_of(model)` for the thresholds the
                model has now (default: those recorded with the predictions).
            thresholded_only: Only the multilabel and binary heads, whose
                decisions come from thresholds (see `zoo.models.heads.thresholded`).

        Returns:
            A list of (Head, targets, probabilities) triples in head order.

        Example:
            >>> heads = [Head("tags", ["a", "b"]), Head("kind", ["x", "y"], kind="multiclass")]
            >>> predictions = Predictions({"tags": np.zeros((1, 2)), "kind": np.eye(2)[:1]},
            ...                           {"tags": np.ones((1, 2)), "kind": np.eye(2)[:1]}, heads)
            >>> [(head.name, y.tolist()) for head, y, _ in predictions.by_head(thresholded_only=True)]
            [('tags', [[1.0, 1.0]])]
        """
        heads = self.heads if heads is None else as_heads(heads)
        if thresholded_only:
            heads = thresholded(heads)
        missing = [h.name for h in heads if h.name not in self.targets]
        if missing:
            raise ValueError(f"These predictions have no head {', '.join(map(repr, missing))}; they hold "
                             f"{[h.name for h in self.heads]}. Predict with the same model.")
        return [(h, self.targets[h.name], self.probabilities[h.name]) for h in heads]

    def pair(self) -> tuple[dict, dict]:
        """The older form: ({head: probabilities}, {head: targets}).

        Example:
            >>> tags = Head("tags", ["a"])
            >>> probabilities, targets = Predictions({"tags": [[0.7]]}, {"tags": [[1]]}, [tags]).pair()
            >>> probabilities["tags"].tolist(), targets["tags"].tolist()
            ([[0.7]], [[1]])
        """
        return dict(self.probabilities), dict(self.targets)

    def __repr__(self) -> str:
        return f"Predictions(samples={len(self)}, heads={[h.name for h in self.heads]})"


def _joined(parts: list, head: Head) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros((0, head.units), "float32")


def predictions_for(model, data=None, *, dataset=None, predictions=None) -> Predictions:
    """`data` as `Predictions` of `model`: itself, or one pass of the model over a dataset.

    `dataset=` and `predictions=` are the older keywords of `zoo.evaluate` and
    `zoo.tune_thresholds`; `predictions` may be the older
    `({head: probabilities}, {head: targets})` tuple.

    Example:
        >>> predictions_for(None)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Pass the labelled data: ... or zoo.evaluate(model, zoo.Predictions.of(model, dataset)). ...
    """
    given = [value for value in (data, dataset, predictions) if value is not None]
    if len(given) > 1:
        raise ValueError(f"Pass the labelled data once: {NEW_FORM}. Received: {len(given)} of data, dataset= "
                         "and predictions=")
    if not given:
        raise ValueError(f"Pass the labelled data: {NEW_FORM}. Received neither.")
    value = given[0]
    if isinstance(value, Predictions):
        return value
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, dict) for v in value):
        return Predictions(value[0], value[1], heads_of(model))
    if predictions is not None:
        raise TypeError(f"`predictions` must be a zoo.Predictions: {NEW_FORM}. Received: type "
                        f"{type(predictions).__name__}")
    return Predictions.of(model, value)
