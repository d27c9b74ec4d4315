"""MixUp and CutMix on batches of images with per-head targets.

Each image of a batch is mixed with a partner from the same batch (a random
permutation) with its own lambda drawn from Beta(alpha, alpha); every head's
targets (multilabel, multiclass and binary alike) and any sample weights are
mixed with that same lambda: `lambda * y1 + (1 - lambda) * y2`. MixUp blends the
whole images; CutMix pastes a box of the partner, and lambda becomes the kept
area fraction. Randomness is stateless, drawn from the batch's seed.

`make_dataset(..., augment={"flip": "horizontal", "mixup": 0.2})` applies it to
every batch after the geometric and photometric augmentation.

Example:
    >>> import tensorflow as tf
    >>> from zoo.data.mixing import Mixing
    >>> images, targets = Mixing("mixup", 0.2)(tf.ones((4, 8, 8, 3)), {"tags": tf.ones((4, 2))},
    ...                                        tf.constant(3, tf.int64))
    >>> images.shape, targets["tags"].shape
    (TensorShape([4, 8, 8, 3]), TensorShape([4, 2]))
"""

from __future__ import annotations

import tensorflow as tf

MIX_MODES = ("mixup", "cutmix")
DEFAULT_ALPHA = {"mixup": 0.2, "cutmix": 1.0}


class Mixing:
    """MixUp or CutMix of a batch and its targets.

    Args:
        mode: "mixup" or "cutmix".
        alpha: Beta(alpha, alpha) concentration of lambda (> 0); small values
            keep most samples close to one of the two images.
    """

    def __init__(self, mode: str, alpha: float | None = None):
        if mode not in MIX_MODES:
            raise ValueError(f"`mode` must be one of {MIX_MODES}. Received: mode={mode!r}")
        alpha = DEFAULT_ALPHA[mode] if alpha is None or alpha is True else alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ValueError(f"`{mode}` takes a Beta concentration alpha > 0. Received: {mode}={alpha!r}")
        self.mode, self.alpha = mode, float(alpha)

    def __repr__(self):
        return f"Mixing({self.mode!r}, alpha={self.alpha})"

    def draw(self, batch_size, seed):
        """(partner indices, lambdas) for a batch: a stateless permutation and Beta(alpha, alpha) draws."""
        seeds = [tf.stack([seed, tf.constant(k, tf.int64)]) for k in (11, 12, 13)]
        order = tf.argsort(tf.random.stateless_uniform([batch_size], seeds[0]))
        first = tf.random.stateless_gamma([batch_size], seeds[1], alpha=self.alpha)
        second = tf.random.stateless_gamma([batch_size], seeds[2], alpha=self.alpha)
        return order, first / tf.maximum(first + second, 1e-12)

    def __call__(self, images, targets, seed):
        """Mixes a batch.

        Args:
            images: (batch, height, width, channels) float images.
            targets: Any structure of (batch, ...) tensors: `{head: targets}`, or
                `({head: targets}, {head: sample weights})`; every part is mixed.
            seed: Scalar int64 tensor, one per batch.

        Returns:
            (mixed images, mixed targets, in the structure of `targets`).
        """
        images = tf.convert_to_tensor(images)
        batch_size = tf.shape(images)[0]
        order, lam = self.draw(batch_size, tf.cast(seed, tf.int64))
        partners = tf.gather(images, order)
        if self.mode == "mixup":
            weight = tf.reshape(tf.cast(lam, images.dtype), [-1, 1, 1, 1])
            mixed = weight * images + (1.0 - weight) * partners
        else:
            keep, lam = self._cut_masks(tf.shape(images), lam, seed)
            mixed = tf.where(keep, images, partners)

        def mix(value):
            value = tf.convert_to_tensor(value)
            weight = tf.reshape(tf.cast(lam, value.dtype), [-1] + [1] * (len(value.shape) - 1))
            return weight * value + (1.0 - weight) * tf.gather(value, order)

        return mixed, tf.nest.map_structure(mix, targets)

    @staticmethod
    def _cut_masks(shape, lam, seed):
        """(batch, h, w, 1) masks of the pixels each image keeps, and the kept area fractions."""
        height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
        centers = tf.random.stateless_uniform([shape[0], 2], tf.stack([tf.cast(seed, tf.int64), 14]))
        side = tf.sqrt(1.0 - lam)  # the box covers 1 - lambda of the image before clipping
        center_y, center_x = centers[:, 0] * height, centers[:, 1] * width
        top = tf.clip_by_value(tf.round(center_y - side * height / 2), 0.0, height)
        bottom = tf.clip_by_value(tf.round(center_y + side * height / 2), 0.0, height)
        left = tf.clip_by_value(tf.round(center_x - side * width / 2), 0.0, width)
        right = tf.clip_by_value(tf.round(center_x + side * width / 2), 0.0, width)
        rows = tf.range(height)[None, :, None]
        columns = tf.range(width)[None, None, :]
        inside = ((rows >= top[:, None, None]) & (rows < bottom[:, None, None])
                  & (columns >= left[:, None, None]) & (columns < right[:, None, None]))
        kept = 1.0 - (bottom - top) * (right - left) / (height * width)
        return tf.logical_not(inside)[..., None], kept


def split_mixing(augment):
    """(the augmentation without mixing, a `Mixing` or None) from an `augment` argument.

    `augment` may name "mixup" or "cutmix" (not both) beside the other factors,
    with alpha as the value (True: `DEFAULT_ALPHA`).

    Example:
        >>> split_mixing({"flip": "horizontal", "cutmix": 1.0})
        ({'flip': 'horizontal'}, Mixing('cutmix', alpha=1.0))
        >>> split_mixing({"mixup": 0.2})
        (None, Mixing('mixup', alpha=0.2))
    """
    if not isinstance(augment, dict) or not set(augment) & set(MIX_MODES):
        return augment, None
    modes = [m for m in MIX_MODES if m in augment]
    if len(modes) > 1:
        raise ValueError(f"`augment` takes one of {MIX_MODES}, not both. Received: augment={augment!r}")
    rest = {k: v for k, v in augment.items() if k != modes[0]}
    return rest or None, Mixing(modes[0], augment[modes[0]])


def with_mixing(augment, mode: str | None, alpha: float | None = None):
    """`augment` with `mode` ("mixup", "cutmix" or None) added, for `make_dataset`.

    Example:
        >>> with_mixing(None, "mixup")
        {'mixup': 0.2}
        >>> sorted(with_mixing(True, "cutmix"))[:2]
        ['brightness', 'contrast']
    """
    if mode is None:
        return augment
    if mode not in MIX_MODES:
        raise ValueError(f"`mode` must be None or one of {MIX_MODES}. Received: mode={mode!r}")
    from zoo.data.augment import DEFAULT_AUGMENTATION

    if not isinstance(augment, (dict, bool, type(None))):
        raise ValueError(f"Mixing adds to None, True or a dict of factors. Received: augment={augment!r}")
    base = dict(DEFAULT_AUGMENTATION) if augment is True else dict(augment or {})
    return {**base, mode: DEFAULT_ALPHA[mode] if alpha is None else alpha}
