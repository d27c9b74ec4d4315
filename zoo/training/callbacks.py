"""Training callbacks: epoch-end validation metrics, atomic checkpoints, NaN stop.

Example:
    >>> callbacks = zoo.training.callbacks.standard_callbacks("run1", validation_data)  # doctest: +SKIP
    >>> model.fit(train_data, epochs=30, callbacks=callbacks)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import keras
import numpy as np

from zoo.evaluation.predictions import Predictions
from zoo.evaluation.report import evaluate
from zoo.models.card import Best, card_of, set_card
from zoo.models.card import heads_of
from zoo.io.saving import read_card, save_model

logger = logging.getLogger(__name__)


# Summary figures logged per head kind, and the threshold-free one `val_score` averages.
_LOGGED = {"multiclass": (("accuracy", "macro_f1"), "accuracy")}
_LOGGED_SIGMOID = (("micro_f1", "macro_f1", "micro_precision", "micro_recall", "mAP"), "mAP")


class ValidationMetrics(keras.callbacks.Callback):
    """Adds scikit-learn F1, precision and recall per head to the epoch logs.

    Each epoch's `zoo.Predictions` come from one pass over `validation_data`,
    so probabilities and targets stay aligned whatever the dataset's order;
    the last ones stay in `predictions`. Keys look like `val_tags_micro_f1`, so
    `ModelCheckpoint`, `EarlyStopping` and `CSVLogger` placed after this
    callback can use them. `val_score` is the mean over heads of accuracy
    (multiclass) and mAP (multilabel, binary): one threshold-free figure to
    pick the best epoch by. An epoch whose loss is not finite is skipped
    (`StopOnNaN` ends the run).

    With `compiled_metrics=True` the same predictions also give what Keras'
    own validation pass logs (`val_loss`, each head's loss and the compiled
    metrics), so `fit` can run without `validation_data` and the validation
    images are predicted once an epoch instead of twice.

    Args:
        validation_data: Batches of (images, {head: targets}).
        prefix: Prefix of the log keys.
        verbose: Print one line per epoch.
        compiled_metrics: Also log the model's compiled loss and metrics on
            `validation_data`, which then must not carry sample weights.

    Raises:
        ValueError: `compiled_metrics` with batches that carry sample weights.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> callback = ValidationMetrics([(np.zeros((2, 32, 32, 3)), {"tags": np.eye(2)})])
        >>> callback.set_model(model)
        >>> logs = {"loss": 0.5}
        >>> callback.on_epoch_end(0, logs)
        >>> sorted(logs)[:3], len(callback.predictions)
        (['loss', 'val_score', 'val_tags_mAP'], 2)
    """

    def __init__(self, validation_data, prefix: str = "val_", verbose: bool = False, compiled_metrics: bool = False):
        super().__init__()
        self.validation_data = validation_data
        self.prefix = prefix
        self.verbose = verbose
        self.compiled_metrics = compiled_metrics
        self.predictions: Predictions | None = None
        self._compiled_figures = CompiledFigures()
        first = getattr(validation_data, "element_spec", None)  # a dataset's batch structure
        if first is None and isinstance(validation_data, (list, tuple)) and validation_data:
            first = validation_data[0]
        if compiled_metrics and isinstance(first, tuple) and len(first) > 2:
            raise ValueError("compiled_metrics=True computes the validation loss without sample weights, but the "
                             f"validation batches carry them. Received: batches of {len(first)} parts")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if not np.isfinite(float(logs.get("loss", 0.0))):
            return  # StopOnNaN reports it; the predictions are NaN too
        self.predictions = Predictions.of(self.model, self.validation_data)
        if self.compiled_metrics:
            figures = self._compiled_figures(self.model, self.predictions)
            logs.update({f"{self.prefix}{k}": v for k, v in figures.items()})
        report = evaluate(self.model, self.predictions)
        scores = []
        for head in heads_of(self.model):
            keys, score = _LOGGED.get(head.kind, _LOGGED_SIGMOID)
            summary = report[head.name]["summary"]
            scores.append(summary[score])
            for key in keys:
                logs[f"{self.prefix}{head.name}_{key}"] = summary[key]
        logs[f"{self.prefix}score"] = float(np.nanmean(scores))
        if self.verbose:
            figures = ", ".join(f"{k}={v:.4f}" for k, v in logs.items() if k.startswith(self.prefix))
            print(f"epoch {epoch + 1}: {figures}")


def compiled_figures(model, predictions: Predictions) -> dict:
    """The compiled loss and metrics of `model` on `predictions`, as `model.evaluate` returns them.

    The metric states are reset before and after, so a `fit` in progress logs
    its own training figures unchanged. `CompiledFigures` does the same and keeps
    its traced graph from call to call.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> model = zoo.compile_model(model)
        >>> batches = [(np.zeros((4, 32, 32, 3)), {"tags": np.eye(2)[[0, 1, 1, 0]]})]
        >>> figures = compiled_figures(model, Predictions.of(model, batches))
        >>> evaluated = model.evaluate(*batches[0], verbose=0, return_dict=True)
        >>> sorted(figures) == sorted(evaluated), abs(figures["loss"] - evaluated["loss"]) < 1e-6
        (True, True)
    """
    return CompiledFigures()(model, predictions)


class CompiledFigures:
    """`compiled_figures` in one traced graph, kept while the model and its compiled metrics stay the same.

    Called eagerly, Keras' multi-label AUC (each head's compiled `map`) traces
    a new `tf.vectorized_map` function at every call, and TensorFlow warns of
    the retracing after five; inside one graph it is traced once.
    """

    def __init__(self):
        self._key, self._graph = None, None

    def __call__(self, model, predictions: Predictions) -> dict:
        import tensorflow as tf

        key = (id(model), *map(id, model.metrics))  # a new compile makes new metric objects
        if key != self._key:
            self._key = key
            self._graph = tf.function(lambda targets, outputs: (
                model.compute_loss(y=targets, y_pred=outputs, training=False),
                model.compute_metrics(None, targets, outputs)))
        model.reset_metrics()
        loss, figures = self._graph(dict(predictions.targets), dict(predictions.probabilities))
        model.reset_metrics()
        return {**{k: float(v) for k, v in figures.items()}, "loss": float(loss)}


class SafeModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras' `ModelCheckpoint`, saving with `zoo.save_model` (atomic, card included) and never NaN weights.

    Args:
        filepath: `.keras` or `.h5` path; may contain `{epoch}`.
        monitor: Log key to compare epochs by.
        mode: "min", "max" or "auto" (max for accuracy/f1/auc/map/score keys).
        save_best_only: Save only when `monitor` improves.
        best: The best value so far (a resumed run passes the saved one, so
            that a worse epoch never replaces the best model): Keras'
            `initial_value_threshold`.
        epoch_offset: Epochs trained before this training (the heads' stage on
            cached features): the card numbers the best epoch after them.
    """

    def __init__(self, filepath, monitor: str = "val_loss", mode: str = "auto", save_best_only: bool = True,
                 best: float | None = None, epoch_offset: int = 0):
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"`mode` must be 'min', 'max' or 'auto'. Received: mode={mode!r}")
        if mode == "auto":
            last = monitor.lower().rsplit("_", 1)[-1]  # a head may be named "scores": read the figure's own name
            mode = "min" if last in ("loss", "error") else "max" if any(
                k in last for k in ("acc", "f1", "auc", "map", "match", "precision", "recall", "score")) else "min"
        super().__init__(str(filepath), monitor=monitor, mode=mode, save_best_only=save_best_only,
                         initial_value_threshold=best)
        self.best_epoch, self.epoch_offset = None, int(epoch_offset)

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        if not np.isfinite(float(logs.get("loss", 0.0))):
            return  # never save NaN weights
        if self.save_best_only and self.monitor not in logs:
            raise KeyError(
                f"SafeModelCheckpoint monitors {self.monitor!r}, which is not in the logs "
                f"{sorted(logs)}. Received: monitor={self.monitor!r}"
            )
        path = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, path):
            return
        if self.save_best_only:
            self.best, self.best_epoch = float(self.best), self.epoch_offset + epoch + 1
            card = card_of(self.model, infer=False)
            if card is not None:  # saved with the model, so a resumed run knows the value to beat
                set_card(self.model, dataclasses.replace(card, best=Best(self.monitor, self.best, self.best_epoch)))
        save_model(self.model, path)


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras' `TerminateOnNaN` that also records where the loss stopped being finite, and says what to try.

    Training stops at the end of the first batch whose loss is NaN or infinite, as with
    Keras' callback; `stopped_at` holds (epoch, batch), both counted from 1. Instead of
    Keras' own line, the error names that epoch and batch (logged once), or, with
    `log=False`, nothing is said: the caller reports `stopped_at` as its one error.

    Args:
        log: Log the error; False where the caller reports `stopped_at` itself.
        raise_error: Raise a `RuntimeError` at once, as Keras' callback does with
            this option, instead of stopping gracefully (`stopped_at` is set first).

    Example:
        >>> import types
        >>> stop = StopOnNaN(log=False)
        >>> stop.set_model(types.SimpleNamespace(stop_training=False))
        >>> stop.on_epoch_begin(2)
        >>> stop.on_train_batch_end(0, {"loss": 0.7})
        >>> stop.on_train_batch_end(1, {"loss": float("nan")})
        >>> stop.stopped_at, stop.model.stop_training
        ((3, 2), True)
    """

    def __init__(self, log: bool = True, raise_error: bool = False):
        super().__init__()  # `raise_error` is kept here: Keras' own option is recent
        self.raise_error = raise_error
        self.log = log
        self.stopped_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(float(loss)):
            return
        self.stopped_at = (self._epoch + 1, batch + 1)
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Received: loss={loss}")
        self.model.stop_training = True  # as Keras' graceful stop, without its own line beside ours
        if self.log:
            logger.error(
                "Training stopped: the loss became %s at epoch %d, batch %d. Lower the learning rate, "
                "check the inputs for NaN, or use a loss with clipping.", loss, *self.stopped_at,
            )


def standard_callbacks(output_dir, validation_data=None, monitor: str | None = None, backup: bool = True) -> list:
    """Validation metrics, NaN stop, best-model checkpoint, CSV log and resume.

    Args:
        output_dir: Folder for `best.keras`, `history.csv` and `backup/`.
        validation_data: Enables `ValidationMetrics` and the checkpoint's default
            monitor `val_loss`.
        monitor: Checkpoint monitor (default `val_loss`, or `loss` without
            validation data).
        backup: Add `keras.callbacks.BackupAndRestore`: rerunning the same
            `fit` after an interruption resumes at the next epoch.

    Returns:
        A list for `model.fit(callbacks=...)`.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    callbacks = []
    if validation_data is not None:
        callbacks.append(ValidationMetrics(validation_data))
    callbacks.append(StopOnNaN())
    monitor = monitor or ("val_loss" if validation_data is not None else "loss")
    best_file = output_dir / "best.keras"
    # After an interruption the best model so far is on disk: a resumed fit must beat it.
    card = read_card(best_file) if backup and best_file.is_file() else None
    saved = card.best if card is not None else None
    best = saved.value if saved is not None and saved.monitor == monitor else None
    callbacks.append(SafeModelCheckpoint(best_file, monitor, best=best))
    callbacks.append(keras.callbacks.CSVLogger(str(output_dir / "history.csv"), append=True))
    if backup:
        callbacks.append(keras.callbacks.BackupAndRestore(str(output_dir / "backup")))
    return callbacks
