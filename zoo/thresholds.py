"""Decision thresholds for sigmoid heads, tuned on validation data.

Example:
    >>> import numpy as np
    >>> from zoo.thresholds import best_thresholds
    >>> y = np.array([[1], [1], [0], [0]])
    >>> scores = np.array([[0.9], [0.35], [0.3], [0.1]])
    >>> best_thresholds(y, scores, "f1").round(2).tolist()
    [0.32]
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from zoo.evaluation import predict_with_targets
from zoo.metadata import heads_of, update_head

METRICS = ("f1", "exact_match", "hamming")


def _candidates(scores: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive distinct scores: every distinct decision, once."""
    values = np.unique(np.concatenate([[0.0, 1.0], scores.ravel()]))
    return (values[:-1] + values[1:]) / 2.0


def _score(metric, y_true, y_pred):
    if metric == "f1":
        return skm.f1_score(y_true, y_pred, average="micro", zero_division=0)
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
            search(scores[:, j], lambda t, j=j: _score(metric, y_true[:, [j]], (scores[:, [j]] > t).astype(int)))
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


def tune_thresholds(model, dataset, metric: str = "f1", per_class: bool = True) -> dict:
    """Tunes the thresholds of every sigmoid head and stores them in the model.

    The thresholds travel with `zoo.save_model` and are used by `zoo.evaluate`
    and the Predictor.

    Args:
        model: A zoo model.
        dataset: Validation batches of images and per-head targets.
        metric: "f1", "exact_match" or "hamming".
        per_class: One threshold per class, or one per head.

    Returns:
        {head: list of thresholds}.
    """
    probabilities, targets = predict_with_targets(model, dataset)
    tuned = {}
    for head in heads_of(model):
        if head.kind == "multiclass":
            continue
        values = best_thresholds(targets[head.name], probabilities[head.name], metric, per_class)
        tuned[head.name] = [round(float(v), 6) for v in values]
        update_head(model, head.name, threshold=tuned[head.name])
    return tuned
