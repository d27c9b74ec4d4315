"""zoo: multi-label and multi-output image classification models for Keras 3.

`import zoo` does not import Keras: the package's Keras-based modules load on the first use of
a function or class such as `zoo.build`, or at once when Keras is imported already;
`zoo.<module>` imports that module. So `zoo --help`, `zoo list` and argument errors answer
without importing TensorFlow. Every module that can load a model (`zoo.models.card` and all
that import it) registers the custom Keras objects a zoo model file needs, so
`keras.models.load_model` reads zoo models, labels included, once one of them is imported.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["sea", "sunset"]},
    ...                   input_shape=(32, 32, 3))
    >>> zoo.model_info(model)["heads"]["tags"]["kind"]
    'multilabel'
"""

import importlib as _importlib
import importlib.util as _importlib_util
import os as _os
import sys as _sys

__version__ = "0.1.0"

# Loaded with the package on first use, in this order; they register every custom Keras object.
_EAGER_MODULES = (
    "zoo.models.backbones", "zoo.training.callbacks", "zoo.evaluation.plots", "zoo.training.scale",
    "zoo.models.weights", "zoo.models.builders", "zoo.evaluation.report", "zoo.models.heads", "zoo.models.layers",
    "zoo.training.losses", "zoo.models.metadata", "zoo.models.metrics", "zoo.models.architectures",
    "zoo.models.registry", "zoo.io.saving", "zoo.evaluation.thresholds",
)

# Modules that are public names of the package itself (`zoo.plots.plot_history`, ...).
_MODULES = {
    "backbones": "zoo.models.backbones",
    "callbacks": "zoo.training.callbacks",
    "plots": "zoo.evaluation.plots",
    "scale": "zoo.training.scale",
    "weights": "zoo.models.weights",
}

_ATTRIBUTES = {
    "build_branches": "zoo.models.builders",
    "build_shared_trunk": "zoo.models.builders",
    "compile_model": "zoo.models.builders",
    "evaluate": "zoo.evaluation.report",
    "explain": "zoo.evaluation.explain",
    "summary_table": "zoo.evaluation.report",
    "Predictions": "zoo.evaluation.predictions",
    "HEAD_KINDS": "zoo.models.heads",
    "Head": "zoo.models.heads",
    "ImagePreprocessing": "zoo.models.layers",
    "model_info": "zoo.models.metadata",
    "ModelCard": "zoo.models.card",
    "Architecture": "zoo.models.architectures",
    "build": "zoo.models.architectures",
    "register_model": "zoo.models.architectures",
    "list_backbones": "zoo.models.registry",
    "list_models": "zoo.models.registry",
    "load_model": "zoo.io.saving",
    "save_model": "zoo.io.saving",
    "tune_thresholds": "zoo.evaluation.thresholds",
    # Built on tf.data: load on first use only, so that building, compiling, saving and
    # evaluating models also work on Keras' JAX backend without TensorFlow.
    "Predictor": "zoo.evaluation.predict",
    "export": "zoo.io.export",
    **dict.fromkeys(
        ["freeze", "set_trainable", "trainable_summary", "unfreeze_from"], "zoo.training.trainable"
    ),
    "Stage": "zoo.training.finetune",
    "fit_staged": "zoo.training.finetune",
}

_loading = False


def _load_package() -> None:
    """Imports the Keras-based modules behind the package's functions and classes."""
    global _loading
    if _loading:
        return
    _loading = True
    if "tensorflow" not in _sys.modules:
        # TensorFlow's C++ INFO/WARNING lines drown the command's output; a user setting wins.
        _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        for name in _EAGER_MODULES:
            _importlib.import_module(name)
    except BaseException:
        _loading = False
        raise


if "keras" in _sys.modules:
    _load_package()  # Keras is loaded already: registering zoo's objects costs little more


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    if name in _ATTRIBUTES:
        _load_package()
        value = getattr(_importlib.import_module(_ATTRIBUTES[name]), name)
    elif name in _MODULES:
        value = _importlib.import_module(_MODULES[name])
    elif _importlib_util.find_spec(f"zoo.{name}") is not None:
        value = _importlib.import_module(f"zoo.{name}")
    else:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Architecture",
    "HEAD_KINDS",
    "Head",
    "Stage",
    "ImagePreprocessing",
    "Predictions",
    "ModelCard",
    "Predictor",
    "backbones",
    "build",
    "build_branches",
    "build_shared_trunk",
    "callbacks",
    "compile_model",
    "data",
    "evaluate",
    "explain",
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
