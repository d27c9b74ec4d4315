"""Training heads on cached backbone features when the backbones are frozen.

A heads-only stage without augmentation computes the same backbone features every
epoch; running the backbones once and replaying their features in the pipeline's
own order gives the same weights, far faster. `zoo.fit_staged` does this by itself.

Example:
    >>> extractor, heads = heads_model(model)  # doctest: +SKIP
    >>> heads.fit(cached_features(extractor, train_data), epochs=10)  # doctest: +SKIP
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from zoo.models.card import card_of, set_card


def backbones_of(model: keras.Model) -> dict:
    """{backbone sub-model: registry name} for every backbone branch of a zoo model."""
    return {model.get_layer(layer_name): backbone for layer_name, backbone in card_of(model).branches.items()}


def all_backbones_frozen(model) -> bool:
    """True when no backbone weight of the model is trainable."""
    return all(not b.trainable_weights for b in backbones_of(model))


def can_cache_features(model, train, validation=None) -> bool:
    """Whether a stage may train the heads on cached backbone features.

    Needs every backbone frozen, a zoo model that names its feature layers, and
    `make_dataset` datasets without augmentation (their rows can be replayed in
    the same order).
    """
    datasets = [d for d in (train, validation) if d is not None]
    return (
        bool(card_of(model).feature_layers)
        and all_backbones_frozen(model)
        and all(getattr(d, "zoo_plan", None) and not d.zoo_plan["augmented"] for d in datasets)
    )


def cached_features(extractor, dataset):
    """The dataset's batches with images replaced by backbone features, same order."""
    plan = dataset.zoo_plan
    features, labels = [], []
    for images, *rest in plan["unshuffled"]():
        output = extractor(images, training=False)
        features.append([np.asarray(f) for f in (output if isinstance(output, (list, tuple)) else [output])])
        labels.append(rest)
    columns = [np.concatenate(parts) for parts in zip(*features)]
    rest = [tf.nest.map_structure(lambda *arrays: np.concatenate([np.asarray(a) for a in arrays]), *parts)
            for parts in zip(*labels)]
    cached = tf.data.Dataset.from_tensor_slices((tuple(columns), *rest))
    if plan["shuffle"]:  # same seed and size as make_dataset: the same order, epoch by epoch
        cached = cached.shuffle(len(columns[0]), seed=plan["seed"], reshuffle_each_iteration=True)
    return cached.batch(plan["batch_size"], drop_remainder=plan["drop_remainder"]).prefetch(tf.data.AUTOTUNE)


def heads_model(model):
    """(feature extractor, model from the feature layers' inputs to the outputs), sharing weights."""
    card = card_of(model)
    features = [model.get_layer(name).input for name in card.feature_layers]
    extractor = keras.Model(model.inputs, features, name=f"{model.name}_features")
    heads = keras.Model(features, dict(zip(model.output_names, model.outputs)), name=f"{model.name}_heads")
    set_card(heads, card)
    return extractor, heads
