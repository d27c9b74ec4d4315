"""The model card: the typed description every zoo model carries.

A `ModelCard` holds the heads (classes, kinds, thresholds), input shape,
architecture, backbones and where their weights came from, the training plan
and the best checkpoint value. Builders write it once; code reads it by
attribute; `ModelCard.to_json` and `ModelCard.from_json` are its one
serialization, used on models and in `.keras`, `.h5` and exported files.

Example:
    >>> import zoo
    >>> from zoo.models.card import card_of
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
    ...                   weights=None)
    >>> card = card_of(model)
    >>> card.architecture, card.input_shape, card.head("tags").classes
    ('multilabel_small', (32, 32, 3), ('a', 'b'))
"""

from __future__ import annotations

import dataclasses
import json
import weakref
from typing import Mapping

from zoo.models.card_fields import (Best, Pretrained, checked_fields, fail, is_integer, is_list_of,
                                   names_dict)
from zoo.models.heads import Head

FORMAT_VERSION = 1
# The attribute holding a model's card as JSON (a string, so Keras does not track it).
# Each model's card as JSON (a fresh ModelCard per read, so no caller can change another's).
_CARDS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """What a zoo model is: its heads, input, backbones and training record.

    Args:
        heads: The `zoo.Head`s, in output order (thresholds included).
        input_shape: (height, width, channels) of the images it takes.
        architecture: Registry name (`zoo.list_models()`), or None for a plain Keras model.
        backbone: The backbone name of a shared trunk, or `{head: backbone}` for one branch per head.
        branches: `{backbone layer name: backbone name}`.
        feature_layers: Layers whose inputs are the backbones' outputs (for cached features).
        pretrained: `{backbone layer name: Pretrained}`: what each backbone started from.
        plan: The training plan (`zoo.training.plan.Plan.to_dict()`), once trained by `zoo train`.
        best: The best checkpoint value (`Best`), in checkpoints.
        format: The card's format version.

    Example:
        >>> card = ModelCard(heads=[Head("tags", ["a", "b"])], input_shape=[32, 32, 3])
        >>> ModelCard.from_json(card.to_json()) == card
        True
        >>> card.with_head("tags", threshold=0.3).head("tags").threshold
        0.3
    """

    heads: tuple[Head, ...]
    input_shape: tuple[int, ...]
    architecture: str | None = None
    backbone: str | dict[str, str] | None = None
    branches: dict[str, str] = dataclasses.field(default_factory=dict)
    feature_layers: tuple[str, ...] = ()
    pretrained: dict[str, Pretrained] = dataclasses.field(default_factory=dict)
    plan: dict | None = None
    best: Best | None = None
    format: int = FORMAT_VERSION

    def __post_init__(self):
        if not is_list_of(self.heads, lambda h: isinstance(h, Head)):
            fail("heads", "a list of zoo.Head", self.heads)
        if len(set(self.head_names)) != len(self.heads):
            fail("heads", "heads with unique names", list(self.head_names))
        if not is_list_of(self.input_shape, lambda d: is_integer(d) and d > 0):
            fail("input_shape", "a list of positive integers", self.input_shape)
        if self.architecture is not None and not isinstance(self.architecture, str):
            fail("architecture", "a name or None", self.architecture)
        backbone = self.backbone if self.backbone is None or isinstance(self.backbone, str) else (
            names_dict(self.backbone, "backbone"))
        if not is_list_of(self.feature_layers, lambda f: isinstance(f, str)):
            fail("feature_layers", "a list of layer names", self.feature_layers)
        if not isinstance(self.pretrained, Mapping) or not all(
                isinstance(p, Pretrained) for p in self.pretrained.values()):
            fail("pretrained", "a dict {layer: Pretrained}", self.pretrained)
        try:
            plan = None if self.plan is None else json.loads(json.dumps({**self.plan}))
        except (TypeError, ValueError):
            fail("plan", "a JSON-ready dict or None", self.plan)
        if self.best is not None and not isinstance(self.best, Best):
            fail("best", "a Best or None", self.best)
        if not is_integer(self.format) or not 1 <= self.format <= FORMAT_VERSION:
            fail("format", f"a version from 1 to {FORMAT_VERSION} (newer cards need a newer zoo)", self.format)
        for name, value in [("heads", tuple(self.heads)), ("input_shape", tuple(int(d) for d in self.input_shape)),
                            ("backbone", backbone), ("branches", names_dict(self.branches, "branches")),
                            ("feature_layers", tuple(self.feature_layers)), ("pretrained", dict(self.pretrained)),
                            ("plan", plan)]:
            object.__setattr__(self, name, value)

    @property
    def head_names(self) -> tuple[str, ...]:
        """The head names, in output order."""
        return tuple(h.name for h in self.heads)

    def head(self, name: str) -> Head:
        """The head called `name`; a ValueError lists the heads when there is none."""
        for head in self.heads:
            if head.name == name:
                return head
        raise ValueError(f"Model has no head {name!r}; heads: {', '.join(self.head_names)}. Received: head={name!r}")

    def with_head(self, name: str, **changes) -> "ModelCard":
        """A copy with fields of head `name` changed (e.g. `threshold=[0.3, 0.6]`)."""
        changed = dataclasses.replace(self.head(name), **changes)
        return dataclasses.replace(self, heads=tuple(changed if h.name == name else h for h in self.heads))

    def to_dict(self) -> dict:
        """The JSON-ready dict stored in files (format 1); the inverse of `from_dict`."""
        data = {
            "format": self.format,
            "architecture": self.architecture,
            "input_shape": list(self.input_shape),
            "backbone": dict(self.backbone) if isinstance(self.backbone, dict) else self.backbone,
            "branches": dict(self.branches),
            "feature_layers": list(self.feature_layers),
            "pretrained": {layer: dataclasses.asdict(p) for layer, p in self.pretrained.items()},
            "heads": {h.name: h.to_dict() for h in self.heads},
        }
        if self.plan is not None:
            data["plan"] = json.loads(json.dumps(self.plan))
        if self.best is not None:
            data["best"] = self.best.to_dict()
        return data

    @classmethod
    def from_dict(cls, data) -> "ModelCard":
        """Reads `to_dict`'s output; unknown, missing or mistyped fields raise a ValueError naming them."""
        data = checked_fields(cls, data)
        heads = data["heads"]
        if not isinstance(heads, Mapping):
            fail("heads", "a dict {name: head}", heads)
        parsed = []
        for name, head in heads.items():
            head = checked_fields(Head, {"name": name, **head} if isinstance(head, Mapping) else head, f"heads.{name}")
            if head["name"] != name:
                fail(f"heads.{name}.name", repr(name), head["name"])
            try:
                parsed.append(Head.from_dict(head))
            except (TypeError, ValueError) as error:
                raise ValueError(f"Model card field `heads.{name}` is not a valid head: {error}") from error
        data["heads"] = parsed
        pretrained = data.get("pretrained", {})
        if not isinstance(pretrained, Mapping):
            fail("pretrained", "a dict {layer: {source, file}}", pretrained)
        data["pretrained"] = {layer: Pretrained.from_dict(p) for layer, p in pretrained.items()}
        if data.get("best") is not None:
            data["best"] = Best.from_dict(data["best"])
        return cls(**data)

    def to_json(self, indent: int | None = None) -> str:
        """The card as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> "ModelCard":
        """Reads `to_json`'s output."""
        return cls.from_dict(json.loads(text))


def set_card(model, card: ModelCard) -> None:
    """Attaches `card` to `model` (a keras.Model or a runtime model of an export).

    The card is kept beside the model, not on it: nothing is added to a Keras
    object, and the card goes when the model goes.
    """
    if not isinstance(card, ModelCard):
        raise ValueError(f"`card` must be a zoo ModelCard. Received: card={card!r}")
    _CARDS[model] = card.to_json()


def card_of(model, infer: bool = True) -> ModelCard | None:
    """The card of `model`.

    Args:
        model: A keras.Model (or a runtime model of an export).
        infer: For a model without a card (a plain Keras model), infer one:
            classes are the output indices, each head's kind follows from its
            activation and width. False: return None instead.

    Example:
        >>> import keras
        >>> inputs = keras.Input((8,))
        >>> plain = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="kind")(inputs))
        >>> card_of(plain).heads[0].kind, card_of(plain, infer=False)
        ('multiclass', None)
    """
    raw = _CARDS.get(model)
    if raw:
        return ModelCard.from_json(raw)
    return _inferred_card(model) if infer else None


def _inferred_card(model) -> ModelCard:
    heads = []
    for name, output in zip(list(model.output_names), model.outputs):
        units = int(output.shape[-1])
        layer = output._keras_history[0]
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if activation == "softmax" and units > 1:
            kind = "multiclass"
        elif units == 1:
            kind = "binary"
        else:
            kind = "multilabel"
        safe = name if name.isidentifier() else f"output_{len(heads)}"
        heads.append(Head(safe, [str(i) for i in range(units)], kind=kind))
    return ModelCard(heads=heads, input_shape=[int(d) for d in model.input_shape[1:]])


__all__ = ["Best", "FORMAT_VERSION", "ModelCard", "Pretrained", "card_of", "set_card"]
