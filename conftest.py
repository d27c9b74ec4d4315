"""Settings for every test and doctest: quiet TensorFlow, no weight downloads."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ZOO_OFFLINE", "1")
