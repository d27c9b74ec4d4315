"""Submodules as attributes of their package, imported on first use.

Example:
    >>> import zoo.models
    >>> zoo.models.catalog.MODELS["multilabel_small"]["backbones"]
    ('compact_resnet',)
"""

import importlib
import importlib.util


def submodule_getattr(package: str):
    """A module `__getattr__` for `package` that imports `package.<name>` when asked for `name`.

    Args:
        package: The package's name (`__name__`).
    """

    def __getattr__(name):
        if not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
