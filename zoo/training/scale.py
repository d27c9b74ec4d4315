"""Scaling options: mixed precision and `tf.distribute` strategies.

XLA is `zoo.compile_model(model, jit_compile=True)` (or `fit_staged(...,
jit_compile=True)`). Build and compile the model inside the strategy's scope.

Example:
    >>> strategy = zoo.training.scale.strategy("mirrored")  # doctest: +SKIP
    >>> with strategy.scope():  # doctest: +SKIP
    ...     model = zoo.build("multilabel_resnet50", heads=heads, weights=None)
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import keras

if TYPE_CHECKING:
    import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


@contextlib.contextmanager
def mixed_precision(policy: str = "mixed_float16"):
    """Builds models inside the block with a mixed-precision policy.

    Layers compute in float16 (GPU) or bfloat16 (`policy="mixed_bfloat16"`,
    TPU and recent CPUs) and keep float32 weights; zoo heads output float32.
    The previous global policy is restored on exit.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def strategy(kind: str = "mirrored", devices=None) -> tf.distribute.Strategy:
    """A `tf.distribute` strategy.

    Args:
        kind: "mirrored" (all GPUs of this machine, or `devices`),
            "multi_worker" (several machines; reads `TF_CONFIG` and waits for the
            other workers, see `zoo.training.distributed.multi_worker_strategy`) or "default".
        devices: Device names for "mirrored" (e.g. ["/gpu:0", "/gpu:1"]).
    """
    import tensorflow as tf

    if kind == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    if kind == "multi_worker":
        from zoo.training.distributed import multi_worker_strategy

        return multi_worker_strategy()
    if kind == "default":
        return tf.distribute.get_strategy()
    raise ValueError(f"`kind` must be one of {STRATEGIES}. Received: kind={kind!r}")
