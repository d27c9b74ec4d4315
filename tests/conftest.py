"""Shared fixtures: quiet TensorFlow, fresh Keras state, tiny inputs, the real data folder."""

import os
from pathlib import Path

import numpy as np
import pytest

TINY_SHAPE = (32, 32, 3)


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    import keras  # here, not at the top: the process that hands tests to the workers needs no TensorFlow

    keras.utils.set_random_seed(0)
    yield
    # Without `gc.collect()`, which costs a second per test once TensorFlow holds many objects;
    # Python's own collector still frees what the test left.
    keras.backend.clear_session(free_memory=False)


@pytest.fixture
def images():
    """Four random 32x32 RGB images in 0..255."""
    return np.random.default_rng(0).uniform(0, 255, (4, *TINY_SHAPE)).astype("float32")


@pytest.fixture(scope="session")
def data_dir():
    """The shared real-image folder (ZOO_DATA_DIR, default ../shared/data); skips if absent."""
    path = Path(os.environ.get("ZOO_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"real image data not found at {path}; set ZOO_DATA_DIR")
    return path
