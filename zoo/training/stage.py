"""`Stage`: one stage of a staged training, without importing TensorFlow.

`zoo.training.finetune.fit_staged` trains a list of them; a `zoo.training.plan.Plan`
holds its stages as `Stage` objects and writes them to `plan.json` as dicts.

Example:
    >>> stage = Stage(epochs=4, trainable="heads", name="heads")
    >>> stage_dict(stage)["name"], Stage(**stage_dict(stage)) == stage
    ('heads', True)
"""

from __future__ import annotations

import dataclasses
from typing import Any


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

    Example:
        >>> import zoo
        >>> heads_first = zoo.Stage(epochs=5, trainable="heads", learning_rate=1e-3)
        >>> top_block = zoo.Stage(epochs=10, trainable={"tags": "block5_conv1"}, learning_rate=1e-5,
        ...                       schedule="cosine", loss_weights={"tags": 2.0})
        >>> [stage.epochs for stage in (heads_first, top_block)], top_block.schedule
        ([5, 10], 'cosine')
    """

    epochs: int
    trainable: Any = "all"
    learning_rate: float = 1e-3
    optimizer: Any = "adam"
    schedule: str | None = None
    warmup_epochs: int = 1
    loss_weights: dict | None = None
    name: str | None = None


def stage_dict(stage: Stage) -> dict:
    """The JSON-ready fields of `stage` as `plan.json` holds them: `name` first, `loss_weights` only when set.

    Example:
        >>> stage_dict(Stage(epochs=2, name="train"))
        {'name': 'train', 'epochs': 2, 'trainable': 'all', 'learning_rate': 0.001, 'optimizer': 'adam', \
'schedule': None, 'warmup_epochs': 1}
    """
    fields = dataclasses.asdict(stage)
    ordered = {"name": fields.pop("name"), **fields}
    if ordered["loss_weights"] is None:
        del ordered["loss_weights"]
    return ordered
