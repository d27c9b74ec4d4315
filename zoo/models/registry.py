"""Name -> object registries for backbones and prebuilt architectures.

Example:
    >>> from zoo.models.registry import Registry
    >>> colors = Registry("color")
    >>> @colors.register("red")
    ... def make_red():
    ...     return "red"
    >>> colors.get("red")()
    'red'
"""

from __future__ import annotations

import fnmatch
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection whose unknown-name error lists the valid names.

    Args:
        kind: What the registry holds, used in error messages ("backbone").
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Returns a decorator that registers its argument under `name`."""

        def decorator(item: T) -> T:
            if name in self._items:
                raise ValueError(f"A {self.kind} named {name!r} is already registered.")
            self._items[name] = item
            return item

        return decorator

    def unregister(self, name: str) -> None:
        """Removes `name` (a plugin's or a test's own entry); an unknown name raises like `get`."""
        self.get(name)
        del self._items[name]

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted registered names matching a shell-style `pattern`."""
        return sorted(n for n in self._items if fnmatch.fnmatch(n, pattern))

    def get(self, name: str) -> T:
        """Returns the item registered as `name`, or raises a ValueError listing names."""
        if name not in self._items:
            raise ValueError(
                f"Unknown {self.kind} {name!r}. Valid {self.kind}s: "
                f"{', '.join(self.names())}. Received: {self.kind}={name!r}"
            )
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items


BACKBONES: Registry = Registry("backbone")
MODELS: Registry = Registry("model")


def list_backbones(pattern: str = "*") -> list[str]:
    """Names of the registered backbones, e.g. `["efficientnet_b0", "mobilenet_v2", ...]`.

    Example:
        >>> import zoo
        >>> "vgg16" in zoo.list_backbones()
        True
    """
    return BACKBONES.names(pattern)


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered prebuilt architectures, optionally filtered.

    Example:
        >>> import zoo
        >>> zoo.list_models("multilabel_vgg*")
        ['multilabel_vgg16']
    """
    return MODELS.names(pattern)
