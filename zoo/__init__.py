"""zoo: multi-label and multi-output image classification models for Keras 3.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["sea", "sunset"]},
    ...                   input_shape=(32, 32, 3))
    >>> zoo.model_info(model)["heads"]["tags"]["kind"]
    'multilabel'
"""

from zoo import backbones, data, weights
from zoo.builders import build_branches, build_shared_trunk, compile_model
from zoo.heads import HEAD_KINDS, Head
from zoo.layers import ImagePreprocessing
from zoo.metadata import model_info
from zoo.models import Architecture, build, register_model
from zoo.registry import list_backbones, list_models
from zoo.saving import load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "HEAD_KINDS",
    "Head",
    "ImagePreprocessing",
    "backbones",
    "build",
    "build_branches",
    "build_shared_trunk",
    "compile_model",
    "data",
    "list_backbones",
    "list_models",
    "load_model",
    "model_info",
    "register_model",
    "save_model",
    "weights",
]
