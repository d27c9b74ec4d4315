"""zoo: multi-label and multi-output image classification models for Keras 3.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["sea", "sunset"]},
    ...                   input_shape=(32, 32, 3))
    >>> zoo.model_info(model)["heads"]["tags"]["kind"]
    'multilabel'
"""

import os as _os
import sys as _sys

if "tensorflow" not in _sys.modules:
    # TensorFlow's C++ INFO/WARNING lines drown the command's output; a user setting wins.
    _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib as _importlib

from zoo import backbones, callbacks, plots, scale, weights
from zoo.builders import build_branches, build_shared_trunk, compile_model
from zoo.evaluation import evaluate, summary_table
from zoo.heads import HEAD_KINDS, Head
from zoo.layers import ImagePreprocessing
from zoo.metadata import model_info
from zoo.models import Architecture, build, register_model
from zoo.registry import list_backbones, list_models
from zoo.saving import load_model, save_model
from zoo.thresholds import tune_thresholds

# The parts built on tf.data load on first use, so that building, compiling, saving and
# evaluating models also work on Keras' JAX backend without TensorFlow.
_TENSORFLOW_PARTS = {
    "data": "zoo.data",
    "Predictor": "zoo.predict",
    "export": "zoo.deploy",
    **dict.fromkeys(
        ["Stage", "fit_staged", "freeze", "set_trainable", "trainable_summary", "unfreeze_from"], "zoo.finetune"
    ),
}


def __getattr__(name):
    if name not in _TENSORFLOW_PARTS:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    module = _importlib.import_module(_TENSORFLOW_PARTS[name])
    value = module if module.__name__ == f"zoo.{name}" else getattr(module, name)
    globals()[name] = value
    return value

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "HEAD_KINDS",
    "Head",
    "Stage",
    "ImagePreprocessing",
    "Predictor",
    "backbones",
    "build",
    "build_branches",
    "build_shared_trunk",
    "callbacks",
    "compile_model",
    "data",
    "evaluate",
    "export",
    "fit_staged",
    "freeze",
    "list_backbones",
    "list_models",
    "load_model",
    "model_info",
    "plots",
    "register_model",
    "save_model",
    "scale",
    "set_trainable",
    "summary_table",
    "trainable_summary",
    "tune_thresholds",
    "unfreeze_from",
    "weights",
]
