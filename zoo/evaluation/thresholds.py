"""Decision thresholds for sigmoid heads, tuned on validation data.

Example:
    >>> import numpy as np
    >>> from zoo.evaluation.thresholds import best_thresholds
    >>> y = np.array([[1], [1], [0], [0]])
    >>> scores = np.array([[0.9], [0.35], [0.3], [0.1]])
    >>> best_thresholds(y, scores, "f1").round(2).tolist()
    [0.32]
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from zoo.evaluation.predictions import predictions_for
from zoo.evaluation.report import sigmoid_head_report
from zoo.models.card import heads_of, update_head

METRICS = ("f1", "exact_match", "hamming")


def _candidates(scores: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive distinct scores: every distinct decision, once."""
    values = np.unique(np.concatenate([[0.0, 1.0], scores.ravel()]))
    return (values[:-1] + values[1:]) / 2.0


def _score(metric, y_true, y_pred):
    if metric == "f1":  # one label's own F1 for a 1-D column, micro F1 over a (samples, labels) matrix
        return skm.f1_score(y_true, y_pred, average="binary" if y_true.ndim == 1 else "micro", zero_division=0)
    if metric == "exact_match":
        return np.mean(np.all(y_true == y_pred, axis=1))
    return np.mean(y_true == y_pred)


def best_thresholds(y_true, scores, metric: str = "f1", per_class: bool = True, max_candidates: int = 200):
    """Thresholds that maximize `metric` on (y_true, scores).

    Args:
        y_true: (samples, labels) 0/1 targets.
        scores: (samples, labels) probabilities.
        metric: "f1" (per class: each label's F1; global: micro F1),
            "exact_match" or "hamming" (accuracy).
        per_class: One threshold per label; False: one for all.
        max_candidates: Candidates per search (evenly spaced quantiles of the
            distinct decision points when there are more).

    Returns:
        (labels,) thresholds; ties go to the threshold closest to 0.5.
    """
    if metric not in METRICS:
        raise ValueError(f"`metric` must be one of {METRICS}. Received: metric={metric!r}")
    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores, dtype="float64")

    def search(values, evaluate):
        candidates = _candidates(values)
        if len(candidates) > max_candidates:
            candidates = np.quantile(candidates, np.linspace(0, 1, max_candidates))
        results = np.array([evaluate(t) for t in candidates])
        best = np.flatnonzero(results >= results.max() - 1e-12)
        return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])

    labels = y_true.shape[1]
    if not per_class:
        threshold = search(scores, lambda t: _score(metric, y_true, (scores > t).astype(int)))
        return np.full(labels, threshold)
    if metric in ("f1", "hamming"):  # both decompose over labels
        return np.array([
            search(scores[:, j], lambda t, j=j: _score(metric, y_true[:, j], (scores[:, j] > t).astype(int)))
            for j in range(labels)
        ])
    thresholds = best_thresholds(y_true, scores, metric, per_class=False)
    for _ in range(3):  # coordinate ascent: exact match does not decompose
        for j in range(labels):
            def exact(t, j=j):
                trial = thresholds.copy()
                trial[j] = t
                return _score(metric, y_true, (scores > trial).astype(int))

            thresholds[j] = search(scores[:, j], exact)
    return thresholds


def tune_thresholds(model, data=None, metric: str = "f1", per_class: bool = True, *, dataset=None,
                    predictions=None) -> dict:
    """Tunes the thresholds of every sigmoid head and stores them in the model.

    The thresholds travel with `zoo.save_model` and are used by `zoo.evaluate`
    and the Predictor.

    Args:
        model: A zoo model.
        data: Validation batches of images and per-head targets, or
            `zoo.Predictions` of the model already computed.
        metric: "f1", "exact_match" or "hamming".
        per_class: One threshold per class, or one per head.
        dataset: The older name of `data`.
        predictions: The older name of `data` for predictions (a `Predictions`
            or a `({head: probabilities}, {head: targets})` tuple).

    Returns:
        {head: list of thresholds}.

    Example:
        >>> import zoo
        >>> tags = zoo.Head("tags", ["a"])
        >>> model = zoo.build("multilabel_small", heads=[tags], input_shape=(32, 32, 3), weights=None)
        >>> predictions = zoo.Predictions({"tags": np.array([[0.9], [0.35], [0.3], [0.1]])},
        ...                               {"tags": np.array([[1], [1], [0], [0]])}, [tags])
        >>> zoo.tune_thresholds(model, predictions)
        {'tags': [0.325]}
        >>> zoo.model_info(model)["heads"]["tags"]["threshold"]
        [0.325]
    """
    predictions = predictions_for(model, data, dataset=dataset, predictions=predictions)
    tuned = {}
    for head, y_true, scores in predictions.by_head(heads_of(model), thresholded_only=True):
        tuned[head.name] = [round(float(v), 6) for v in best_thresholds(y_true, scores, metric, per_class)]
        update_head(model, head.name, threshold=tuned[head.name])
    return tuned


def cross_fitted_thresholds(y_true, scores, metric: str = "f1", per_class: bool = True, folds: int = 2,
                            seed: int = 0) -> np.ndarray:
    """Per-sample thresholds, each tuned on the folds the sample is not in.

    Figures computed with thresholds tuned on the same samples are optimistic.
    Here the samples are split at random into `folds` parts and each part is
    thresholded with `best_thresholds` of the other parts, so every decision is
    made by thresholds that never saw that sample: an honest estimate of what
    tuning brings on new data.

    Args:
        y_true: (samples, labels) 0/1 targets.
        scores: (samples, labels) probabilities.
        metric: See `best_thresholds`.
        per_class: See `best_thresholds`.
        folds: Number of parts (at least 2).
        seed: Seed of the random split.

    Returns:
        (samples, labels) thresholds.

    Example:
        >>> import numpy as np
        >>> y = np.array([[1], [0]] * 4)
        >>> scores = np.array([[0.4], [0.2]] * 4)
        >>> cross_fitted_thresholds(y, scores).ravel().round(2).tolist()
        [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    """
    y_true = np.asarray(y_true)
    scores = np.asarray(scores)
    if not 2 <= folds <= len(y_true):
        raise ValueError(
            f"`folds` must be between 2 and the number of samples ({len(y_true)}). Received: folds={folds}"
        )
    fold_of = np.random.default_rng(seed).permutation(len(y_true)) % folds
    thresholds = np.empty(scores.shape, dtype="float64")
    for fold in range(folds):
        held_out = fold_of == fold
        thresholds[held_out] = best_thresholds(y_true[~held_out], scores[~held_out], metric, per_class)
    return thresholds


def cross_fitted_report(model, data=None, metric: str = "f1", per_class: bool = True, folds: int = 2,
                        seed: int = 0, *, dataset=None, predictions=None) -> dict:
    """`zoo.evaluate`-style report of the sigmoid heads with cross-fitted thresholds.

    The honest companion of `tune_thresholds`: it estimates how thresholds tuned
    this way do on images they were not tuned on. The model is not changed.

    Args:
        model: A zoo model.
        data: Batches of images and per-head targets, or `zoo.Predictions` of
            the model already computed.
        metric: See `best_thresholds`.
        per_class: See `best_thresholds`.
        folds: See `cross_fitted_thresholds`.
        seed: See `cross_fitted_thresholds`.
        dataset: The older name of `data`.
        predictions: The older name of `data` for predictions.

    Returns:
        {head: {"summary": {...}, "per_class": DataFrame}} for the sigmoid heads.

    Example:
        >>> import zoo
        >>> tags = zoo.Head("tags", ["a", "b"])
        >>> model = zoo.build("multilabel_small", heads=[tags], input_shape=(32, 32, 3), weights=None)
        >>> predictions = zoo.Predictions({"tags": np.array([[0.4, 0.1], [0.2, 0.7]] * 4)},
        ...                               {"tags": np.array([[1, 0], [0, 1]] * 4)}, [tags])
        >>> cross_fitted_report(model, predictions)["tags"]["summary"]["exact_match"]
        1.0
    """
    predictions = predictions_for(model, data, dataset=dataset, predictions=predictions)
    return {
        head.name: sigmoid_head_report(head, y_true, scores,
                                       cross_fitted_thresholds(y_true, scores, metric, per_class, folds, seed))
        for head, y_true, scores in predictions.by_head(heads_of(model), thresholded_only=True)
    }
