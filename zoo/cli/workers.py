"""`zoo train` as one worker of a cluster: its flags, their checks, and what the workers agree on.

Every machine runs the same command, naming all workers and its own index
(`--workers HOST:PORT ... --worker-index I`, or a `TF_CONFIG` with a `worker`
cluster). Worker 0, the chief, decides the plan and the epoch to continue from
and sends them to the others; only the chief reads or writes `--output`.

Example:
    >>> import argparse
    >>> args = argparse.Namespace(workers=["10.0.0.1:2222", "10.0.0.2:2222"], worker_index=1)
    >>> cluster_of(args)["task"]
    {'type': 'worker', 'index': 1}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os

from zoo.training.config import DEFAULT_WORKER_TIMEOUT as DEFAULT_TIMEOUT


def add_arguments(parser) -> None:
    """Adds the cluster flags to `zoo train`'s parser."""
    group = parser.add_argument_group(
        "several machines (one worker each; see README: Training on several machines)")
    group.add_argument("--workers", nargs="+", metavar="HOST:PORT",
                       help="every worker's address, the same list on every machine; worker 0 (the chief) writes "
                            "--output (default: TF_CONFIG's worker cluster, if set)")
    group.add_argument("--worker-index", type=int, metavar="I", help="this machine's place in --workers")
    group.add_argument("--worker-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help="how long to wait for the other workers to start (default: %(default)s)")


def _check_address(address: str, flag: str, received: str) -> None:
    host, colon, port = address.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{flag}: {address!r} is not HOST:PORT (a port between 1 and 65535). Received: {received}")


def cluster_of(args) -> dict | None:
    """This worker's `TF_CONFIG` dict from the flags, else from the environment; None on one machine.

    Raises:
        ValueError: A flag or `TF_CONFIG` that cannot work; the message names it and what it received.
    """
    from zoo.training.distributed import cluster_config, read_config

    workers, index = getattr(args, "workers", None), getattr(args, "worker_index", None)
    if workers is None and index is not None:
        raise ValueError(f"--worker-index needs --workers, every worker's HOST:PORT. Received: --worker-index {index}")
    if workers is not None:
        received = f"--workers {' '.join(workers)}"
        for address in workers:
            _check_address(address, "--workers", received)
        if index is None:
            raise ValueError(f"--workers needs --worker-index, this machine's place in the list. Received: {received}")
        if not 0 <= index < len(workers):
            raise ValueError(f"--worker-index must be between 0 and {len(workers) - 1} (one per --workers "
                             f"address). Received: --worker-index {index}")
        return cluster_config(workers, index) if len(workers) > 1 else None
    if not os.environ.get("TF_CONFIG"):
        return None
    config = read_config()
    received = f"TF_CONFIG={json.dumps(config)}"
    cluster, task = config.get("cluster") or {}, config.get("task") or {}
    if set(cluster) - {"worker"} or task.get("type", "worker") != "worker":
        raise ValueError(f"TF_CONFIG: zoo train runs on a cluster of `worker` tasks only (worker 0 is the chief). "
                         f"Received: {received}")
    workers = [str(w) for w in cluster.get("worker") or []]
    for address in workers:
        _check_address(address, "TF_CONFIG", received)
    index = task.get("index", 0)
    if not isinstance(index, int) or not 0 <= index < max(len(workers), 1):
        raise ValueError(f"TF_CONFIG: the task index must be between 0 and {len(workers) - 1}. Received: {received}")
    return cluster_config(workers, index) if len(workers) > 1 else None


def connect(config: dict, timeout: float):
    """The strategy of this worker, once every worker answered (`TimeoutError` naming those that did not)."""
    from zoo.training.distributed import multi_worker_strategy

    me, workers = config["task"]["index"], config["cluster"]["worker"]
    print(f"Worker {me} of {len(workers)} ({workers[me]}): waiting up to {timeout:g} s for the others", flush=True)
    return multi_worker_strategy(config, timeout=timeout)


def together(strategy, error: BaseException | None) -> None:
    """Raises `error` here, or names the other workers that stopped; every worker calls it at the same point.

    On one machine (`strategy` None) it raises `error` if there is one.
    """
    if strategy is None:
        if error is not None:
            raise error
        return
    from zoo.training.multi_worker import flagged

    stopped = flagged(strategy, error is not None)
    if error is not None:
        raise error
    if stopped:
        names = ", ".join(f"worker {i}" for i in stopped)
        raise RuntimeError(f"{names} stopped with an error (see its output); this worker stops too. "
                           f"Fix it and run the same commands again.")


@contextlib.contextmanager
def reporting_lost_workers(strategy):
    """Turns TensorFlow's long error about a failed exchange with another worker into one line saying
    what to do; on one machine (`strategy` None) errors pass unchanged."""
    if strategy is None:
        yield
        return
    import tensorflow as tf

    lost = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.AbortedError,
            tf.errors.DeadlineExceededError)
    try:
        yield
    except tf.errors.OpError as error:
        if not isinstance(error, lost) and "Collective" not in str(error):
            raise
        raise RuntimeError(f"lost the connection to another worker ({type(error).__name__}: a worker stopped, or "
                           f"the network failed); see the other workers' output, then run the same commands on "
                           f"every machine to continue from the chief's last backup") from None


def fingerprint(heads, train_rows, validation_rows) -> str:
    """A digest of the heads and the split, which every worker must share (paths relative to their
    common folder: each machine may keep the images elsewhere)."""
    files = [str(f) for f in (*train_rows["filename"], *validation_rows["filename"])]
    root = os.path.commonpath(files) if files and all(os.path.isabs(f) for f in files) else ""
    files = [os.path.relpath(f, root) if root else f for f in files]
    text = json.dumps([[(h.name, h.kind, list(h.classes)) for h in heads], files[:len(train_rows)],
                       files[len(train_rows):]])
    return hashlib.sha256(text.encode()).hexdigest()
