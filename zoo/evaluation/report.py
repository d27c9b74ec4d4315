"""After training: per-head reports computed with scikit-learn.

Example:
    >>> report = zoo.evaluate(model, validation_data)  # doctest: +SKIP
    >>> report["tags"]["summary"]["hamming_loss"]  # doctest: +SKIP
    0.087

    One prediction pass can serve several reports:

    >>> predictions = zoo.Predictions.of(model, validation_data)  # doctest: +SKIP
    >>> at_half = zoo.evaluate(model, predictions)  # doctest: +SKIP
    >>> tuned = zoo.tune_thresholds(model, predictions)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from zoo.evaluation.predictions import Predictions, predictions_for
from zoo.models.heads import Head
from zoo.models.card import heads_of


def predict_with_targets(model, dataset, tta: str | None = None) -> tuple[dict, dict]:
    """The older tuple form of `zoo.Predictions.of(model, dataset, tta)`.

    Returns:
        ({head: probabilities}, {head: targets}) as numpy arrays.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> batches = [(np.zeros((3, 32, 32, 3)), {"tags": np.ones((3, 2))})]
        >>> probabilities, targets = predict_with_targets(model, batches)
        >>> probabilities["tags"].shape, targets["tags"].shape
        ((3, 2), (3, 2))
    """
    return Predictions.of(model, dataset, tta).pair()


def predictions_or_predict(model, dataset, predictions) -> tuple[dict, dict]:
    """The older tuple form of `predictions_for(model, dataset, predictions=predictions)`.

    Example:
        >>> predictions_or_predict(None, None, ({"t": np.ones((1, 1))}, {"t": np.ones((1, 1))}))[0]["t"].shape
        (1, 1)
    """
    if isinstance(predictions, tuple):
        return predictions
    return predictions_for(model, dataset, predictions=predictions).pair()


def _thresholds(head: Head, override, samples: int) -> np.ndarray:
    value = np.asarray(head.threshold if override is None else override, dtype="float32")
    return np.broadcast_to(value, (samples, head.units) if value.ndim == 2 else (head.units,))


def _undefined_where_absent(per_class: pd.DataFrame, absent: np.ndarray) -> pd.DataFrame:
    """Precision, recall and F1 are undefined (NaN) for a class neither present nor predicted.

    Macro F1 is then the mean of the defined ones, as mAP is of the classes with
    positives: a class kept in training only does not count as an F1 of 0.
    """
    per_class.loc[absent, ["precision", "recall", "f1"]] = np.nan
    return per_class


def sigmoid_head_report(head: Head, y_true, scores, thresholds=None) -> dict:
    """Report of a multilabel or binary head: summary figures and a per-class table.

    `thresholds` may be one per class, or one row per sample (see
    `zoo.evaluation.thresholds.cross_fitted_report`); the table then shows each class's mean.

    Example:
        >>> report = sigmoid_head_report(Head("tags", ["a", "b"]), np.array([[1, 0], [1, 1]]),
        ...                              np.array([[0.9, 0.2], [0.4, 0.8]]))
        >>> report["summary"]["exact_match"], report["per_class"]["tp"].tolist()
        (0.5, [1, 1])
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
    absent = (support == 0) & (y_pred.sum(axis=0) == 0)
    per_class = _undefined_where_absent(per_class, absent)
    summary = {
        "samples": int(len(y_true)),
        "hamming_loss": float(skm.hamming_loss(y_true, y_pred)),
        "hamming_accuracy": float(1.0 - skm.hamming_loss(y_true, y_pred)),
        "exact_match": float(skm.accuracy_score(y_true, y_pred)),
        "micro_precision": float(skm.precision_score(y_true, y_pred, average="micro", zero_division=0)),
        "micro_recall": float(skm.recall_score(y_true, y_pred, average="micro", zero_division=0)),
        "micro_f1": float(skm.f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(np.nanmean(per_class["f1"])),
        "weighted_f1": float(skm.f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "mAP": float(np.nanmean(ap)),
    }
    if head.kind == "multilabel":
        summary["samples_f1"] = float(skm.f1_score(y_true, y_pred, average="samples", zero_division=0))
    return {"summary": summary, "per_class": per_class}


def multiclass_head_report(head: Head, y_true, scores) -> dict:
    """Report of a multiclass head: accuracy, F1 averages, per-class table, confusion matrix.

    Example:
        >>> report = multiclass_head_report(Head("kind", ["x", "y"], kind="multiclass"), np.eye(2)[[0, 1, 1]],
        ...                                 np.eye(2)[[0, 1, 0]])
        >>> round(report["summary"]["accuracy"], 3), report["confusion"].loc["y", "x"]
        (0.667, np.int64(1))
    """
    true_index = np.asarray(y_true).argmax(axis=1)
    predicted_index = np.asarray(scores).argmax(axis=1)
    labels = np.arange(len(head.classes))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        true_index, predicted_index, labels=labels, zero_division=0
    )
    absent = (support == 0) & ~np.isin(labels, predicted_index)
    per_class = _undefined_where_absent(pd.DataFrame({"class": list(head.classes), "precision": precision,
                                                      "recall": recall, "f1": f1, "support": support}), absent)
    confusion = pd.DataFrame(skm.confusion_matrix(true_index, predicted_index, labels=labels),
                             index=list(head.classes), columns=list(head.classes))
    summary = {
        "samples": int(len(true_index)),
        "accuracy": float(skm.accuracy_score(true_index, predicted_index)),
        "macro_f1": float(np.nanmean(per_class["f1"])),
        "weighted_f1": float(skm.f1_score(true_index, predicted_index, labels=labels, average="weighted",
                                          zero_division=0)),
    }
    return {"summary": summary, "per_class": per_class, "confusion": confusion}


def head_report(head: Head, y_true, scores, thresholds=None) -> dict:
    """`multiclass_head_report` or `sigmoid_head_report`, by the head's kind.

    Example:
        >>> head_report(Head("kind", ["x", "y"], kind="multiclass"), np.eye(2), np.eye(2))["summary"]["accuracy"]
        1.0
    """
    if head.kind == "multiclass":
        return multiclass_head_report(head, y_true, scores)
    return sigmoid_head_report(head, y_true, scores, thresholds)


def evaluate(model, data=None, thresholds: dict | None = None, *, dataset=None, predictions=None) -> dict:
    """Evaluates every head of `model` on labelled data.

    Args:
        model: A model with heads (a zoo model's card, or inferred for plain models);
            the thresholds it holds now decide its sigmoid heads.
        data: Batches of `(images, {head: targets})`, or `zoo.Predictions` of
            the model already computed (then nothing is predicted).
        thresholds: Optional {head: threshold(s)} overriding the stored ones.
        dataset: The older name of `data`.
        predictions: The older name of `data` for predictions: a `Predictions`
            or a `({head: probabilities}, {head: targets})` tuple.

    Returns:
        {head: {"summary": {...}, "per_class": DataFrame[, "confusion": DataFrame]}}.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> batches = [(np.zeros((4, 32, 32, 3)), {"tags": np.eye(2)[[0, 1, 0, 1]]})]
        >>> zoo.evaluate(model, zoo.Predictions.of(model, batches))["tags"]["summary"]["samples"]
        4
    """
    predictions = predictions_for(model, data, dataset=dataset, predictions=predictions)
    return {head.name: head_report(head, y_true, scores, (thresholds or {}).get(head.name))
            for head, y_true, scores in predictions.by_head(heads_of(model))}


def summary_table(report: dict) -> pd.DataFrame:
    """One row per head with its summary figures.

    Example:
        >>> summary_table({"tags": {"summary": {"samples": 4, "micro_f1": 0.5}}}).to_dict("index")
        {'tags': {'samples': 4.0, 'micro_f1': 0.5}}
    """
    return pd.DataFrame({name: part["summary"] for name, part in report.items()}).T
