"""zoo: multi-label and multi-output image classification models for Keras 3.

`import zoo` imports Keras and registers every custom Keras object a zoo model file needs, so
`import zoo, keras; keras.models.load_model(path)` reads a zoo model with its labels; so does
every module that can load a model (`zoo.models.card` and all that import it). The `zoo`
command's own process is the exception: it imports Keras only for the subcommands that run
it, so `zoo --help`, `zoo list` and argument errors answer without importing TensorFlow.

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
    "zoo.training.losses", "zoo.models.metrics", "zoo.models.architectures",
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
    "model_info": "zoo.models.card",
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
    "Stage": "zoo.training.stage",
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


def _in_command_process() -> bool:
    """True in the `zoo` command's own process (its script, `python -m zoo` or `-m zoo.cli`).

    The command imports Keras only for the subcommands that run it, so that `zoo --help`,
    `zoo list` and argument errors answer at once.
    """
    argv = list(getattr(_sys, "orig_argv", _sys.argv))
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] in ("zoo", "zoo.cli"):
        return True
    return _os.path.splitext(_os.path.basename(_sys.argv[0] if _sys.argv else ""))[0] == "zoo"


if "keras" in _sys.modules or not _in_command_process():
    # Like keras_hub: zoo's Keras objects are registered as the package is imported, so that
    # `import zoo, keras; keras.models.load_model(path)` reads a zoo model with its labels.
    try:
        _load_package()
    except Exception:  # noqa: BLE001  (Keras missing or broken: `zoo.<name>` raises the error on use)
        pass


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
