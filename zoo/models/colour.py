"""Colour features: a soft colour histogram of the image, a weightless layer beside a pretrained trunk.

Pooled ImageNet features keep what an object is and lose much of its colour. A
head that depends on colour gets, beside the trunk's features, the image's colour
distribution: each pixel's RGB value is shared between the nearest of `bins`
levels per channel (triangular weights), so the histogram has `bins**3` soft
counts, taken over the whole image and over each cell of a `grid` x `grid`
split (where in the picture a colour lies), square-rooted (the Hellinger
mapping, under which a linear layer compares distributions well). It has no
weights to train, so heads that read it still train on cached features.

Example:
    >>> import numpy as np
    >>> red = np.zeros((1, 8, 8, 3), "float32"); red[..., 0] = 255
    >>> features = colour_histogram(red, bins=2, grid=1, size=8)
    >>> features.shape, int(np.argmax(features[0, :8])), float(features[0, 4].round(3))
    ((1, 16), 4, 1.0)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

BINS = 4
GRID = 2
SIZE = 32  # images are averaged down to SIZE x SIZE first: colour needs no detail


def histogram_dims(bins: int = BINS, grid: int = GRID) -> int:
    """Length of the feature vector.

    Example:
        >>> histogram_dims()
        320
    """
    return bins ** 3 * (1 + grid * grid)


@keras.saving.register_keras_serializable(package="zoo")
class ColourHistogram(keras.layers.Layer):
    """Soft RGB histogram of raw 0..255 images, whole and per grid cell, square-rooted (see the module).

    Args:
        bins: Levels per channel.
        grid: Cells per side of the spatial split (0: the whole image only).
        size: Side the image is resized to before counting.
    """

    def __init__(self, bins: int = BINS, grid: int = GRID, size: int = SIZE, **kwargs):
        super().__init__(**kwargs)
        self.bins, self.grid, self.size = int(bins), int(grid), int(size)

    def call(self, images):
        x = ops.image.resize(ops.cast(images, "float32"), (self.size, self.size), interpolation="bilinear")
        x = ops.clip(x / 255.0, 0.0, 1.0)
        levels = ops.convert_to_tensor(np.linspace(0.0, 1.0, self.bins, dtype="float32"))
        weights = ops.relu(1.0 - ops.abs(ops.expand_dims(x, -1) - levels) * (self.bins - 1))  # (B,H,W,3,bins)
        red, green, blue = weights[..., 0, :], weights[..., 1, :], weights[..., 2, :]
        joint = (red[..., :, None, None] * green[..., None, :, None] * blue[..., None, None, :])
        joint = ops.reshape(joint, (-1, self.size, self.size, self.bins ** 3))
        parts = [ops.mean(joint, axis=(1, 2))]
        if self.grid:
            cell = self.size // self.grid
            for row in range(self.grid):
                for column in range(self.grid):
                    part = joint[:, row * cell:(row + 1) * cell, column * cell:(column + 1) * cell, :]
                    parts.append(ops.mean(part, axis=(1, 2)))
        return ops.sqrt(ops.concatenate(parts, axis=-1) + 1e-12)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], histogram_dims(self.bins, self.grid))

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "grid": self.grid, "size": self.size}


def colour_histogram(images, bins: int = BINS, grid: int = GRID, size: int = SIZE) -> np.ndarray:
    """`ColourHistogram` of a batch of raw 0..255 images, as numpy (the plan's colour probe)."""
    return np.asarray(ColourHistogram(bins, grid, size)(np.asarray(images, "float32")))
