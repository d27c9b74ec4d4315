"""Training on several machines with `tf.distribute.MultiWorkerMirroredStrategy`.

Every machine runs the same program with its own `TF_CONFIG` (the cluster's
worker addresses and its own index). `multi_worker_strategy` first waits, at
most `timeout` seconds, until every worker's address accepts connections, so a
missing machine is named instead of hanging; `make_dataset` batches are sharded
per worker by `shard`; only the chief (worker 0) writes files (`is_chief`).

Example:
    >>> config = cluster_config(["10.0.0.1:12345", "10.0.0.2:12345"], index=0)
    >>> config["task"]
    {'type': 'worker', 'index': 0}
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time


def cluster_config(workers, index: int) -> dict:
    """The `TF_CONFIG` of worker `index` in a cluster of `workers` ("host:port" each).

    Example:
        >>> cluster_config(["a:1", "b:2"], 1)["cluster"]
        {'worker': ['a:1', 'b:2']}
    """
    workers = [str(w) for w in workers]
    if not workers or any(":" not in w for w in workers):
        raise ValueError(f"`workers` must be host:port addresses. Received: workers={workers!r}")
    if not 0 <= index < len(workers):
        raise ValueError(f"`index` must be between 0 and {len(workers) - 1}. Received: index={index!r}")
    return {"cluster": {"worker": workers}, "task": {"type": "worker", "index": int(index)}}


def read_config(tf_config=None) -> dict:
    """`tf_config` (a dict or JSON text), else the `TF_CONFIG` environment variable, parsed."""
    raw = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if isinstance(raw, dict):
        return raw
    try:
        config = json.loads(raw) if raw else {}
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not JSON ({error}). Received: TF_CONFIG={raw!r}") from None
    return config


def is_chief(tf_config=None) -> bool:
    """True for the worker that writes the model, logs and backups: the "chief"
    task if the cluster has one, else worker 0; True outside a cluster.

    Example:
        >>> is_chief(cluster_config(["a:1", "b:2"], 1))
        False
    """
    config = read_config(tf_config)
    task = config.get("task") or {}
    if not config.get("cluster"):
        return True
    if "chief" in config["cluster"]:
        return task.get("type") == "chief"
    return task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0


def unreachable(addresses, timeout: float, interval: float = 0.5) -> list[str]:
    """The addresses that did not accept a TCP connection within `timeout` seconds.

    Example:
        >>> unreachable([], 1.0)
        []
    """
    waiting = list(addresses)
    deadline = time.monotonic() + timeout
    while waiting:
        for address in list(waiting):
            host, _, port = address.rpartition(":")
            try:
                with socket.create_connection((host.strip("[]"), int(port)), timeout=min(interval, 2.0)):
                    waiting.remove(address)
            except OSError:
                pass
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(interval)
    return waiting


def multi_worker_strategy(tf_config=None, timeout: float = 120.0, communication: str = "auto"):
    """A `MultiWorkerMirroredStrategy` for this worker, after every worker answered.

    Before TensorFlow starts (whose wait for the other workers has no bound),
    this worker listens on its own port and probes the others' addresses until
    each accepts a connection, so that a worker that never comes up ends the
    wait after `timeout` seconds with its address named.

    Args:
        tf_config: A `TF_CONFIG` dict or JSON text (set in the environment for
            TensorFlow); None reads the environment's.
        timeout: Seconds to wait for the other workers.
        communication: "auto", "ring" (gRPC) or "nccl" collectives.

    Returns:
        The strategy; build and compile the model inside `strategy.scope()`.

    Raises:
        TimeoutError: When a worker did not answer in time; names it.

    Example:
        >>> strategy = multi_worker_strategy(cluster_config(["10.0.0.1:12345", "10.0.0.2:12345"], 0))  # doctest: +SKIP
    """
    import tensorflow as tf

    config = read_config(tf_config)
    workers = (config.get("cluster") or {}).get("worker") or []
    if not workers:
        raise ValueError(f"TF_CONFIG names no workers. Received: TF_CONFIG={json.dumps(config)}")
    me = int((config.get("task") or {}).get("index", 0))
    others = [w for i, w in enumerate(workers) if i != me]
    with _listening(int(workers[me].rpartition(":")[2])):  # the others' probes find this worker
        missing = unreachable(others, timeout)
    if missing:
        names = ", ".join(f"{address} (worker {workers.index(address)})" for address in missing)
        raise TimeoutError(f"Workers did not answer within {timeout:g} s: {names}. Start the same command with "
                           f"their TF_CONFIG there, or check the address and firewall. Received: "
                           f"TF_CONFIG={json.dumps(config)}")
    os.environ["TF_CONFIG"] = json.dumps(config)
    implementation = {"auto": tf.distribute.experimental.CommunicationImplementation.AUTO,
                      "ring": tf.distribute.experimental.CommunicationImplementation.RING,
                      "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL}[communication]
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(implementation=implementation))


@contextlib.contextmanager
def _listening(port: int):
    """Accepts connections on `port` (the kernel completes them) until TensorFlow takes the port over."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("", port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise OSError(f"This worker's port {port} is taken ({error}); TF_CONFIG must name a free port.") from None
    try:
        yield
    finally:
        listener.close()


def shard(dataset):
    """`dataset` with its elements sharded across the workers (each reads its part of every batch).

    Uses `tf.data`'s automatic sharding by data, which fits `make_dataset`
    (one file list, no per-worker files).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)



def fit(model, dataset, epochs: int = 1) -> None:
    """Trains a compiled model on `dataset` under its `MultiWorkerMirroredStrategy`.

    Each step runs the model's own `train_step` on every replica's part of the
    global batch (`strategy.run`): Keras averages the loss over the global batch
    and the strategy all-reduces the gradients, so every worker applies the same
    update. (Keras 3.15's `model.fit` fails under a multi-worker strategy when it
    averages the step's scalar logs across workers; this loop keeps no logs.)

    Args:
        model: A compiled model built inside `strategy.scope()`.
        dataset: Batches of the global batch size (`shard` is applied).
        epochs: Passes over `dataset`.

    Example:
        >>> with strategy.scope():  # doctest: +SKIP
        ...     model = zoo.compile_model(zoo.build("multilabel_small", heads=heads, weights=None))
        >>> fit(model, train_data, epochs=5)  # doctest: +SKIP
    """
    import tensorflow as tf

    strategy = model.distribute_strategy
    distributed = strategy.experimental_distribute_dataset(shard(dataset))
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
        for batch in distributed:  # the metrics' variables, built on one replica batch
            model._symbolic_build(data_batch=strategy.experimental_local_results(batch)[0])
            break

    @tf.function
    def step(batch):
        strategy.run(model.train_step, args=(batch,))

    for _ in range(epochs):
        for batch in distributed:
            step(batch)
