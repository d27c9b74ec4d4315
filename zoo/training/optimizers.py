"""The optimizer and learning-rate schedule of a fine-tuning stage."""

from __future__ import annotations

import keras

_OPTIMIZERS = {
    "adam": lambda lr: keras.optimizers.Adam(lr),
    "adamw": lambda lr: keras.optimizers.AdamW(lr, weight_decay=0.05),
    "sgd": lambda lr: keras.optimizers.SGD(lr, momentum=0.9),
}


def learning_rate(stage, steps_per_epoch: int | None):
    """A stage's learning rate: a number, or a Keras schedule over its steps.

    Args:
        stage: A `zoo.Stage` (its `learning_rate`, `schedule`, `epochs`,
            `warmup_epochs`).
        steps_per_epoch: Batches per epoch; needed by a schedule.

    Example:
        >>> import zoo
        >>> rate = learning_rate(zoo.Stage(epochs=4, learning_rate=0.1, schedule="warmup_cosine"), 10)
        >>> [round(float(rate(step)), 3) for step in (0, 10, 40)]
        [0.0, 0.1, 0.0]
    """
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


def make_optimizer(stage, steps_per_epoch: int | None):
    """A fresh optimizer for a stage: its `optimizer` at its `learning_rate` (or schedule).

    Example:
        >>> import zoo
        >>> type(make_optimizer(zoo.Stage(epochs=1, optimizer="adamw"), 10)).__name__
        'AdamW'
    """
    rate = learning_rate(stage, steps_per_epoch)
    if callable(stage.optimizer):
        return stage.optimizer(rate)
    if stage.optimizer not in _OPTIMIZERS:
        raise ValueError(
            f"`optimizer` must be one of {list(_OPTIMIZERS)} or a callable. Received: optimizer={stage.optimizer!r}"
        )
    return _OPTIMIZERS[stage.optimizer](rate)
