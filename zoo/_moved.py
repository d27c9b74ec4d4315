"""Import paths of modules that moved into the layer folders, kept working.

`import zoo.saving` or `from zoo.finetune import Stage` still work: the old name
is the new module itself (not a copy), with a `DeprecationWarning` naming the
new path. A module split in two (`MERGED`) answers for both halves; one whose
contents went to several places (`SPLIT`) fails to import with a message
naming them.

Example:
    >>> import warnings, zoo
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     import zoo.catalog as old
    >>> old is zoo.models.catalog, "zoo.models.catalog" in str(caught[0].message)
    (True, True)
"""

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

MOVED = {
    "zoo.registry": "zoo.models.registry", "zoo.catalog": "zoo.models.catalog",
    "zoo.backbones": "zoo.models.backbones", "zoo.heads": "zoo.models.heads",
    "zoo.layers": "zoo.models.layers", "zoo.builders": "zoo.models.builders",
    "zoo.metadata": "zoo.models.metadata",
    "zoo.finetune": "zoo.training.finetune", "zoo.feature_cache": "zoo.training.feature_cache",
    "zoo.losses": "zoo.training.losses", "zoo.metrics": "zoo.models.metrics",
    "zoo.callbacks": "zoo.training.callbacks", "zoo.scale": "zoo.training.scale",
    "zoo.plan": "zoo.training.plan", "zoo.backup": "zoo.training.backup",
    "zoo.distributed": "zoo.training.distributed", "zoo.training_run": "zoo.training.run",
    "zoo.thresholds": "zoo.evaluation.thresholds", "zoo.plots": "zoo.evaluation.plots",
    "zoo.gradcam": "zoo.evaluation.explain", "zoo.tta": "zoo.evaluation.tta",
    "zoo.predict": "zoo.evaluation.predict",
    "zoo.saving": "zoo.io.saving", "zoo.weights": "zoo.models.weights", "zoo.model_card": "zoo.io.model_card",
    "zoo.keras2_compat": "zoo.io._keras2", "zoo.deploy": "zoo.io.export",
    "zoo.validation": "zoo.cli.arguments", "zoo.quiet": "zoo.cli.quiet", "zoo.demo": "zoo.examples.demo",
}
# Modules split in two whose old name still answers for both halves (each name from the first that has it).
MERGED = {"zoo.progress": ("zoo.io.progress", "zoo.io.progress_callbacks")}
# Modules whose contents went to several places: importing them fails, naming those places.
SPLIT = {
    "zoo.commands": "zoo.cli.train, zoo.cli.evaluate and zoo.cli.predict (the commands), zoo.cli.sources "
                    "(label-source options), zoo.cli.reports (printed reports) and zoo.training.finetune "
                    "(parse_stage)",
}
# Submodules of moved packages: zoo.backbones.base -> zoo.models.backbones.base, and so on.
_PACKAGES = {"zoo.backbones": "zoo.models.backbones", "zoo.deploy": "zoo.io.export"}


def new_name(old: str) -> str | None:
    """The module's current path, or None when `old` did not move.

    Example:
        >>> new_name("zoo.saving"), new_name("zoo.backbones.base"), new_name("zoo.data")
        ('zoo.io.saving', 'zoo.models.backbones.base', None)
    """
    if old in MOVED:
        return MOVED[old]
    if old in MERGED:
        return " and ".join(MERGED[old])
    for package, new in _PACKAGES.items():
        if old.startswith(package + "."):
            return new + old[len(package):]
    return None


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an old module path with the module at its new path."""

    def find_spec(self, name, path=None, target=None):
        if name in SPLIT:
            raise ImportError(f"{name} was split into {SPLIT[name]}; import from there.", name=name)
        new = new_name(name)
        if new is None:
            return None
        return importlib.util.spec_from_loader(name, self, is_package=name in _PACKAGES)

    def create_module(self, spec):
        new = new_name(spec.name)
        warnings.warn(f"{spec.name} moved to {new}; import it from there.", DeprecationWarning, stacklevel=2)
        if spec.name in MERGED:
            return _merged_module(spec.name, MERGED[spec.name])
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # the new module has run already


def _merged_module(name: str, parts: tuple) -> types.ModuleType:
    """A module whose names are looked up in each of `parts` in turn."""
    module = types.ModuleType(name, f"Moved to {' and '.join(parts)}.")

    def lookup(attribute):
        for part in parts:
            found = importlib.import_module(part)
            if hasattr(found, attribute):
                return getattr(found, attribute)
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    module.__getattr__ = lookup
    return module


def install() -> None:
    """Puts the finder first on `sys.meta_path` (before the path finder would load a second copy), once."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
