"""Submodules as attributes of their package, imported on first use.

Example:
    >>> import zoo.models
    >>> zoo.models.catalog.MODELS["multilabel_small"]["backbones"]
    ('compact_resnet',)
"""

import importlib
import importlib.util


def submodule_getattr(package: str, former_module: str | None = None, former_names=()):
    """A module `__getattr__` for `package` that imports `package.<name>` when asked for `name`.

    Args:
        package: The package's name (`__name__`).
        former_module: Where `former_names` live now: the names a module that
            this package replaced had, still importable from the package.
        former_names: Those names.
    """

    def __getattr__(name):
        if name in former_names:
            return getattr(importlib.import_module(former_module), name)
        if not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
