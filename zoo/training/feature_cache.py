"""Training heads on cached backbone features when the backbones are frozen.

A heads-only stage without augmentation computes the same backbone features every
epoch; running the backbones once and replaying their features in the pipeline's
own order gives the same weights, far faster. `zoo.fit_staged` does this by itself for
the `ImageDataset`s of `zoo.data.make_dataset`, and says why when it cannot.

Example:
    >>> extractor, heads = heads_model(model)  # doctest: +SKIP
    >>> heads.fit(cached_features(extractor, train_data), epochs=10)  # doctest: +SKIP
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf

from zoo.data.dataset import ImageDataset
from zoo.models.card import card_of, set_card


def backbones_of(model: keras.Model) -> dict:
    """{backbone sub-model: registry name} for every backbone branch of a zoo model."""
    return {model.get_layer(layer_name): backbone for layer_name, backbone in card_of(model).branches.items()}


def all_backbones_frozen(model) -> bool:
    """True when no backbone weight of the model is trainable."""
    return all(not b.trainable_weights for b in backbones_of(model))


def cache_verdict(model, train, validation=None) -> tuple[str | None, int]:
    """(why a stage may not train the heads on cached backbone features, how loudly to say it).

    The cache needs a zoo model that names its feature layers, every backbone
    frozen, and `make_dataset` datasets (`ImageDataset`s with a `replay`)
    without augmentation, whose rows can be replayed in the same order.

    Returns:
        (None, DEBUG) when it may; else the reason and its `logging` level:
        DEBUG when the model is the reason (a stage that trains a backbone),
        INFO for augmented images or arrays, WARNING for a dataset that lost
        what `make_dataset` knew (a `.map()` or other transformation).

    Example:
        >>> import logging, zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   freeze_backbone=True)
        >>> reason, level = cache_verdict(model, tf.data.Dataset.range(3))
        >>> reason.startswith("the training data is a plain tf.data.Dataset"), level == logging.WARNING
        (True, True)
    """
    if not card_of(model).feature_layers:
        return "the model names no feature layers", logging.DEBUG
    if not all_backbones_frozen(model):
        return "some backbone trains", logging.DEBUG
    for role, data in (("training", train), ("validation", validation)):
        if data is None:
            continue
        if isinstance(data, tuple):
            return f"the {role} data are arrays", logging.INFO
        if not isinstance(data, ImageDataset):
            kind = "a plain tf.data.Dataset" if isinstance(data, tf.data.Dataset) else f"a {type(data).__name__}"
            return (f"the {role} data is {kind}, not the ImageDataset of zoo.data.make_dataset (.map(), .batch() "
                    "and other tf.data transformations return a plain one), so the backbones run on every batch "
                    "of every epoch"), logging.WARNING
        if data.replay is None:
            return (f"the {role} ImageDataset has no replay plan (its batches went through a function of its "
                    "own), so the backbones run on every batch of every epoch"), logging.WARNING
        if data.replay.augmented:
            return f"the {role} images are augmented, so every epoch needs new features", logging.INFO
    return None, logging.DEBUG


def can_cache_features(model, train, validation=None) -> bool:
    """Whether a stage may train the heads on cached backbone features (see `cache_verdict`).

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
        >>> can_cache_features(model, tf.data.Dataset.range(3))
        False
    """
    return cache_verdict(model, train, validation)[0] is None


def cached_features(extractor, dataset):
    """The dataset's batches with images replaced by backbone features, same order.

    Args:
        extractor: Model from the images to the feature layers' inputs (`heads_model`).
        dataset: An `ImageDataset` with a `replay`.

    Example:
        >>> import zoo
        >>> from zoo.data.dataset import Replay
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None, freeze_backbone=True)
        >>> extractor, heads = heads_model(model)
        >>> rows = lambda: tf.data.Dataset.from_tensor_slices(
        ...     (np.zeros((5, 32, 32, 3), "float32"), {"tags": np.ones((5, 2), "float32")})).batch(2)
        >>> data = ImageDataset(rows(), replay=Replay(rows, shuffle=False, seed=0, batch_size=2,
        ...                                          drop_remainder=False))
        >>> features = cached_features(extractor, data)
        >>> len(features), heads.predict(features, verbose=0)["tags"].shape
        (3, (5, 2))
    """
    plan = dataset.replay
    features, labels = [], []
    for images, *rest in plan.unshuffled():
        output = extractor(images, training=False)
        features.append([np.asarray(f) for f in (output if isinstance(output, (list, tuple)) else [output])])
        labels.append(rest)
    columns = [np.concatenate(parts) for parts in zip(*features)]
    rest = [tf.nest.map_structure(lambda *arrays: np.concatenate([np.asarray(a) for a in arrays]), *parts)
            for parts in zip(*labels)]
    cached = tf.data.Dataset.from_tensor_slices((tuple(columns), *rest))
    if plan.shuffle:  # same seed and size as make_dataset: the same order, epoch by epoch
        cached = cached.shuffle(len(columns[0]), seed=plan.seed, reshuffle_each_iteration=True)
    return cached.batch(plan.batch_size, drop_remainder=plan.drop_remainder).prefetch(tf.data.AUTOTUNE)


def heads_model(model):
    """(feature extractor, model from the feature layers' inputs to the outputs), sharing weights.

    A feature layer that is a global pooling (no weights, the same every time), or
    a concatenation of poolings, is cached after it: a vector per image instead of
    the backbone's whole maps.
    """
    card = card_of(model)
    features = [_cache_point(model.get_layer(name)) for name in card.feature_layers]
    extractor = keras.Model(model.inputs, features, name=f"{model.name}_features")
    heads = keras.Model(features, dict(zip(model.output_names, model.outputs)), name=f"{model.name}_heads")
    set_card(heads, card)
    return extractor, heads


def _cache_point(layer):
    """After a global pooling, or a concatenation of them (a multi-level trunk's `pool`); else before the layer."""
    pooling = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
    pooled = isinstance(layer, pooling) or (isinstance(layer, keras.layers.Concatenate) and all(
        isinstance(tensor._keras_history.operation, pooling) for tensor in layer.input))
    return layer.output if pooled else layer.input
