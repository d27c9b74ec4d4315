"""Progress with elapsed time and an estimate of time left: a bar on a terminal, plain lines elsewhere.

Nothing here writes ANSI escape codes; on a terminal the bar redraws itself with a carriage
return, and where output goes to a file or a pipe it prints one line every tenth of the work.

Example:
    >>> import io
    >>> stream = io.StringIO()
    >>> progress = Progress(4, "predict", unit="batches", stream=stream, every=2, clock=iter(range(0, 99, 5)).__next__)
    >>> for _ in range(4):
    ...     progress.advance()
    >>> print(stream.getvalue(), end="")
    predict 2/4 batches  elapsed 0:05, left ~0:05
    predict 4/4 batches  elapsed 0:10
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Iterable

BAR_WIDTH = 24


def format_duration(seconds: float) -> str:
    """`42` -> `"0:42"`, `3725` -> `"1:02:05"`.

    Example:
        >>> format_duration(42), format_duration(250.4), format_duration(3725)
        ('0:42', '4:10', '1:02:05')
    """
    seconds = int(round(max(seconds, 0)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def timing(elapsed: float, done: float, total: float | None) -> str:
    """`"elapsed 0:42, left ~4:10"`: the time left assumes the rate so far holds.

    Example:
        >>> timing(42, 3, 33)
        'elapsed 0:42, left ~7:00'
        >>> timing(42, 33, 33)
        'elapsed 0:42'
    """
    text = f"elapsed {format_duration(elapsed)}"
    if total and 0 < done < total:
        text += f", left ~{format_duration(elapsed / done * (total - done))}"
    return text


def is_terminal(stream) -> bool:
    """True when `stream` is an interactive terminal."""
    return bool(getattr(stream, "isatty", None) and stream.isatty())


class Progress:
    """Counts units of work; prints a bar on a terminal, else a line every `every` units.

    Args:
        total: Units of work in all (None when unknown).
        label: What is being done, e.g. "predict".
        unit: Name of the units ("images", "batches").
        stream: Where to write (default: `sys.stdout` at creation).
        every: Units between plain lines (default: a tenth of `total`, at least 1).
        interactive: Draw a bar (default: when `stream` is a terminal).
        clock: Seconds since some fixed point (default: `time.monotonic`).
    """

    def __init__(self, total: int | None, label: str, unit: str = "", stream=None, every: int | None = None,
                 interactive: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream if stream is not None else sys.stdout
        self.every = every or max(1, (total or 10) // 10)
        self.interactive = is_terminal(self.stream) if interactive is None else interactive
        self.clock = clock
        self.start = clock()
        self.done = 0
        self._printed = 0
        self._closed = False

    def line(self) -> str:
        """The current state in one line, e.g. `predict 64/1605 images  elapsed 0:12, left ~4:50`."""
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.label} {count}{unit}  {timing(self.clock() - self.start, self.done, self.total)}"

    def update(self, done: int) -> None:
        """Sets the number of units done and reports where due."""
        self.done = done
        if self.interactive:
            filled = int(BAR_WIDTH * done / self.total) if self.total else 0
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] " if self.total else ""
            self.stream.write(f"\r{bar}{self.line()}  ")
            self.stream.flush()
            if self.total and done >= self.total:
                self.close()
        elif done - self._printed >= self.every or (self.total and done >= self.total and done > self._printed):
            self._printed = done
            print(self.line(), file=self.stream, flush=True)

    def advance(self, count: int = 1) -> None:
        """Adds `count` units done."""
        self.update(self.done + count)

    def close(self) -> None:
        """Ends the bar's line on a terminal."""
        if self.interactive and not self._closed:
            self.stream.write("\n")
            self.stream.flush()
        self._closed = True


def track(iterable: Iterable, total: int | None, label: str, unit: str = "batches", **options):
    """Yields the items of `iterable`, reporting progress as they are taken.

    Args:
        iterable: Anything iterable, e.g. a `tf.data.Dataset` of batches.
        total: Number of items (None when unknown).
        label: What is being done.
        unit: Name of the items.
        **options: `Progress` options (`stream`, `every`, `interactive`).

    Example:
        >>> import io
        >>> stream = io.StringIO()
        >>> sum(track(range(3), 3, "adding", "numbers", stream=stream, every=3))
        3
        >>> stream.getvalue().startswith("adding 3/3 numbers  elapsed 0:00")
        True
    """
    progress = Progress(total, label, unit, **options)
    for item in iterable:
        yield item
        progress.advance()
    progress.close()


def _keras_callback_base():
    """keras.callbacks.Callback, imported when a callback class is first used."""
    import keras

    return keras.callbacks.Callback


def _epoch_progress_class():
    base = _keras_callback_base()

    class EpochProgress(base):
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
            >>> from zoo.training.progress import EpochProgress
            >>> history = zoo.fit_staged(model, train, validation, stages=stages,  # doctest: +SKIP
            ...                          callbacks=[EpochProgress(sum(s.epochs for s in stages))], verbose=0)
            epoch 1/16  loss 1.93  val_loss 1.71  elapsed 0:09, left ~2:15
        """

        def __init__(self, total_epochs=None, metrics=("loss", "val_loss"), stream=None, prefix="",
                     clock=time.monotonic):
            super().__init__()
            self.total_epochs, self.metrics, self.prefix, self.clock = total_epochs, tuple(metrics), prefix, clock
            self.stream = stream
            self.start = None
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
            elapsed = self.clock() - self.start
            done = epoch + 1
            # The rate comes from the epochs this callback saw, which is right after a resumed start too.
            left = ""
            if total and done < total:
                left = f", left ~{format_duration(elapsed / self.epochs_seen * (total - done))}"
            print(f"{self.prefix}epoch {done}/{total}{values}  elapsed {format_duration(elapsed)}{left}",
                  file=self.stream or sys.stdout, flush=True)

    return EpochProgress


def _batch_progress_class():
    base = _keras_callback_base()

    class BatchProgress(base):
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

    return BatchProgress


def track_batches(dataset, label: str = "evaluate", min_batches: int = 10, **options):
    """`track` over a `tf.data.Dataset` of batches, with the total from its cardinality.

    Args:
        dataset: Batches, e.g. from `zoo.data.make_dataset`.
        label: What is being done.
        min_batches: Up to this many batches, no progress is shown.
        **options: `Progress` options (`stream`, `every`, `interactive`).

    Example:
        >>> zoo.Predictions.of(model, track_batches(dataset))  # doctest: +SKIP
    """
    total = int(dataset.cardinality())
    total = total if total >= 0 else None
    if total is not None and total <= min_batches:
        return dataset
    return track(dataset, total, label, "batches", **options)


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
    return {"verbose": 0, "callbacks": [__getattr__("BatchProgress")(batches, label, stream=stream)]}


_CLASSES = {"EpochProgress": _epoch_progress_class, "BatchProgress": _batch_progress_class}


def __getattr__(name):
    if name not in _CLASSES:
        raise AttributeError(f"module 'zoo.training.progress' has no attribute {name!r}")
    value = _CLASSES[name]()
    globals()[name] = value
    return value
