"""zoo: multi-label and multi-output image classification models for Keras 3.

`import zoo` does not import Keras: the package's Keras-based modules load (registering its
custom layers, losses and metrics for `keras.models.load_model`) on the first use of a function
or class such as `zoo.build`, or as soon as Keras itself is imported; `zoo.<module>` imports
that module. So `zoo --help`, `zoo list` and argument errors answer without importing TensorFlow.

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
_EAGER_MODULES = ("backbones", "callbacks", "plots", "scale", "weights", "builders", "evaluation", "heads",
                  "layers", "losses", "metadata", "metrics", "models", "registry", "saving", "thresholds")

_ATTRIBUTES = {
    "build_branches": "zoo.builders",
    "build_shared_trunk": "zoo.builders",
    "compile_model": "zoo.builders",
    "evaluate": "zoo.evaluation",
    "explain": "zoo.gradcam",
    "summary_table": "zoo.evaluation",
    "HEAD_KINDS": "zoo.heads",
    "Head": "zoo.heads",
    "ImagePreprocessing": "zoo.layers",
    "model_info": "zoo.metadata",
    "Architecture": "zoo.models",
    "build": "zoo.models",
    "register_model": "zoo.models",
    "list_backbones": "zoo.registry",
    "list_models": "zoo.registry",
    "load_model": "zoo.saving",
    "save_model": "zoo.saving",
    "tune_thresholds": "zoo.thresholds",
    # Built on tf.data: load on first use only, so that building, compiling, saving and
    # evaluating models also work on Keras' JAX backend without TensorFlow.
    "Predictor": "zoo.predict",
    "export": "zoo.deploy",
    **dict.fromkeys(
        ["Stage", "fit_staged", "freeze", "set_trainable", "trainable_summary", "unfreeze_from"], "zoo.finetune"
    ),
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
            _importlib.import_module(f"zoo.{name}")
    except BaseException:
        _loading = False
        raise


class _LoadAfterKeras:
    """A one-shot import hook: once `keras` has been imported, loads the package too, so that
    `import zoo; import keras; keras.models.load_model(...)` finds zoo's custom objects."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        _sys.meta_path.remove(self)
        spec = _importlib_util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _AfterExecution(spec.loader)
        return spec


class _AfterExecution:
    """Runs a module's own loader, puts that loader back, then loads the zoo package."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self.loader
        self.loader.exec_module(module)
        try:
            _load_package()
        except Exception:  # noqa: BLE001  (Keras works without zoo; zoo.<name> raises the error later)
            pass


if "keras" in _sys.modules:
    _load_package()  # Keras is loaded already: registering zoo's objects costs little more
else:
    _sys.meta_path.insert(0, _LoadAfterKeras())


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    if name in _ATTRIBUTES:
        _load_package()
        value = getattr(_importlib.import_module(_ATTRIBUTES[name]), name)
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
