"""Keras callbacks that report through `zoo.io.progress`: per epoch, per batch.

Example:
    >>> import io
    >>> keras_progress(3, min_batches=10)
    {'verbose': 0}
    >>> type(keras_progress(40, stream=io.StringIO())["callbacks"][0]).__name__
    'BatchProgress'
"""

from __future__ import annotations

import sys
import time

import keras

from zoo.io.progress import Progress, format_duration, is_terminal


class EpochProgress(keras.callbacks.Callback):
    """One line per epoch: `epoch 3/40  loss 0.412  val_loss 0.520  elapsed 0:42, left ~4:10`.

    Counts epochs across several `fit` calls (as `zoo.fit_staged` makes), so one instance
    covers every stage when `total_epochs` is given.

    Args:
        total_epochs: Epochs in all stages (default: the `epochs` of each `fit`).
        metrics: Log keys to show (default: `loss` and `val_loss`).
        stream: Where lines go (default: `sys.stdout`).
        prefix: Put before each line, e.g. "  ".
        clock: Seconds since some fixed point (default: `time.monotonic`).

    Example:
        >>> from zoo.io.progress_callbacks import EpochProgress
        >>> history = zoo.fit_staged(model, train, validation, stages=stages,  # doctest: +SKIP
        ...                          callbacks=[EpochProgress(sum(s.epochs for s in stages))], verbose=0)
        epoch 1/16  loss 1.93  val_loss 1.71  elapsed 0:12
        epoch 2/16  loss 1.64  val_loss 1.52  elapsed 0:21, left ~2:06
    """

    def __init__(self, total_epochs=None, metrics=("loss", "val_loss"), stream=None, prefix="",
                 clock=time.monotonic):
        super().__init__()
        self.total_epochs, self.metrics, self.prefix, self.clock = total_epochs, tuple(metrics), prefix, clock
        self.stream = stream
        self.start = None
        self.first_end = None
        self.epochs_seen = 0

    def on_train_begin(self, logs=None):
        if self.start is None:
            self.start = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        if self.start is None:
            self.start = self.clock()
        self.epochs_seen += 1
        total = self.total_epochs or self.params.get("epochs")
        logs = logs or {}
        values = "".join(f"  {k} {logs[k]:.4g}" for k in self.metrics if k in logs)
        now = self.clock()
        elapsed = now - self.start
        done = epoch + 1
        # The rate comes from the epochs after the first this callback saw: the first also builds the
        # training step and fills the image cache, so it would overstate what is left, after a resume too.
        left = ""
        if self.first_end is None:
            self.first_end = now
        elif total and done < total:
            left = f", left ~{format_duration((now - self.first_end) / (self.epochs_seen - 1) * (total - done))}"
        print(f"{self.prefix}epoch {done}/{total}{values}  elapsed {format_duration(elapsed)}{left}",
              file=self.stream or sys.stdout, flush=True)


class BatchProgress(keras.callbacks.Callback):
    """Progress of `model.predict` or `model.evaluate`, batch by batch, through a `Progress`.

    Args:
        total: Batches in all (None when unknown).
        label: What is being done, e.g. "predict".
        **options: `Progress` options (`stream`, `every`, `interactive`).
    """

    def __init__(self, total, label="predict", **options):
        super().__init__()
        self.progress = Progress(total, label, "batches", **options)

    def on_predict_batch_end(self, batch, logs=None):
        self.progress.update(batch + 1)

    def on_test_batch_end(self, batch, logs=None):
        self.progress.update(batch + 1)

    def on_predict_end(self, logs=None):
        self.progress.close()

    def on_test_end(self, logs=None):
        self.progress.close()


def keras_progress(batches: int | None, label: str = "predict", min_batches: int = 10, stream=None) -> dict:
    """`verbose` and `callbacks` for `model.predict`/`evaluate`: Keras' bar on a terminal, plain lines elsewhere.

    Keras' progress bar carries ANSI escape codes, so it is used only when `stream` (default
    `sys.stdout`) is a terminal; otherwise a `BatchProgress` prints plain lines. Runs of at most
    `min_batches` batches report nothing.

    Args:
        batches: Batches the call will run (None when unknown).
        label: What is being done.
        min_batches: Up to this many batches, no progress is shown.
        stream: Where the progress goes.

    Example:
        >>> import io
        >>> keras_progress(3, min_batches=10)
        {'verbose': 0}
        >>> keras_progress(40, stream=io.StringIO())["verbose"]
        0
    """
    stream = stream if stream is not None else sys.stdout
    if batches is not None and batches <= min_batches:
        return {"verbose": 0}
    if is_terminal(stream) and stream is sys.stdout:
        return {"verbose": 1}
    return {"verbose": 0, "callbacks": [BatchProgress(batches, label, stream=stream)]}
