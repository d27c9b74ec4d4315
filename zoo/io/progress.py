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
