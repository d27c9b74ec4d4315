"""`ImageDataset`: the batches `make_dataset` returns, with what zoo knows about them.

Example:
    >>> import numpy as np, tensorflow as tf
    >>> from zoo.data.dataset import ImageDataset
    >>> batches = tf.data.Dataset.from_tensor_slices(np.zeros((5, 2, 2, 3), "float32")).batch(2)
    >>> data = ImageDataset(batches, files=["a.png", "b.png", "c.png", "d.png", "e.png"],
    ...                     skipped=["f.png: file not found"])
    >>> len(data), data.skipped, isinstance(data, tf.data.Dataset)
    (3, ('f.png: file not found',), True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Replay:
    """How to read a dataset's rows again, for the frozen-backbone feature cache.

    Args:
        unshuffled: Builds the same rows, decoded the same way, in file order,
            batched and without augmentation.
        shuffle: The dataset reshuffles every epoch (with `seed`, over all rows).
        seed: Its shuffling seed.
        batch_size: Rows per batch.
        drop_remainder: It drops the last incomplete batch.
        augmented: Its images are augmented (or mixed): no two epochs see the
            same pixels, so features computed once cannot stand in for them.

    Example:
        >>> import tensorflow as tf
        >>> replay = Replay(lambda: tf.data.Dataset.range(3).batch(2), shuffle=False, seed=0, batch_size=2,
        ...                 drop_remainder=False, augmented=False)
        >>> [batch.tolist() for batch in replay.unshuffled().as_numpy_iterator()]
        [[0, 1], [2]]
    """

    unshuffled: Callable[[], tf.data.Dataset]
    shuffle: bool
    seed: int
    batch_size: int
    drop_remainder: bool
    augmented: bool = False


class ImageDataset(tf.data.Dataset):
    """A `tf.data.Dataset` of image batches that also knows its files and skipped rows.

    It is a real `tf.data.Dataset`: the subclass runs the very pipeline it
    wraps (`dataset`), so `model.fit(train, validation_data=val)`,
    `model.predict`, `model.evaluate`, iteration and `len()` (the number of
    batches) behave and perform exactly as with `dataset` itself. Keras accepts
    it as it accepts any `tf.data.Dataset` (its class derives from TensorFlow's
    `DatasetV2`).

    `.map()`, `.batch()`, `.take()` and every other `tf.data` transformation
    return TensorFlow's own plain `tf.data.Dataset`, without `files`,
    `skipped` and `replay`: zoo cannot know what a user's function does to the
    batches. `zoo.fit_staged` then does not train on cached backbone features
    and logs a warning that says so and why (it records the same in
    `StagedHistory.feature_cache`). To keep the cache, change the images
    through `make_dataset`'s arguments or layers of the model rather than a
    `.map()`. `derive` wraps a transformed pipeline again with the same files
    and skipped rows, and no replay.

    Args:
        dataset: The `tf.data.Dataset` of batches.
        files: The image files it reads, in unshuffled order.
        skipped: One "row or file: reason" message per row left out.
        replay: How the feature cache can read the rows again (`Replay`), or
            None when it cannot.

    Attributes:
        dataset: The wrapped `tf.data.Dataset`.
        files: Tuple of file paths.
        skipped: Tuple of messages.
        replay: `Replay` or None.

    Example:
        >>> import numpy as np, tensorflow as tf
        >>> batches = tf.data.Dataset.from_tensor_slices(np.arange(4.0)).batch(3)
        >>> data = ImageDataset(batches, files=["a", "b", "c", "d"])
        >>> len(data), type(data.map(lambda x: x * 2)).__name__ == "ImageDataset"
        (2, False)
        >>> data.derive(data.map(lambda x: x * 2)).files
        ('a', 'b', 'c', 'd')
    """

    def __init__(self, dataset: tf.data.Dataset, files=(), skipped=(), replay: Replay | None = None):
        if not isinstance(dataset, tf.data.Dataset):
            raise TypeError(f"`dataset` must be a tf.data.Dataset. Received: type {type(dataset).__name__}")
        self.dataset = dataset
        self.files = tuple(str(f) for f in files)
        self.skipped = tuple(str(s) for s in skipped)
        self.replay = replay
        super().__init__(dataset._variant_tensor)  # the wrapped pipeline itself: no extra stage

    def _inputs(self):
        return [self.dataset]

    @property
    def element_spec(self):
        return self.dataset.element_spec

    def derive(self, dataset: tf.data.Dataset) -> ImageDataset:
        """`dataset` (built from this one, same rows) with these files and skipped rows, and no replay."""
        return ImageDataset(dataset, self.files, self.skipped)

    def __repr__(self) -> str:
        replay = "none" if self.replay is None else "augmented" if self.replay.augmented else "yes"
        return (f"<ImageDataset files={len(self.files)} skipped={len(self.skipped)} replay={replay} "
                f"element_spec={self.element_spec}>")
