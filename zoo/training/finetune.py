"""Staged fine-tuning: `Stage`, its command-line form, and `fit_staged`.

Example:
    >>> stage = parse_stage("epochs=3,trainable=heads,lr=1e-3", ["tags"])
    >>> stage.epochs, stage.trainable, stage.learning_rate
    (3, 'heads', 0.001)
"""

from __future__ import annotations

import logging

import pandas as pd
import tensorflow as tf

from zoo.models.builders import compile_model
from zoo.training.feature_cache import cache_verdict, cached_features, heads_model
from zoo.training.optimizers import make_optimizer
from zoo.training.stage import Stage
from zoo.training.trainable import (  # noqa: F401  (freeze, unfreeze_from, trainable_summary: public here too)
    describe_branches, freeze, pretrained_branches, set_trainable, trainable_summary, unfreeze_from)

logger = logging.getLogger(__name__)


def _steps(train, batch_size=32):
    if isinstance(train, tuple):  # arrays: Keras batches them by 32
        return -(-len(train[0]) // batch_size)
    try:
        return len(train)
    except TypeError:
        return None


class StagedHistory:
    """Merged history of all stages: `history[metric]` lists, `stage` per epoch, and per stage
    `feature_cache`: "used", or why the heads did not train on cached backbone features.

    Example:
        >>> history = StagedHistory()
        >>> history.extend("heads", {"loss": [0.9, 0.7]})
        >>> history.extend("all", {"loss": [0.5]})
        >>> history.to_dataframe()[["epoch", "stage"]].values.tolist()
        [[1, 'heads'], [2, 'heads'], [3, 'all']]
    """

    def __init__(self):
        self.history: dict[str, list] = {}
        self.stage: list[str] = []
        self.feature_cache: dict[str, str] = {}

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


def parse_stage(text: str, head_names: list[str]):
    """`epochs=5,trainable=type:block5_conv1,lr=1e-5,loss_weights=color:0.1/type:1` -> Stage.

    `trainable` is `auto`, `heads`, `all`, a boundary or a number of top layers (applied to the first head's
    branch) or `branch:boundary` pairs joined by `/`.
    """
    fields = {}
    for part in filter(None, text.split(",")):
        key, separator, value = part.partition("=")
        if not separator:
            raise ValueError(f"Stage fields are key=value. Received: --stage {text!r}")
        fields[key.strip()] = value.strip()
    unknown = set(fields) - {"epochs", "trainable", "lr", "optimizer", "schedule", "warmup", "loss_weights", "name"}
    if unknown:
        raise ValueError(f"Unknown stage field(s) {sorted(unknown)}. Received: --stage {text!r}")
    trainable = fields.get("trainable", "all")
    if trainable not in ("auto", "heads", "all"):
        pairs = [p.split(":", 1) if ":" in p else (head_names[0], p) for p in trainable.split("/")]
        trainable = {branch: int(boundary) if boundary.isdigit() else boundary for branch, boundary in pairs}
    loss_weights = None
    if "loss_weights" in fields:
        loss_weights = {k: float(v) for k, v in (p.split(":") for p in fields["loss_weights"].split("/"))}
    return Stage(
        epochs=int(fields.get("epochs", 10)),
        trainable=trainable,
        learning_rate=float(fields.get("lr", 1e-3)),
        optimizer=fields.get("optimizer", "adam"),
        schedule=fields.get("schedule"),
        warmup_epochs=int(fields.get("warmup", 1)),
        loss_weights=loss_weights,
        name=fields.get("name"),
    )


def fit_staged(model, train, validation=None, stages=(), callbacks=None, verbose="auto", cache_features="auto",
               initial_epoch: int = 0, restore=None, log=None, trainer=None, **compile_kwargs):
    """Trains in stages, recompiling between them; returns one merged history.

    A stage that trains only the heads on frozen backbones, without
    augmentation, runs the backbones once and trains the heads on their cached
    features: the same weights as the slow way (same order, same dropout draws),
    many times faster per epoch. It needs the `ImageDataset`s of
    `zoo.data.make_dataset` as they are; where a stage could use the cache but
    the data cannot be replayed (e.g. after a `.map()`), a warning says so.

    Args:
        model: A zoo model (its heads are read from its card).
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
            optimizer state when `within_stage`); see `zoo.training.backup`.
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
        name = stage.name or f"stage{number}"
        set_trainable(model, stage.trainable)
        log = log or (print if verbose in (1, 2) else None)
        for line in describe_branches(model) if log else ():
            log(f"stage {stage.name}: {line}" if stage.name else f"stage {number}: {line}")
        cached = trainer is None and (cache_features is True or (cache_features == "auto" and not callbacks))
        fitted, stage_train, stage_validation = model, train, validation
        reason, level = cache_verdict(model, train, validation) if cached else (
            "a trainer of its own" if trainer is not None else
            f"cache_features={cache_features!r}" + (" with callbacks" if callbacks else ""), logging.DEBUG)
        merged.feature_cache[name] = reason or "used"
        if reason is not None:
            logger.log(level, "Stage %d (%s) does not train the heads on cached backbone features: %s.",
                       number, name, reason)
        else:
            extractor, fitted = heads_model(model)
            stage_train = cached_features(extractor, train)
            stage_validation = cached_features(extractor, validation) if validation is not None else None
        with model.distribute_strategy.scope():  # the optimizer must live where the model was built
            compile_model(
                fitted,
                optimizer=make_optimizer(stage, _steps(train)),
                loss_weights=stage.loss_weights,
                **compile_kwargs,
            )
        if restore is not None and start <= initial_epoch:
            restore(model, initial_epoch > start)
        history = (trainer or _keras_fit)(
            fitted, *(stage_train if isinstance(stage_train, tuple) else (stage_train,)),
            validation_data=stage_validation,
            initial_epoch=max(start, initial_epoch),
            epochs=epoch,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=not isinstance(stage_train, tf.data.Dataset),
        )
        merged.extend(name, history.history)
        if fitted.stop_training:
            break  # a callback (NaN loss, early stopping) ended the run
    return merged


def _keras_fit(model, *args, **kwargs):
    return model.fit(*args, **kwargs)
