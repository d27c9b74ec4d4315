"""Imports TensorFlow and Keras without their start-up lines on the terminal.

TensorFlow's C++ side writes `WARNING: All log messages before absl::InitializeLog()...`,
oneDNN, `cudart_stub` and `cuInit` lines straight to file descriptor 2, whatever
`TF_CPP_MIN_LOG_LEVEL` says. `import_tensorflow` points that descriptor at /dev/null while
TensorFlow loads and looks for devices, then gives it back; Python exceptions raised
meanwhile still reach the terminal, after it is restored.

Example:
    >>> from zoo.cli.quiet import import_tensorflow
    >>> import_tensorflow(verbose=False)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def silenced_stderr():
    """Sends everything written to file descriptor 2 (C, C++ and Python) to /dev/null.

    Example:
        >>> with silenced_stderr():
        ...     print("hidden", file=sys.stderr)
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow(verbose: bool = False) -> None:
    """Imports TensorFlow and Keras and initializes the devices, quietly unless `verbose`.

    Sets `TF_CPP_MIN_LOG_LEVEL=3` where the user has not chosen a level (it filters TensorFlow's
    C++ log lines and changes no computation).

    Args:
        verbose: Leave TensorFlow's start-up lines as they are.
    """
    if "tensorflow" in sys.modules:
        return
    if verbose:
        import keras  # noqa: F401
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with silenced_stderr():
        import tensorflow as tf

        import keras  # noqa: F401

        tf.config.list_physical_devices()  # looks for GPUs now, so that cuInit reports here
