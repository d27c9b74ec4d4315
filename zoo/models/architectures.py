"""Prebuilt architectures, registered by name, and `zoo.build`.

Example:
    >>> import zoo
    >>> model = zoo.build(
    ...     "color_type",
    ...     heads={"color": ["black", "blue", "red"], "type": ["dress", "jeans", "shirt"]},
    ...     input_shape=(32, 32, 3),
    ...     weights=None,
    ... )
    >>> sorted(model.output_names)
    ['color', 'type']
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable

import keras

from zoo.models.backbones import get_backbone_spec
from zoo.models.builders import build_branches, build_shared_trunk, compile_model
from zoo.models.heads import as_heads
from zoo.models.card import Pretrained, card_of, set_card
from zoo.models import catalog
from zoo.models.registry import MODELS


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A prebuilt architecture.

    Args:
        name: Registry name.
        build: `build(heads, input_shape, weights, freeze_backbone, **options) -> keras.Model`.
        backbones: Backbone names it uses, for listings and weights defaults.
        default_kind: Head kind used when heads are given as `{name: classes}`.
        default_input_shape: Input shape used when none is given.
        description: One line for `zoo list`.

    Example:
        >>> import zoo
        >>> from zoo.models.builders import build_shared_trunk
        >>> def tiny(heads, input_shape, weights, freeze_backbone, **options):
        ...     return build_shared_trunk("small_cnn", heads, input_shape, weights=weights, name="tiny", **options)
        >>> tiny_tags = Architecture("tiny", tiny, ("small_cnn",), default_input_shape=(32, 32, 3))
        >>> tiny_tags.pretrainable
        False
    """

    name: str
    build: Callable[..., keras.Model]
    backbones: tuple
    default_kind: str = "multilabel"
    default_input_shape: tuple = (224, 224, 3)
    description: str = ""

    @property
    def pretrainable(self) -> bool:
        """True when some backbone has ImageNet weights."""
        return any("imagenet" in get_backbone_spec(b).pretrained for b in self.backbones)


def register_model(architecture: Architecture) -> Architecture:
    """Adds an architecture to the registry behind `zoo.list_models()`.

    Example:
        >>> import zoo
        >>> from zoo.models.builders import build_shared_trunk
        >>> from zoo.models.registry import MODELS
        >>> def tiny(heads, input_shape, weights, freeze_backbone, **options):
        ...     return build_shared_trunk("small_cnn", heads, input_shape, weights=weights, name="tiny", **options)
        >>> _ = register_model(Architecture("tiny", tiny, ("small_cnn",), default_input_shape=(32, 32, 3)))
        >>> zoo.build("tiny", heads={"tags": ["a", "b"]}, weights=None).output["tags"].shape
        (None, 2)
        >>> MODELS.unregister("tiny")
    """
    return MODELS.register(architecture.name)(architecture)


def _shared_trunk_builder(backbone, name, dropout, **defaults):
    def build(heads, input_shape, weights, freeze_backbone, **options):
        return build_shared_trunk(
            backbone,
            heads,
            input_shape,
            weights=weights,
            freeze_backbone=freeze_backbone,
            name=name,
            **{"dropout": dropout, **defaults, **options},
        )

    return build


def _register_from_catalog(name: str, build) -> None:
    """Registers an architecture whose backbones, defaults and description are in `zoo.models.catalog`."""
    entry = catalog.MODELS[name]
    register_model(Architecture(name=name, build=build, backbones=entry["backbones"],
                                default_kind=entry["default_kind"],
                                default_input_shape=entry["default_input_shape"],
                                description=entry["description"]))


for _backbone, _dropout in [("resnet50", 0.2), ("vgg16", 0.3), ("mobilenet_v2", 0.2), ("efficientnet_b0", 0.2)]:
    _register_from_catalog(f"multilabel_{_backbone}",
                           _shared_trunk_builder(_backbone, f"multilabel_{_backbone}", _dropout))
for _variant in ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"):
    _register_from_catalog(f"multilabel_{_variant}", _shared_trunk_builder(
        _variant, f"multilabel_{_variant}", 0.2, multi_level=True))
_register_from_catalog("multilabel_small", _shared_trunk_builder("compact_resnet", "multilabel_small", 0.3))


def _build_color_type(heads, input_shape, weights, freeze_backbone, **options):
    if len(heads) != 2:
        raise ValueError(
            "color_type has exactly two heads: a color head (small_cnn branch) and a type head "
            f"(VGG16 branch). Received: heads={[h.name for h in heads]}"
        )
    color, garment = heads
    return build_branches(
        backbones={color.name: "small_cnn", garment.name: "vgg16"},
        heads=heads,
        input_shape=input_shape,
        weights={color.name: None, garment.name: weights},
        pooling={color.name: "avg", garment.name: "flatten"},
        neck_units={color.name: 128, garment.name: 256},
        dropout={color.name: 0.5, garment.name: 0.5},
        frozen=(garment.name,) if freeze_backbone else (),
        name="color_type",
        **options,
    )


_register_from_catalog("color_type", _build_color_type)


def build(
    name: str,
    heads,
    input_shape=None,
    weights="auto",
    freeze_backbone: bool | None = None,
    compile: bool = True,
    learning_rate: float = 1e-3,
    **options,
) -> keras.Model:
    """Builds a prebuilt architecture with your heads.

    Args:
        name: Architecture name from `zoo.list_models()`.
        heads: A list of `zoo.Head`, or `{head_name: classes}` (heads of the
            architecture's default kind: multiclass for `color_type`, else
            multilabel).
        input_shape: (height, width, 3); the architecture's default if None.
        weights: "auto" (ImageNet where a backbone has it and the file is on
            disk or downloads, else random with a warning), "imagenet" (an
            error when a file cannot be had), None (random initialization) or
            the path of a weights file saved from this same architecture
            (`model.save_weights`). What each backbone got is in
            `zoo.models.card.card_of(model).pretrained`.
        freeze_backbone: None (default): freeze exactly the backbones that got
            pretrained weights; a random backbone is never frozen. True: freeze
            the architecture's backbones whatever they hold; False: none.
        compile: Compile with per-head losses, loss weights and metrics.
        learning_rate: Adam learning rate used when compiling.
        **options: Builder options (`pooling`, `dropout`, `neck_units`, ...).

    Returns:
        A keras.Model with one output per head, named after it.

    Example:
        >>> import zoo
        >>> model = zoo.build("color_type", heads={"color": ["red", "blue"], "type": ["shirt", "dress", "hat"]},
        ...                   input_shape=(32, 32, 3), weights=None)
        >>> {name: tuple(output.shape) for name, output in model.output.items()}
        {'color': (None, 2), 'type': (None, 3)}
        >>> zoo.model_info(model)["heads"]["type"]["kind"]
        'multiclass'
    """
    architecture = MODELS.get(name)
    heads = as_heads(heads, default_kind=architecture.default_kind)
    input_shape = tuple(input_shape or architecture.default_input_shape)
    model_weights = None
    if weights == "imagenet" and not architecture.pretrainable:
        raise ValueError(
            f"{name!r} has no backbone with ImageNet weights; it trains from scratch. "
            f"Received: weights={weights!r}"
        )
    if weights not in (None, "auto", "imagenet"):
        if not os.path.isfile(weights):
            raise FileNotFoundError(
                f"`weights` must be 'auto', 'imagenet', None or an existing weights file. "
                f"Received: weights={weights!r}"
            )
        model_weights, weights = os.fspath(weights), None
    model = architecture.build(heads, input_shape, weights, bool(freeze_backbone), **options)
    card = dataclasses.replace(card_of(model), architecture=name)
    if model_weights is not None:
        model.load_weights(model_weights)
        from_file = Pretrained("file", model_weights)
        card = dataclasses.replace(card, pretrained={layer: from_file for layer in card.branches})
    set_card(model, card)
    if freeze_backbone is None:
        freeze_pretrained(model)
    if compile:
        compile_model(model, heads, learning_rate=learning_rate)
    return model


def freeze_pretrained(model: keras.Model) -> list[str]:
    """Freezes exactly the backbones that started from pretrained weights.

    A randomly initialized backbone is never frozen: it has nothing to keep.

    Returns:
        The names of the frozen backbone layers.

    Example:
        >>> model = build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
        >>> freeze_pretrained(model)
        []
    """
    frozen = []
    for layer_name, start in card_of(model).pretrained.items():
        if start.source != "random":
            model.get_layer(layer_name).trainable = False
            frozen.append(layer_name)
    return frozen


def describe_models() -> list[dict]:
    """One row per architecture: name, backbones, default input, description."""
    rows = []
    for name in MODELS.names():
        arch = MODELS.get(name)
        rows.append(
            {
                "name": name,
                "backbones": ", ".join(arch.backbones),
                "input_shape": "x".join(str(d) for d in arch.default_input_shape),
                "description": arch.description,
            }
        )
    return rows
