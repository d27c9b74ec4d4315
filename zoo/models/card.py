"""The model card: the typed description every zoo model carries.

A `ModelCard` holds the heads (classes, kinds, thresholds), input shape,
architecture, backbones and where their weights came from, the training plan
and the best checkpoint value. Builders write it once; code reads it by
attribute; `ModelCard.to_dict` and `ModelCard.from_dict` are its one
serialization, used in models' Keras configs and in exported files.

A zoo model is a `ZooModel`: a Keras Functional model whose own config
carries its card, so every Keras path keeps the labels (`keras.models.load_model`,
`model.save`, `keras.models.clone_model`, `model.to_json`). Importing this
module registers every custom Keras object a zoo model file needs.

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

import copy
import dataclasses
import json
from typing import Mapping

import keras

import zoo.models.colour  # noqa: F401  (registers the colour histogram layer a saved model may hold)
import zoo.models.layers  # noqa: F401  (registers the custom layers a saved model holds)
import zoo.training.losses  # noqa: F401  (registers the losses of a saved training configuration)
from zoo.models.card_fields import (Best, Pretrained, checked_fields, fail, is_integer, is_list_of,
                                   names_dict)
from zoo.models.heads import Head

FORMAT_VERSION = 1
# The attribute holding the card on a model (set without Keras' attribute tracking).
_ATTRIBUTE = "_zoo_card"


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """What a zoo model is: its heads, input, backbones and training record.

    Args:
        heads: The `zoo.Head`s, in output order (thresholds included).
        input_shape: (height, width, channels) of the images it takes.
        architecture: Registry name (`zoo.list_models()`), or None for a plain Keras model.
        backbone: The backbone name of a shared trunk, or `{head: backbone}` for one branch per head.
        branches: `{backbone layer name: backbone name}`.
        feature_layers: The layers where the backbones' features meet the heads: a global pooling (or a
            concatenation of poolings) is cached after it, any other layer before it.
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


@keras.saving.register_keras_serializable(package="zoo")
class ZooModel(keras.Model):
    """A Keras Functional model that carries its `ModelCard` in its config.

    Built like `keras.Model(inputs, outputs, name=...)`, plus `card`. Its
    `get_config` holds the card as a dict under "card", so the labels travel
    with every copy Keras makes of the model.

    Args:
        *args: `keras.Model`'s (`inputs`, `outputs`).
        card: A `ModelCard`, or its dict (`ModelCard.to_dict`) as read from a config.
        **kwargs: `keras.Model`'s (`name`, `trainable`).

    Example:
        >>> inputs = keras.Input((4,))
        >>> model = ZooModel(inputs, {"tags": keras.layers.Dense(2, activation="sigmoid", name="tags")(inputs)},
        ...                  card=ModelCard(heads=[Head("tags", ["a", "b"])], input_shape=[4]))
        >>> copy = keras.models.model_from_json(model.to_json())
        >>> type(copy).__name__, card_of(copy).head("tags").classes
        ('ZooModel', ('a', 'b'))
    """

    def __init__(self, *args, card=None, **kwargs):
        super().__init__(*args, **kwargs)
        if card is None:
            card = _card_of_tensors(self.outputs)  # `keras.models.clone_model` runs the graph, then the class
        elif isinstance(card, str):
            card = ModelCard.from_json(card)
        elif not isinstance(card, ModelCard):
            card = ModelCard.from_dict(card)
        if card is not None:
            set_card(self, card)

    def _run_through_graph(self, *args, **kwargs):
        outputs = super()._run_through_graph(*args, **kwargs)
        card = getattr(self, _ATTRIBUTE, None)
        if card is not None:
            for tensor in keras.tree.flatten(outputs):
                if isinstance(tensor, keras.KerasTensor):
                    tensor._zoo_card = card
        return outputs

    def get_config(self):
        config = super().get_config()
        card = getattr(self, _ATTRIBUTE, None)
        if card is not None:
            config["card"] = card.to_dict()
        return config


def _card_of_tensors(tensors) -> ModelCard | None:
    """The card of the model whose graph made these symbolic tensors, when they all share one."""
    cards = {id(c): c for c in (getattr(t, "_zoo_card", None) for t in tensors)}
    return next(iter(cards.values())) if len(cards) == 1 else None


# Keras' .h5 writer names the model's class without its package.
keras.saving.get_custom_objects().setdefault("ZooModel", ZooModel)


def _become_zoo_model(model) -> bool:
    """Turns a plain Functional model into a `ZooModel` in place (same layers, weights and compile state)."""
    if isinstance(model, ZooModel):
        return True
    functional = type(model)
    if functional.__name__ != "Functional" or not isinstance(model, keras.Model):
        return False  # Sequential or subclassed: the card stays in memory only
    if ZooModel.__bases__ != (functional,):
        ZooModel.__bases__ = (functional,)  # what Keras itself does on a subclass's first Functional call
    object.__setattr__(model, "__class__", ZooModel)
    return True


def set_card(model, card: ModelCard) -> None:
    """Attaches `card` to `model` (a keras.Model or a runtime model of an export).

    A Functional keras.Model becomes a `ZooModel` (in place: same layers, weights
    and compile state), whose Keras config carries the card from then on.
    """
    if not isinstance(card, ModelCard):
        raise ValueError(f"`card` must be a zoo ModelCard. Received: card={card!r}")
    if isinstance(model, keras.Model):
        _become_zoo_model(model)
    object.__setattr__(model, _ATTRIBUTE, card)


def card_of(model, infer: bool = True) -> ModelCard | None:
    """The card of `model`.

    Args:
        model: A keras.Model (or a runtime model of an export).
        infer: For a model without a card (a plain Keras model), infer one:
            classes are the output indices, each head's kind follows from its
            activation and width. False: return None instead.

    Example:
        >>> inputs = keras.Input((8,))
        >>> plain = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="kind")(inputs))
        >>> card_of(plain).heads[0].kind, card_of(plain, infer=False)
        ('multiclass', None)
    """
    card = getattr(model, _ATTRIBUTE, None)
    if card is not None:
        return copy.deepcopy(card)  # a copy, so no caller changes another's card
    return _inferred_card(model) if infer else None


def _inferred_card(model) -> ModelCard:
    heads = []
    names = getattr(model, "output_names", None) or [o._keras_history[0].name for o in model.outputs]  # Sequential
    for name, output in zip(list(names), model.outputs):
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


__all__ = ["Best", "FORMAT_VERSION", "ModelCard", "Pretrained", "ZooModel", "card_of", "heads_of", "model_info",
           "set_card", "update_head"]


def model_info(model: keras.Model) -> dict:
    """The model's card as the JSON-ready dict stored in model files: heads (classes, kind, threshold),
    input shape, backbones, plan.

    Works for plain Keras models too: their classes are the output indices and
    each head's kind is guessed from its activation and width.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
        >>> info = zoo.model_info(model)
        >>> info["heads"]["tags"]["kind"], info["input_shape"], info["format"] == FORMAT_VERSION
        ('multilabel', [32, 32, 3], True)
    """
    return card_of(model).to_dict()


def heads_of(model: keras.Model) -> list[Head]:
    """The model's heads as `zoo.Head` objects, in output order."""
    return list(card_of(model).heads)


def update_head(model: keras.Model, head_name: str, **changes) -> None:
    """Changes fields of one head in the model's card (e.g. `threshold`)."""
    set_card(model, card_of(model).with_head(head_name, **changes))
