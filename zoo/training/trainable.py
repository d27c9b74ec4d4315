"""Which parts of a model train: freezing, unfreezing from a boundary, the freezing rule.

A backbone is frozen by default only when pretrained weights were loaded into it
(`trainable="auto"`); `describe_branches` says, per branch, what it started from
and whether it trains now.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    >>> zoo.unfreeze_from(model, "stage4")  # backbone boundary alias
    >>> model.get_layer("compact_resnet").get_layer("stage3_block1_conv1").trainable
    False
"""

from __future__ import annotations

import logging

import keras
import pandas as pd

from zoo.models.backbones import get_backbone_spec
from zoo.models.card import Pretrained, card_of
from zoo.training.feature_cache import backbones_of

logger = logging.getLogger(__name__)


def _select_branches(model, branch):
    branches = backbones_of(model)
    if not branches:
        raise ValueError(f"Model {model.name!r} has no backbone recorded in its card.")
    if branch is None:
        return branches
    chosen = {m: b for m, b in branches.items() if m.name == branch or m.name.startswith(f"{branch}_")}
    if not chosen and len(branches) == 1 and branch in card_of(model).head_names:
        chosen = branches  # a shared trunk serves every head
    if not chosen:
        names = [m.name for m in branches]
        raise ValueError(f"No backbone branch {branch!r}; branches: {names}. Received: branch={branch!r}")
    return chosen


def freeze(model: keras.Model, branch: str | None = None) -> None:
    """Makes backbones non-trainable (all of them, or one branch by head or layer name).

    A non-trainable BatchNorm layer runs in inference mode, so frozen backbones
    keep their moving statistics.

    Example:
        >>> import zoo
        >>> model = zoo.build("color_type", heads={"color": ["red", "blue"], "type": ["shirt", "dress"]},
        ...                   input_shape=(32, 32, 3), weights=None)
        >>> freeze(model, "color")
        >>> int(trainable_summary(model).set_index("layer").loc["color_small_cnn", "trainable"])
        0
    """
    for backbone in _select_branches(model, branch):
        backbone.trainable = False


def _boundary_index(backbone: keras.Model, registry_name: str, boundary) -> int | None:
    layers = backbone.layers
    if isinstance(boundary, int):
        if boundary <= 0:
            raise ValueError(f"Unfreeze at least one layer. Received: boundary={boundary}")
        return max(len(layers) - boundary, 0)
    aliases = get_backbone_spec(registry_name).boundaries
    layer_name = aliases.get(boundary, boundary)
    for index, layer in enumerate(layers):
        if layer.name == layer_name:
            return index
    return None


def unfreeze_from(
    model: keras.Model, boundary, branch: str | None = None, train_batchnorm: bool = False
) -> None:
    """Makes a backbone trainable from a boundary to its top; layers below stay frozen.

    Args:
        model: A zoo model.
        boundary: A layer name ("block5_conv1"), a backbone boundary alias
            ("block5", see `BackboneSpec.boundaries`), or an int N (the last N
            layers of the backbone).
        branch: Head or backbone layer name, where several backbones have the
            boundary.
        train_batchnorm: Let unfrozen BatchNorm layers update their statistics
            (default: they stay in inference mode, the usual advice for
            fine-tuning).

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
        >>> freeze(model)
        >>> unfreeze_from(model, "stage4")
        >>> backbone = model.get_layer("compact_resnet")
        >>> backbone.get_layer("stem_conv").trainable, backbone.get_layer("stage4_block1_conv1").trainable
        (False, True)
    """
    candidates = _select_branches(model, branch)
    matches = [(m, i) for m, name in candidates.items() if (i := _boundary_index(m, name, boundary)) is not None]
    if not matches:
        known = {m.name: list(get_backbone_spec(n).boundaries) for m, n in candidates.items()}
        raise ValueError(
            f"No backbone has a layer or boundary {boundary!r}. Boundaries by branch: {known}. "
            f"Received: boundary={boundary!r}"
        )
    if len(matches) > 1 and branch is None:
        raise ValueError(
            f"Boundary {boundary!r} is in several branches {[m.name for m, _ in matches]}; pass `branch`."
        )
    backbone, start = matches[0]
    backbone.trainable = True
    for index, layer in enumerate(backbone.layers):
        layer.trainable = index >= start
        if isinstance(layer, keras.layers.BatchNormalization) and not train_batchnorm:
            layer.trainable = False


def pretrained_branches(model: keras.Model) -> dict:
    """{backbone sub-model: True when it started from pretrained weights}."""
    starts = card_of(model).pretrained
    return {backbone: backbone.name in starts and starts[backbone.name].source != "random"
            for backbone in backbones_of(model)}


def _warn_frozen_random(model: keras.Model) -> None:
    random = [b.name for b, pretrained in pretrained_branches(model).items()
              if not pretrained and not b.trainable_weights]
    if random:
        logger.warning("Backbone(s) %s start from random weights and are frozen: only the layers after them "
                       "learn. Use trainable='auto' to train them.", random)


def set_trainable(model: keras.Model, trainable) -> None:
    """Applies a stage's `trainable` setting.

    Args:
        trainable: "auto" (pretrained backbones frozen, randomly initialized ones
            trained), "all" (every layer), "heads" (every backbone frozen), or a
            dict {branch (head name): "all" | "none" | boundary} for per-branch
            control; branches not named keep their state. Freezing a randomly
            initialized backbone logs a warning.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
        >>> set_trainable(model, "auto")  # a random backbone trains
        >>> model.get_layer("compact_resnet").trainable
        True
    """
    if trainable == "auto":
        for backbone, pretrained in pretrained_branches(model).items():
            backbone.trainable = not pretrained
        return
    _apply_trainable(model, trainable)
    _warn_frozen_random(model)


def _apply_trainable(model: keras.Model, trainable) -> None:
    if trainable == "all":
        for backbone in backbones_of(model):
            backbone.trainable = True
            for layer in backbone._flatten_layers(include_self=False):
                layer.trainable = True
        return
    if trainable == "heads":
        freeze(model)
        return
    if not isinstance(trainable, dict):
        raise ValueError(
            "`trainable` must be 'auto', 'all', 'heads' or {branch: 'all' | 'none' | boundary}. "
            f"Received: trainable={trainable!r}"
        )
    for branch, value in trainable.items():
        if value == "none":
            freeze(model, branch)
        elif value == "all":
            for backbone in _select_branches(model, branch):
                backbone.trainable = True
        else:
            unfreeze_from(model, value, branch=branch)


def trainable_summary(model: keras.Model) -> pd.DataFrame:
    """Trainable and frozen parameter counts per top-level layer (branches and heads).

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
        >>> summary = trainable_summary(model)
        >>> list(summary.columns), int(summary[["trainable", "frozen"]].to_numpy().sum()) == model.count_params()
        (['layer', 'trainable', 'frozen'], True)
    """
    rows = []
    for layer in model.layers:
        trainable = sum(int(keras.ops.size(w)) for w in layer.trainable_weights)
        frozen = sum(int(keras.ops.size(w)) for w in layer.non_trainable_weights)
        if trainable or frozen:
            rows.append({"layer": layer.name, "trainable": trainable, "frozen": frozen})
    return pd.DataFrame(rows)


def describe_branches(model: keras.Model) -> list[str]:
    """One line per backbone branch: its heads, backbone, starting weights and whether it trains now.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
        >>> describe_branches(model)
        ['tags: compact_resnet, random init, trained from scratch']
    """
    card = card_of(model)
    heads = list(card.head_names)
    lines = []
    for backbone, name in backbones_of(model).items():
        owners = [h for h in heads if backbone.name.startswith(f"{h}_")] or heads
        start = card.pretrained.get(backbone.name, Pretrained("random"))
        trainable = sum(int(keras.ops.size(w)) for w in backbone.trainable_weights)
        total = trainable + sum(int(keras.ops.size(w)) for w in backbone.non_trainable_weights)
        if start.source == "random":
            origin = "random init"
            state = "trained from scratch" if trainable else "FROZEN (random weights: only the layers after it learn)"
        else:
            label = "ImageNet weights" if start.source == "imagenet" else "weights"
            origin = f"{label} from {start.file}"
            state = ("frozen" if not trainable else
                     "trained" if trainable >= 0.95 * total else f"top {100 * trainable / total:.0f}% trained")
        lines.append(f"{', '.join(owners)}: {name}, {origin}, {state}")
    return lines
