"""What a plan is made from: the images' size and this machine's training speed.

Example:
    >>> median_image_size([])
    (224, 224)
    >>> budget_clock(gpu=False) is time.process_time
    True
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from zoo.training.plan import FORWARD_COST


def budget_clock(gpu: bool):
    """The clock a budget is counted on: wall time with a GPU, else this process's processor time.

    Processor time sums every core the run keeps busy, so a plan made on a
    loaded machine is the same as on an idle one, and a 10-minute budget is 10
    processor-minutes however many cores TensorFlow spreads the work over.

    Example:
        >>> budget_clock(gpu=False) is time.process_time, budget_clock(gpu=True) is time.perf_counter
        (True, True)
    """
    return time.perf_counter if gpu else time.process_time


def median_image_size(paths, sample: int = 200, seed: int = 0) -> tuple:
    """Median (height, width) of up to `sample` images, from their headers.

    Example:
        >>> median_image_size([])
        (224, 224)
    """
    paths = list(paths)
    if not paths:
        return (224, 224)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(paths), size=min(sample, len(paths)), replace=False)
    sizes = []
    for index in chosen:
        try:
            with Image.open(paths[index]) as image:
                sizes.append((image.height, image.width))
        except OSError:
            continue  # the file check reports it
    if not sizes:
        return (224, 224)
    return tuple(int(v) for v in np.median(np.asarray(sizes), axis=0))


def measure_step_seconds(build_model, sides=(48, 96), batch_size: int = 32, steps: int = 6,
                         augment=None, clock=time.perf_counter) -> tuple:
    """Times training on random images at two sizes.

    A line through the two per-image step times separates the part that grows
    with the number of pixels from the part that does not; a short `fit` with
    validation and a weights backup gives the fixed cost of every epoch.

    Args:
        build_model: `side -> compiled keras.Model` with input (side, side, 3).
        sides: The two square sides timed.
        batch_size: Images per step.
        steps: Timed steps per size (after one untimed warm-up step); the
            fastest counts, being the least disturbed by other work.
        augment: Optional `images -> images` run before each timed step, as
            the training pipeline augments every batch on the same processors.
        clock: What a second is counted on (see `budget_clock`).

    Returns:
        (seconds per pixel and image, seconds per image, seconds per epoch).
    """
    per_image = []
    for side in sides:
        model = build_model(side)
        images = np.random.default_rng(0).uniform(0, 255, (batch_size, side, side, 3)).astype("float32")
        targets = {name: np.zeros((batch_size, int(output.shape[-1])), "float32")
                   for name, output in zip(model.output_names, model.outputs)}
        prepare = augment or (lambda batch: batch)
        model.train_on_batch(prepare(images), targets)
        times = []
        for _ in range(steps):
            start = clock()
            model.train_on_batch(prepare(images), targets)
            times.append(clock() - start)
        step = min(times)  # the least disturbed by other work on the machine
        per_image.append(step / batch_size)
    pixels = [side * side for side in sides]
    slope = max((per_image[1] - per_image[0]) / (pixels[1] - pixels[0]), 1e-12)
    overhead = max(per_image[0] - slope * pixels[0], 0.0)
    return slope, overhead, _epoch_seconds(model, images, targets, step, clock)


def _epoch_seconds(model, images, targets, step_seconds: float, clock, epochs: int = 4) -> float:
    """Seconds per epoch that do not depend on the number of images: loop, validation start, backup."""
    with tempfile.TemporaryDirectory() as folder:
        backup = _TimedBackup(Path(folder) / "probe.weights.h5", clock)
        model.fit(images, targets, validation_data=(images, targets), epochs=epochs, verbose=0, callbacks=[backup])
    per_epoch = min(backup.seconds[1:])  # the first epoch also builds the validation step
    return max(per_epoch - step_seconds * (1 + FORWARD_COST), 0.0)


class _TimedBackup(keras.callbacks.Callback):
    """Saves the weights at every epoch end, as a run's backup does, and times each epoch."""

    def __init__(self, path, clock):
        super().__init__()
        self.path, self.clock, self.seconds, self.start = path, clock, [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.start = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        self.model.save_weights(self.path)
        self.seconds.append(self.clock() - self.start)
