"""The typed parts of a model card, and the checks that name a wrong field.

Example:
    >>> from zoo.models.card_fields import Best
    >>> Best.from_dict({"val_score": 0.9, "epoch": 5})
    Best(monitor='val_score', value=0.9, epoch=5)
    >>> Best("val_score", "high", 5)
    Traceback (most recent call last):
    ...
    ValueError: Model card field `best.value` must be a number. Received: best.value='high'
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from typing import Mapping

WEIGHT_SOURCES = ("random", "imagenet", "file")


def fail(field: str, expected: str, value) -> None:
    """Raises the ValueError for a field holding a wrong value, naming the field and the value."""
    raise ValueError(f"Model card field `{field}` must be {expected}. Received: {field}={value!r}")


def checked_fields(cls, data, where: str = "") -> dict:
    """`data` as a dict, checked against the fields of dataclass `cls`: none unknown, none required missing.

    `where` is the path of `data` in the card ("" for the card itself), for the error messages.
    """
    if not isinstance(data, Mapping):
        if not where:
            raise ValueError(f"A model card must be a dict. Received: {data!r}")
        fail(where, "a dict", data)
    prefix = f"{where}." if where else ""
    fields = dataclasses.fields(cls)
    known = [f.name for f in fields]
    for name, value in data.items():
        if name not in known:
            raise ValueError(f"Unknown model card field `{prefix}{name}`; known fields: {', '.join(known)}. "
                             f"Received: {name}={value!r}")
    for f in fields:
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in data:
            raise ValueError(f"Model card field `{prefix}{f.name}` is required. Received: fields {sorted(data)}")
    return dict(data)


def is_integer(value) -> bool:
    """True for an int (numpy's included) that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_list_of(value, valid) -> bool:
    """True for a list or tuple (not a string) whose items are all valid."""
    return isinstance(value, (list, tuple)) and all(valid(v) for v in value)


def names_dict(value, field: str) -> dict:
    """A copy of a {str: str} dict; anything else raises the error for `field`."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        fail(field, "a dict of names {str: str}", value)
    return dict(value)


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """What a backbone started from.

    Args:
        source: "random", "imagenet" or "file".
        file: The weights file loaded, or None for random weights.
    """

    source: str
    file: str | None = None

    def __post_init__(self):
        if self.source not in WEIGHT_SOURCES:
            fail("pretrained.source", f"one of {', '.join(WEIGHT_SOURCES)}", self.source)
        if self.file is not None and not isinstance(self.file, (str, os.PathLike)):
            fail("pretrained.file", "a path or None", self.file)
        object.__setattr__(self, "file", None if self.file is None else os.fspath(self.file))

    @classmethod
    def from_dict(cls, data) -> "Pretrained":
        """Reads `{"source", "file"}` (`zoo.models.backbones.resolve_weights`' answer)."""
        return cls(**checked_fields(cls, data, "pretrained"))


@dataclasses.dataclass(frozen=True)
class Best:
    """The best value of a checkpoint's monitored metric, and its epoch (1-based; 0: the model a pretrained
    plan's heads' stage ended with, before any fine-tuning epoch)."""

    monitor: str
    value: float
    epoch: int

    def __post_init__(self):
        if not isinstance(self.monitor, str) or not self.monitor or self.monitor == "epoch":
            fail("best.monitor", "a metric name", self.monitor)
        if isinstance(self.value, bool) or not isinstance(self.value, numbers.Real):
            fail("best.value", "a number", self.value)
        if not is_integer(self.epoch):
            fail("best.epoch", "an integer", self.epoch)
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "epoch", int(self.epoch))

    def to_dict(self) -> dict:
        """`{monitor: value, "epoch": epoch}`, as stored in files."""
        return {self.monitor: self.value, "epoch": self.epoch}

    @classmethod
    def from_dict(cls, data) -> "Best":
        """Reads `to_dict`'s output."""
        monitors = [k for k in data if k != "epoch"] if isinstance(data, Mapping) else []
        if len(monitors) != 1 or "epoch" not in data:
            fail("best", '{monitor: value, "epoch": epoch}', data)
        return cls(monitors[0], data[monitors[0]], data["epoch"])
