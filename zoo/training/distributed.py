"""Training on several machines with `tf.distribute.MultiWorkerMirroredStrategy`.

Every machine runs the same program with its own `TF_CONFIG` (the cluster's
worker addresses and its own index). `multi_worker_strategy` first waits, at
most `timeout` seconds, until every worker's address accepts connections, so a
missing machine is named instead of hanging; `make_dataset` batches are sharded
per worker by `shard` (`zoo.training.sharding`); only the chief (worker 0) writes files (`is_chief`).

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

from zoo.training.sharding import shard  # noqa: F401 (public here too)


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


def fit(model, dataset, epochs: int = 1, **options):
    """Trains a compiled model on `dataset` under its `MultiWorkerMirroredStrategy`.

    Every worker applies the same update, that of one process with the global
    batch; see `zoo.training.multi_worker.fit` (validation, callbacks, resuming).

    Args:
        model: A compiled model built inside `strategy.scope()`.
        dataset: Batches of the global batch size (`shard` is applied).
        epochs: Passes over `dataset`.
        **options: Passed to `multi_worker.fit` (`validation_data`, `callbacks`, `initial_epoch`).

    Returns:
        The `keras.callbacks.History` of the epochs.

    Example:
        >>> with strategy.scope():  # doctest: +SKIP
        ...     model = zoo.compile_model(zoo.build("multilabel_small", heads=heads, weights=None))
        >>> fit(model, train_data, epochs=5)  # doctest: +SKIP
    """
    from zoo.training.multi_worker import fit as fit_on_cluster

    return fit_on_cluster(model, dataset, epochs=epochs, **options)


def jax_data_parallel(devices=None):
    """A `keras.distribution.DataParallel` over `devices`, for Keras' JAX backend.

    Pass it to `keras.distribution.set_distribution` before building the
    model: the weights are replicated on every device, each batch is split
    across them, and XLA sums the gradients (and computes batch statistics) over
    the whole batch, so training matches one device with the same batch. On one
    machine with several GPUs, or with several CPU devices
    (`XLA_FLAGS=--xla_force_host_platform_device_count=N`). Feed numpy arrays or
    batches whose size divides by the number of devices. TensorFlow is not imported.

    Args:
        devices: Device names such as `["gpu:0", "gpu:1"]`; default every device
            of the backend (`keras.distribution.list_devices()`).

    Returns:
        The distribution.

    Raises:
        ValueError: No devices.

    Example:
        >>> distribution = jax_data_parallel(["cpu:0", "cpu:1"])
        >>> distribution.device_mesh.shape, distribution.batch_dim_name
        ((2,), 'batch')
        >>> keras.distribution.set_distribution(jax_data_parallel())  # doctest: +SKIP
        >>> model = zoo.build("multilabel_small", heads=heads, input_shape=(64, 64, 3))  # doctest: +SKIP
        >>> model.fit(images, targets, batch_size=32)  # doctest: +SKIP
    """
    import keras

    devices = list(keras.distribution.list_devices() if devices is None else devices)
    if not devices:
        raise ValueError(f"`devices` must name at least one device. Received: devices={devices!r}")
    return keras.distribution.DataParallel(devices=devices)
