"""Freezing, unfreezing from a boundary, and staged fine-tuning.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    >>> zoo.unfreeze_from(model, "stage4")  # backbone boundary alias
    >>> model.get_layer("compact_resnet").get_layer("stage3_block1_conv1").trainable
    False
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import keras
import pandas as pd
import tensorflow as tf

from zoo.backbones import get_backbone_spec
from zoo.builders import compile_model
from zoo.feature_cache import backbones_of, cached_features, can_cache_features, heads_model
from zoo.metadata import model_info

logger = logging.getLogger(__name__)


def _select_branches(model, branch):
    branches = backbones_of(model)
    if not branches:
        raise ValueError(f"Model {model.name!r} has no backbone recorded in its metadata.")
    if branch is None:
        return branches
    chosen = {m: b for m, b in branches.items() if m.name == branch or m.name.startswith(f"{branch}_")}
    if not chosen and len(branches) == 1 and branch in model_info(model)["heads"]:
        chosen = branches  # a shared trunk serves every head
    if not chosen:
        names = [m.name for m in branches]
        raise ValueError(f"No backbone branch {branch!r}; branches: {names}. Received: branch={branch!r}")
    return chosen


def freeze(model: keras.Model, branch: str | None = None) -> None:
    """Makes backbones non-trainable (all of them, or one branch by head or layer name).

    A non-trainable BatchNorm layer runs in inference mode, so frozen backbones
    keep their moving statistics.
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
    starts = model_info(model).get("pretrained") or {}
    return {backbone: starts.get(backbone.name, {}).get("source", "random") != "random"
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
    """Trainable and frozen parameter counts per top-level layer (branches and heads)."""
    rows = []
    for layer in model.layers:
        trainable = sum(int(keras.ops.size(w)) for w in layer.trainable_weights)
        frozen = sum(int(keras.ops.size(w)) for w in layer.non_trainable_weights)
        if trainable or frozen:
            rows.append({"layer": layer.name, "trainable": trainable, "frozen": frozen})
    return pd.DataFrame(rows)


@dataclasses.dataclass
class Stage:
    """One stage of `fit_staged`.

    Args:
        epochs: Epochs in this stage.
        trainable: See `set_trainable` ("auto", "heads", "all", or per-branch dict).
        learning_rate: Peak learning rate.
        optimizer: "adam", "adamw" (decoupled weight decay 0.05), "sgd" (momentum
            0.9) or a callable `lr -> optimizer`.
        schedule: None (constant), "cosine" (decay to 0), or "warmup_cosine"
            (linear warm-up over `warmup_epochs`, then cosine decay).
        warmup_epochs: Warm-up length for "warmup_cosine".
        loss_weights: {head: weight} for this stage.
        name: Label of the stage in the history.
    """

    epochs: int
    trainable: Any = "all"
    learning_rate: float = 1e-3
    optimizer: Any = "adam"
    schedule: str | None = None
    warmup_epochs: int = 1
    loss_weights: dict | None = None
    name: str | None = None


_OPTIMIZERS = {
    "adam": lambda lr: keras.optimizers.Adam(lr),
    "adamw": lambda lr: keras.optimizers.AdamW(lr, weight_decay=0.05),
    "sgd": lambda lr: keras.optimizers.SGD(lr, momentum=0.9),
}


def _learning_rate(stage: Stage, steps_per_epoch: int | None):
    if stage.schedule is None:
        return stage.learning_rate
    if stage.schedule not in ("cosine", "warmup_cosine"):
        raise ValueError(
            f"`schedule` must be None, 'cosine' or 'warmup_cosine'. Received: schedule={stage.schedule!r}"
        )
    if not steps_per_epoch:
        raise ValueError("A learning-rate schedule needs a dataset of known length.")
    total = stage.epochs * steps_per_epoch
    if stage.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(stage.learning_rate, total)
    warmup = min(stage.warmup_epochs * steps_per_epoch, total - 1)
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(total - warmup, 1), warmup_target=stage.learning_rate, warmup_steps=warmup
    )


def _make_optimizer(stage: Stage, steps_per_epoch):
    rate = _learning_rate(stage, steps_per_epoch)
    if callable(stage.optimizer):
        return stage.optimizer(rate)
    if stage.optimizer not in _OPTIMIZERS:
        raise ValueError(
            f"`optimizer` must be one of {list(_OPTIMIZERS)} or a callable. Received: optimizer={stage.optimizer!r}"
        )
    return _OPTIMIZERS[stage.optimizer](rate)


def _steps(train, batch_size=32):
    if isinstance(train, tuple):  # arrays: Keras batches them by 32
        return -(-len(train[0]) // batch_size)
    try:
        return len(train)
    except TypeError:
        return None


class StagedHistory:
    """Merged history of all stages: `history[metric]` lists, plus `stage` per epoch."""

    def __init__(self):
        self.history: dict[str, list] = {}
        self.stage: list[str] = []

    def extend(self, stage_name: str, history: dict) -> None:
        epochs = len(next(iter(history.values()), []))
        known = set(self.history) | set(history)
        for key in known:
            values = history.get(key, [float("nan")] * epochs)
            self.history.setdefault(key, [float("nan")] * len(self.stage)).extend(values)
        self.stage.extend([stage_name] * epochs)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per epoch, with `epoch` and `stage` columns."""
        frame = pd.DataFrame(self.history)
        frame.insert(0, "stage", self.stage)
        frame.insert(0, "epoch", range(1, len(self.stage) + 1))
        return frame


def describe_branches(model: keras.Model) -> list[str]:
    """One line per backbone branch: its heads, backbone, starting weights and whether it trains now.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
        >>> describe_branches(model)
        ['tags: compact_resnet, random init, trained from scratch']
    """
    info = model_info(model)
    starts = info.get("pretrained") or {}
    heads = list(info["heads"])
    lines = []
    for backbone, name in backbones_of(model).items():
        owners = [h for h in heads if backbone.name.startswith(f"{h}_")] or heads
        start = starts.get(backbone.name, {"source": "random"})
        trainable = sum(int(keras.ops.size(w)) for w in backbone.trainable_weights)
        total = trainable + sum(int(keras.ops.size(w)) for w in backbone.non_trainable_weights)
        if start["source"] == "random":
            origin = "random init"
            state = "trained from scratch" if trainable else "FROZEN (random weights: only the layers after it learn)"
        else:
            label = "ImageNet weights" if start["source"] == "imagenet" else "weights"
            origin = f"{label} from {start['file']}"
            state = ("frozen" if not trainable else
                     "trained" if trainable >= 0.95 * total else f"top {100 * trainable / total:.0f}% trained")
        lines.append(f"{', '.join(owners)}: {name}, {origin}, {state}")
    return lines


def fit_staged(model, train, validation=None, stages=(), callbacks=None, verbose="auto", cache_features="auto",
               initial_epoch: int = 0, restore=None, log=None, **compile_kwargs):
    """Trains in stages, recompiling between them; returns one merged history.

    A stage that trains only the heads on frozen backbones, without
    augmentation, runs the backbones once and trains the heads on their cached
    features: the same weights as the slow way (same order, same dropout draws),
    many times faster per epoch.

    Args:
        model: A zoo model (its heads are read from its metadata).
        train: Training dataset, or an `(x, y[, sample_weight])` tuple of arrays.
        validation: Optional validation dataset.
        stages: `Stage` objects (or dicts of their fields).
        callbacks: Keras callbacks shared by all stages.
        verbose: Passed to `fit`.
        log: Where each stage's lines on its backbone branches go (what each
            starts from and whether it trains); default `print` when `verbose`
            is 1 or 2, else nowhere.
        cache_features: "auto" (cache where `can_cache_features` allows and no
            callbacks are given, since they would see the heads-only model),
            True (cache where allowed) or False.
        initial_epoch: Epochs already done (a resumed run): earlier stages are
            skipped and the stage holding this epoch continues from it.
        restore: Called as `restore(model, within_stage)` after the first
            stage that runs is compiled, to load backed-up weights (with the
            optimizer state when `within_stage`); see `zoo.backup`.
        **compile_kwargs: Passed to `zoo.compile_model` (`jit_compile`, ...).

    Returns:
        A `StagedHistory` of the epochs run by this call.

    Example:
        >>> history = zoo.fit_staged(model, train, validation, stages=[  # doctest: +SKIP
        ...     zoo.Stage(epochs=10, trainable={"type": "none"}),
        ...     zoo.Stage(epochs=10, trainable={"type": "block5_conv1"}, learning_rate=1e-5,
        ...               loss_weights={"color": 0.1, "type": 1.0}),
        ... ])
    """
    stages = [s if isinstance(s, Stage) else Stage(**s) for s in stages]
    if not stages:
        raise ValueError("`stages` is empty: give at least one zoo.Stage.")
    merged = StagedHistory()
    epoch = 0
    for number, stage in enumerate(stages, start=1):
        start, epoch = epoch, epoch + stage.epochs
        if epoch <= initial_epoch:
            continue
        set_trainable(model, stage.trainable)
        log = log or (print if verbose in (1, 2) else None)
        for line in describe_branches(model) if log else ():
            log(f"stage {number} ({stage.name or f'stage{number}'}): {line}")
        cached = cache_features is True or (cache_features == "auto" and not callbacks)
        fitted, stage_train, stage_validation = model, train, validation
        if cached and can_cache_features(model, train, validation):
            extractor, fitted = heads_model(model)
            stage_train = cached_features(extractor, train)
            stage_validation = cached_features(extractor, validation) if validation is not None else None
        with model.distribute_strategy.scope():  # the optimizer must live where the model was built
            compile_model(
                fitted,
                optimizer=_make_optimizer(stage, _steps(train)),
                loss_weights=stage.loss_weights,
                **compile_kwargs,
            )
        if restore is not None and start <= initial_epoch:
            restore(model, initial_epoch > start)
        history = fitted.fit(
            *(stage_train if isinstance(stage_train, tuple) else (stage_train,)),
            validation_data=stage_validation,
            initial_epoch=max(start, initial_epoch),
            epochs=epoch,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=not isinstance(stage_train, tf.data.Dataset),
        )
        merged.extend(stage.name or f"stage{number}", history.history)
        if fitted.stop_training:
            break  # a callback (NaN loss, early stopping) ended the run
    return merged
