"""After training: per-head reports computed with scikit-learn.

Example:
    >>> report = zoo.evaluate(model, validation_data)  # doctest: +SKIP
    >>> report["tags"]["summary"]["hamming_loss"]  # doctest: +SKIP
    0.087

    One prediction pass can serve several reports:

    >>> predictions = zoo.evaluation.report.predict_with_targets(model, validation_data)  # doctest: +SKIP
    >>> at_half = zoo.evaluate(model, predictions=predictions)  # doctest: +SKIP
    >>> tuned = zoo.tune_thresholds(model, predictions=predictions)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from zoo.models.heads import Head
from zoo.models.metadata import heads_of


def predict_with_targets(model, dataset, tta: str | None = None) -> tuple[dict, dict]:
    """Predictions and targets from one pass over `dataset`, batch by batch.

    Using the same batches for both keeps them aligned even when the dataset
    reshuffles every pass. Pass the result as `predictions=` to `zoo.evaluate`
    and `zoo.tune_thresholds` so that both see the same (augmented) probabilities.

    Args:
        model: A Keras model with dict (or list) outputs.
        dataset: Batches of `(images, {head: targets}, ...)`.
        tta: Test-time augmentation: None, "flip" or "flip+crops" (see `zoo.evaluation.tta`);
            the probabilities are then averaged over each image's views.

    Returns:
        ({head: probabilities}, {head: targets}) as numpy arrays.

    Example:
        >>> predictions = predict_with_targets(model, validation_data, tta="flip")  # doctest: +SKIP
        >>> zoo.tune_thresholds(model, predictions=predictions)  # doctest: +SKIP
    """
    from zoo.evaluation.tta import check_tta, predict_tta

    check_tta(tta)
    predictions, targets = {}, {}
    for batch in dataset:
        images, labels = batch[0], batch[1]
        outputs = predict_tta(model, images, tta)
        for name, value in outputs.items():
            predictions.setdefault(name, []).append(np.asarray(value))
            targets.setdefault(name, []).append(np.asarray(labels[name]))
    return ({k: np.concatenate(v) for k, v in predictions.items()},
            {k: np.concatenate(v) for k, v in targets.items()})


def predictions_or_predict(model, dataset, predictions) -> tuple[dict, dict]:
    """`predictions` when given, else `predict_with_targets(model, dataset)`.

    Lets the functions that score a model on a dataset share one prediction pass.
    """
    if predictions is not None:
        return predictions
    if dataset is None:
        raise ValueError("Pass a `dataset` or `predictions` from `predict_with_targets`. Received neither.")
    return predict_with_targets(model, dataset)


def _thresholds(head: Head, override, samples: int) -> np.ndarray:
    value = np.asarray(head.threshold if override is None else override, dtype="float32")
    return np.broadcast_to(value, (samples, head.units) if value.ndim == 2 else (head.units,))


def sigmoid_head_report(head: Head, y_true, scores, thresholds=None) -> dict:
    """Report of a multilabel or binary head: summary figures and a per-class table.

    `thresholds` may be one per class, or one row per sample (see
    `zoo.evaluation.thresholds.cross_fitted_report`); the table then shows each class's mean.
    """
    y_true = np.asarray(y_true).astype(int)
    thresholds = _thresholds(head, thresholds, len(y_true))
    y_pred = (np.asarray(scores) > thresholds).astype(int)
    classes = list(head.classes) if head.kind == "multilabel" else [head.classes[-1]]
    precision, recall, f1, support = skm.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    confusion = skm.multilabel_confusion_matrix(y_true, y_pred)
    ap = [skm.average_precision_score(y_true[:, j], scores[:, j]) if y_true[:, j].any() else np.nan
          for j in range(y_true.shape[1])]
    per_class = pd.DataFrame({
        "class": classes, "threshold": thresholds if thresholds.ndim == 1 else thresholds.mean(axis=0),
        "precision": precision, "recall": recall, "f1": f1,
        "support": support, "average_precision": ap,
        "tp": confusion[:, 1, 1], "fp": confusion[:, 0, 1], "fn": confusion[:, 1, 0], "tn": confusion[:, 0, 0],
    })
    summary = {
        "samples": int(len(y_true)),
        "hamming_loss": float(skm.hamming_loss(y_true, y_pred)),
        "hamming_accuracy": float(1.0 - skm.hamming_loss(y_true, y_pred)),
        "exact_match": float(skm.accuracy_score(y_true, y_pred)),
        "micro_precision": float(skm.precision_score(y_true, y_pred, average="micro", zero_division=0)),
        "micro_recall": float(skm.recall_score(y_true, y_pred, average="micro", zero_division=0)),
        "micro_f1": float(skm.f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(skm.f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "weighted_f1": float(skm.f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "mAP": float(np.nanmean(ap)),
    }
    if head.kind == "multilabel":
        summary["samples_f1"] = float(skm.f1_score(y_true, y_pred, average="samples", zero_division=0))
    return {"summary": summary, "per_class": per_class}


def multiclass_head_report(head: Head, y_true, scores) -> dict:
    """Report of a multiclass head: accuracy, F1 averages, per-class table, confusion matrix."""
    true_index = np.asarray(y_true).argmax(axis=1)
    predicted_index = np.asarray(scores).argmax(axis=1)
    labels = np.arange(len(head.classes))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        true_index, predicted_index, labels=labels, zero_division=0
    )
    per_class = pd.DataFrame({"class": list(head.classes), "precision": precision, "recall": recall,
                              "f1": f1, "support": support})
    confusion = pd.DataFrame(skm.confusion_matrix(true_index, predicted_index, labels=labels),
                             index=list(head.classes), columns=list(head.classes))
    summary = {
        "samples": int(len(true_index)),
        "accuracy": float(skm.accuracy_score(true_index, predicted_index)),
        "macro_f1": float(skm.f1_score(true_index, predicted_index, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": float(skm.f1_score(true_index, predicted_index, labels=labels, average="weighted",
                                          zero_division=0)),
    }
    return {"summary": summary, "per_class": per_class, "confusion": confusion}


def evaluate(model, dataset=None, thresholds: dict | None = None, predictions: tuple | None = None) -> dict:
    """Evaluates every head of `model` on a `(images, {head: targets})` dataset.

    Args:
        model: A model with heads (zoo metadata, or inferred for plain models).
        dataset: Batches of images and per-head targets.
        thresholds: Optional {head: threshold(s)} overriding the stored ones.
        predictions: `predict_with_targets(model, dataset)`, already computed;
            given, `dataset` is not read.

    Returns:
        {head: {"summary": {...}, "per_class": DataFrame[, "confusion": DataFrame]}}.
    """
    probabilities, targets = predictions_or_predict(model, dataset, predictions)
    report = {}
    for head in heads_of(model):
        if head.kind == "multiclass":
            report[head.name] = multiclass_head_report(head, targets[head.name], probabilities[head.name])
        else:
            report[head.name] = sigmoid_head_report(
                head, targets[head.name], probabilities[head.name], (thresholds or {}).get(head.name)
            )
    return report


def summary_table(report: dict) -> pd.DataFrame:
    """One row per head with its summary figures."""
    return pd.DataFrame({name: part["summary"] for name, part in report.items()}).T
