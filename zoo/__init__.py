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

from zoo import backbones, callbacks, data, plots, scale, weights
from zoo.builders import build_branches, build_shared_trunk, compile_model
from zoo.evaluation import evaluate, summary_table
from zoo.finetune import Stage, fit_staged, freeze, set_trainable, trainable_summary, unfreeze_from
from zoo.heads import HEAD_KINDS, Head
from zoo.layers import ImagePreprocessing
from zoo.metadata import model_info
from zoo.models import Architecture, build, register_model
from zoo.predict import Predictor
from zoo.registry import list_backbones, list_models
from zoo.saving import load_model, save_model
from zoo.thresholds import tune_thresholds

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
