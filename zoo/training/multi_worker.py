"""The training loop of a `MultiWorkerMirroredStrategy` cluster, and what its workers exchange.

In `fit` every worker trains on its part of each global batch; gradients, batch-normalization
statistics and the step's logs are all-reduced, so all workers hold the same weights and see the
same logs. The chief (worker 0) gives `fit` the callbacks that write files (they run inside `local`).
What only the chief knows reaches the others through `broadcast` and `sync_variables`.

Example:
    >>> from zoo.training import multi_worker
    >>> with strategy.scope():  # doctest: +SKIP
    ...     model = zoo.compile_model(zoo.build("multilabel_small", heads=heads, weights=None))
    >>> plan = multi_worker.broadcast(strategy, plan if is_chief() else None)  # doctest: +SKIP
    >>> history = multi_worker.fit(model, train_data, validation_data, epochs=5)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import weakref

import numpy as np

_LOCAL_FUNCTIONS = weakref.WeakKeyDictionary()  # model -> its predict function traced off the cluster
_EXCHANGES = weakref.WeakKeyDictionary()  # strategy -> its traced all-reduce


def _summed(strategy, tensors: list, chief_only: bool) -> list:
    """`tensors` summed over the workers (each worker's first replica counts), or, with `chief_only`,
    the chief's `tensors` on every worker. Integer and boolean tensors travel as float64."""
    import tensorflow as tf

    if not tensors:
        return []
    if strategy not in _EXCHANGES:
        @tf.function(reduce_retracing=True)
        def exchange(values, chief_only):
            def replica(values):
                context = tf.distribute.get_replica_context()
                local = strategy.num_replicas_in_sync // _worker_count(strategy)
                counted = context.replica_id_in_sync_group == 0 if chief_only else (
                    context.replica_id_in_sync_group % local == 0)
                summed = list(values)
                for dtype in {v.dtype for v in values}:  # one all-reduce per dtype
                    numbers = [n for n, v in enumerate(values) if v.dtype == dtype]
                    reduced = context.all_reduce(tf.distribute.ReduceOp.SUM, [
                        tf.where(counted, values[n], tf.zeros_like(values[n])) for n in numbers])
                    for n, value in zip(numbers, reduced):
                        summed[n] = value
                return summed
            return strategy.run(replica, args=(values,))

        _EXCHANGES[strategy] = exchange
    wire = [tf.float64 if t.dtype.is_integer or t.dtype == tf.bool else t.dtype for t in tensors]
    result = _EXCHANGES[strategy]([tf.cast(t, w) for t, w in zip(tensors, wire)], chief_only)
    return [tf.cast(strategy.experimental_local_results(r)[0], t.dtype) for r, t in zip(result, tensors)]


def _worker_count(strategy) -> int:
    return max(1, len(strategy.cluster_resolver.cluster_spec().as_dict().get("worker", [])))


def broadcast(strategy, value=None):
    """The chief's JSON-ready `value`, on every worker (the others pass anything, e.g. None).

    Example:
        >>> broadcast(strategy, {"epochs": 5} if is_chief() else None)  # doctest: +SKIP
        {'epochs': 5}
    """
    import tensorflow as tf

    data = np.frombuffer(json.dumps(value).encode(), np.uint8)
    (length,) = _summed(strategy, [tf.constant(len(data), tf.int64)], chief_only=True)
    sent = np.zeros(int(length), np.float32)  # the chief's bytes; the others' are not read
    sent[:min(len(data), len(sent))] = data[:len(sent)]
    (received,) = _summed(strategy, [tf.constant(sent)], chief_only=True)
    return json.loads(np.asarray(received).astype(np.uint8).tobytes().decode())


def flagged(strategy, flag: bool) -> list[int]:
    """The indices of the workers that passed `flag=True` (every worker calls this)."""
    import tensorflow as tf

    mine = tf.one_hot(strategy.cluster_resolver.task_id or 0, _worker_count(strategy)) * float(flag)
    (summed,) = _summed(strategy, [mine], chief_only=False)
    return [int(i) for i in np.flatnonzero(np.asarray(summed) > 0)]


def sync_variables(model) -> None:
    """Gives every worker the chief's model weights and optimizer state (after a restore on the chief)."""
    variables = list(model.variables)
    if model.optimizer is not None and model.optimizer.built:
        variables += list(model.optimizer.variables)
    values = _summed(model.distribute_strategy, [v.value for v in variables], chief_only=True)
    for variable, value in zip(variables, values):
        variable.assign(value)


def synchronize_batch_norm(model, synchronized: bool) -> bool:
    """Sets whether the model's batch normalization computes its statistics over the global batch; returns
    the previous setting. On, a cluster trains like one process with the global batch."""
    import keras

    layers = [layer for layer in model._flatten_layers(include_self=False)
              if isinstance(layer, keras.layers.BatchNormalization)]
    before = any(layer.synchronized for layer in layers)
    for layer in layers:
        layer.synchronized = synchronized
    return before


@contextlib.contextmanager
def local(model):
    """Inside the block a model built under a `MultiWorkerMirroredStrategy` predicts and saves on this
    worker alone, reading its (mirrored) weights without any exchange with the other workers.

    For the chief's callbacks and its report after training; a model built without such a strategy is
    left as it is. Predict functions traced here are kept for the next time.

    Example:
        >>> with local(model):  # doctest: +SKIP
        ...     zoo.save_model(model, "model.keras")
    """
    strategy = getattr(model, "_distribute_strategy", None)
    if strategy is None or not _is_multi_worker(strategy):
        yield model
        return
    distributed = model.predict_function
    model.predict_function = _LOCAL_FUNCTIONS.get(model)
    model._distribute_strategy = None
    synchronized = synchronize_batch_norm(model, False)
    try:
        yield model
    finally:
        _LOCAL_FUNCTIONS[model] = model.predict_function
        model.predict_function = distributed
        model._distribute_strategy = strategy
        synchronize_batch_norm(model, synchronized)


def _is_multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def restorer(load=None):
    """A `fit_staged` `restore` for a cluster: the chief loads with `load(model, within_stage)` (others pass None);
    every worker builds the optimizer the same way, and `fit` then gives everyone the chief's values."""

    def restore(model, within_stage: bool) -> None:
        if within_stage and not model.optimizer.built:
            with model.distribute_strategy.scope():
                model.optimizer.build(model.trainable_variables)
        if load is not None:
            with local(model):
                load(model, within_stage)

    return restore


def fit(model, train, validation_data=None, epochs: int = 1, initial_epoch: int = 0, callbacks=None, verbose=0,
        **unused):
    """Trains a compiled model under its `MultiWorkerMirroredStrategy`, like `model.fit` on one process.

    Each step runs the model's own `train_step` on every replica's part of the global batch: Keras
    averages the loss over the global batch, the strategy all-reduces the gradients and the batch
    statistics, so every worker applies the update of one process with that batch. The step's logs
    are averaged over the workers here (Keras 3.15's `model.fit` fails there on a cluster).
    `validation_data` is evaluated by all workers together (`val_` logs). A callback that sets
    `model.stop_training` on any worker stops all.

    Args:
        model: A compiled model built inside `strategy.scope()`.
        train: Batches of the global batch size (sharded here, see `sharding.shard`).
        validation_data: Optional validation batches.
        epochs: The epoch to end after (as `model.fit`'s `epochs`).
        initial_epoch: Epochs done before (a resumed run).
        callbacks: Keras callbacks; their epoch-end hooks run inside `local(model)`.
        verbose: A progress bar (1) or none (0).
        **unused: `model.fit` arguments without meaning here (`shuffle`).

    Returns:
        The `keras.callbacks.History` of these epochs.

    Example:
        >>> history = fit(model, train_data, validation_data, epochs=5)  # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    from zoo.training.sharding import shard

    strategy = model.distribute_strategy
    distributed = strategy.experimental_distribute_dataset(shard(train))
    checked = None if validation_data is None else strategy.experimental_distribute_dataset(shard(validation_data))
    with strategy.scope():
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model._symbolic_build(data_batch=train.element_spec)  # the metrics' variables; reads no batch
    sync_variables(model)
    synchronize_batch_norm(model, True)

    def averaged(step):
        def replica(batch):
            return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.MEAN, step(batch))

        @tf.function
        def run(batch):
            return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0],
                                         strategy.run(replica, args=(batch,)))
        return run

    train_step, test_step = averaged(model.train_step), averaged(model.test_step)
    try:
        steps = len(train)
    except TypeError:
        steps = None
    callback_list = keras.callbacks.CallbackList(callbacks, add_history=True, add_progbar=bool(verbose),
                                                 model=model, verbose=verbose, epochs=epochs, steps=steps)
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    try:
        for epoch in range(initial_epoch, epochs):
            model.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            for number, batch in enumerate(distributed):
                callback_list.on_train_batch_begin(number)
                logs = {k: float(v) for k, v in train_step(batch).items()}
                callback_list.on_train_batch_end(number, logs)
                if model.stop_training:  # the same logs on every worker: the same decision
                    break
            else:
                if steps is not None:  # as `model.fit`, whose finished epoch opens an iterator it never reads,
                    iter(train)  # skip one pass of the shuffle and augmentation seeds: one process's batches
            logs = dict(logs)
            if checked is not None and not model.stop_training:
                model.reset_metrics()
                validation_logs = {}
                for batch in checked:
                    validation_logs = test_step(batch)
                logs.update({f"val_{k}": float(v) for k, v in validation_logs.items()})
            with local(model):
                callback_list.on_epoch_end(epoch, logs)
            model.stop_training = bool(flagged(strategy, bool(model.stop_training)))
            if model.stop_training:
                break
        callback_list.on_train_end(logs)
    finally:
        synchronize_batch_norm(model, False)
    return next(c for c in callback_list.callbacks if isinstance(c, keras.callbacks.History))
