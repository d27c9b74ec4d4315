"""Processor threads of a training run without a GPU.

TensorFlow gives its operations a pool of as many threads as the process may use
cores, and the input pipeline (decoding, augmentation) runs beside it on a pool of
its own. While a step trains, the next batch is being prepared, so on a small
machine the two pools take turns on the same cores, and the threads of each
operation spin while they wait for one another. `zoo train` leaves one core to
the input pipeline: on 2 cores that took 11% less processor time over a MIML
training process at the same wall time (`benchmarks/README.md`).

Example:
    >>> operation_threads(2), operation_threads(16)
    (1, 15)
"""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may run on (its affinity, where the system tells it).

    Example:
        >>> available_cores() >= 1
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows
        return os.cpu_count() or 1


def operation_threads(cores: int) -> int:
    """Threads for TensorFlow's operations on `cores` cores: all but one, which the input pipeline keeps."""
    return max(1, cores - 1)


def leave_a_core_to_the_input() -> int | None:
    """Sets TensorFlow's operation threads to `operation_threads(available_cores())` for a CPU training.

    Changes nothing on one core, where a GPU trains, where `TF_NUM_INTRAOP_THREADS` or an
    earlier call chose the number, or where TensorFlow already runs (its pools
    are fixed then). Call it before the first TensorFlow operation.

    Returns:
        The number of threads set, or None when it changed nothing.
    """
    import tensorflow as tf

    if os.environ.get("TF_NUM_INTRAOP_THREADS") or tf.config.threading.get_intra_op_parallelism_threads():
        return None
    cores = available_cores()
    if cores < 2 or tf.config.list_physical_devices("GPU"):
        return None
    threads = operation_threads(cores)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow has started: its thread pools stay as they are
        return None
    return threads
