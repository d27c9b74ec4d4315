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


def measure_training_speed(build_model, batches, sides=(48, 96), clock=time.perf_counter,
                           epochs: int = 4, once: dict | None = None) -> tuple:
    """Times training epochs on a sample of the real training pipeline at two sizes.

    Each size trains a few epochs on the same sample, as the run will: decoded
    images from memory, augmentation, the `fit` loop. A line through the two
    per-image costs separates the part that grows with the number of pixels
    from the part that does not; a short `fit` with validation and a weights
    backup gives the fixed cost of every epoch.

    Args:
        build_model: `side -> compiled keras.Model` with input (side, side, 3).
        batches: `side -> dataset` of `(images, targets)` batches of a sample of
            the training images at (side, side), kept in memory after one pass.
        sides: The two square sides timed.
        clock: What a second is counted on (see `budget_clock`).
        epochs: Epochs per size; the first (which builds the step) is not counted.
        once: A dict that receives what a run pays once rather than every epoch,
            timed at the last size: `decode_per_image`, the seconds to read,
            decode and resize an image (the first pass over `batches`), and
            `stage_start`, what the first epoch of a compiled model costs beyond
            the others (building its training step).

    Returns:
        (seconds per pixel and image, seconds per image, seconds per epoch).

    Example:
        >>> import keras, numpy as np, tensorflow as tf
        >>> def build(side):  # a tiny network: the timing, not the model, is the point here
        ...     inputs = keras.Input((side, side, 3))
        ...     pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
        ...     model = keras.Model(inputs, {"tags": keras.layers.Dense(2, activation="sigmoid", name="tags")(pooled)})
        ...     model.compile("adam", {"tags": "binary_crossentropy"})
        ...     return model
        >>> def batches(side):
        ...     images = np.zeros((16, side, side, 3), "float32")
        ...     targets = {"tags": np.zeros((16, 2), "float32")}
        ...     return tf.data.Dataset.from_tensor_slices((images, targets)).batch(8).cache()
        >>> once = {}
        >>> per_pixel, per_image, per_epoch = measure_training_speed(build, batches, sides=(16, 32), epochs=2,
        ...                                                          once=once)
        >>> per_pixel > 0 and per_image >= 0 and per_epoch >= 0
        True
        >>> sorted(once), once["stage_start"] > 0
        (['decode_per_image', 'stage_start'], True)
    """
    per_image = []
    for side in sides:
        model = build_model(side)
        data = batches(side)
        began = clock()
        count = sum(int(images.shape[0]) for images, _ in data)  # fills the cache: decoding happens once
        decoding = clock() - began
        timer = _EpochTimer(clock)
        model.fit(data, epochs=epochs, verbose=0, callbacks=[timer], shuffle=False)
        per_image.append(float(np.median(timer.seconds[1:])) / count)
    if once is not None:
        once["decode_per_image"] = decoding / max(count, 1)
        once["stage_start"] = max(timer.seconds[0] - per_image[-1] * count, 0.0)
    step = per_image[-1] * count / max(int(data.cardinality()), 1)
    pixels = [side * side for side in sides]
    slope = max((per_image[1] - per_image[0]) / (pixels[1] - pixels[0]), 1e-12)
    overhead = max(per_image[0] - slope * pixels[0], 0.0)
    return slope, overhead, _epoch_seconds(model, data.take(1), step, clock)


def _epoch_seconds(model, batch, step_seconds: float, clock, epochs: int = 4) -> float:
    """Seconds per epoch that do not depend on the number of images: loop, validation start, backup."""
    with tempfile.TemporaryDirectory() as folder:
        backup = _TimedBackup(Path(folder) / "probe.weights.h5", clock)
        model.fit(batch, validation_data=batch, epochs=epochs, verbose=0, callbacks=[backup], shuffle=False)
    per_epoch = min(backup.seconds[1:])  # the first epoch also builds the validation step
    return max(per_epoch - step_seconds * (1 + FORWARD_COST), 0.0)


class _EpochTimer(keras.callbacks.Callback):
    """The `clock` seconds of every epoch."""

    def __init__(self, clock):
        super().__init__()
        self.clock, self.seconds, self.start = clock, [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.start = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(self.clock() - self.start)


class _TimedBackup(_EpochTimer):
    """Saves the weights at every epoch end, as a run's backup does, and times each epoch."""

    def __init__(self, path, clock):
        super().__init__(clock)
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        self.model.save_weights(self.path)
        super().on_epoch_end(epoch, logs)
