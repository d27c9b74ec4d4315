"""Augmentation from Keras preprocessing layers, on batches of 0..255 images.

Example:
    >>> from zoo.data.augment import build_augmenter
    >>> [layer.name for layer in build_augmenter({"flip": "horizontal", "zoom": 0.1}).layers]
    ['flip', 'zoom']
"""

from __future__ import annotations

import keras

DEFAULT_AUGMENTATION = {
    "flip": "horizontal",
    "rotation": 0.05,
    "zoom": 0.1,
    "translation": 0.1,
    "contrast": 0.1,
    "brightness": 0.1,
}

_FACTORIES = {
    "flip": lambda v, seed: keras.layers.RandomFlip(v, seed=seed, name="flip"),
    "rotation": lambda v, seed: keras.layers.RandomRotation(v, fill_mode="reflect", seed=seed, name="rotation"),
    "zoom": lambda v, seed: keras.layers.RandomZoom(v, fill_mode="reflect", seed=seed, name="zoom"),
    "translation": lambda v, seed: keras.layers.RandomTranslation(
        v, v, fill_mode="reflect", seed=seed, name="translation"
    ),
    "contrast": lambda v, seed: keras.layers.RandomContrast(v, value_range=(0, 255), seed=seed, name="contrast"),
    "brightness": lambda v, seed: keras.layers.RandomBrightness(
        v, value_range=(0, 255), seed=seed, name="brightness"
    ),
}


def build_augmenter(augment, seed: int | None = None):
    """Turns an `augment` argument into a callable on image batches, or None.

    Args:
        augment: None/False (no augmentation), True (`DEFAULT_AUGMENTATION`),
            a dict of factors by name (flip, rotation, zoom, translation,
            contrast, brightness) or any callable such as a keras layer.
        seed: Seed for the random layers.

    Returns:
        None or a callable mapping a float batch to an augmented float batch.
    """
    if augment is None or augment is False:
        return None
    if augment is True:
        augment = DEFAULT_AUGMENTATION
    if callable(augment):
        return augment
    if not isinstance(augment, dict):
        raise ValueError(
            "`augment` must be None, True, a dict of factors or a callable. "
            f"Received: augment={augment!r}"
        )
    unknown = set(augment) - set(_FACTORIES)
    if unknown:
        raise ValueError(
            f"Unknown augmentation(s) {sorted(unknown)}; valid: {', '.join(_FACTORIES)}. "
            f"Received: augment={augment!r}"
        )
    layers = [_FACTORIES[name](value, seed) for name, value in augment.items() if value]
    return keras.Sequential(layers, name="augmentation")
