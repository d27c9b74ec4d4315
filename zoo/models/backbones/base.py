"""What every backbone declares, and the one function that builds any of them."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Callable

import keras

from zoo.models import weights as weights_lib
from zoo.models.registry import BACKBONES


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone.

    Args:
        name: Registry name.
        build: `build(input_shape, name) -> keras.Model` mapping raw 0..255
            images to a 4-D feature map, randomly initialized.
        preprocessing: The `ImagePreprocessing` mode the model starts with.
        boundaries: Fine-tuning boundaries, short name -> first layer of the block
            ({"block5": "block5_conv1"}), ordered from the top of the network.
        default_input_shape: The input shape the backbone is usually trained at.
        pretrained: Data sets with known weights (see `weights/manifest.json`).
        levels: The last layer of each stage below the top, lowest first, whose
            pooled outputs a multi-level trunk reads beside the top's
            (`zoo.models.builders.build_shared_trunk`).
    """

    name: str
    build: Callable[..., keras.Model]
    preprocessing: str
    boundaries: dict
    default_input_shape: tuple = (224, 224, 3)
    pretrained: tuple = ()
    levels: tuple = ()


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Adds `spec` to the backbone registry."""
    return BACKBONES.register(spec.name)(spec)


def get_backbone_spec(name: str) -> BackboneSpec:
    """The registered spec for `name`; unknown names raise a ValueError listing the valid ones."""
    return BACKBONES.get(name)


def resolve_weights(name: str, weights, input_shape=None) -> dict:
    """What a backbone will start from: `{"source", "file"}`.

    Args:
        name: Backbone name from `zoo.list_backbones()`.
        weights: None (random initialization), "auto" (ImageNet where the
            backbone has such weights and the file is on disk or downloads,
            else random, with a warning), "imagenet" (an error when the file
            cannot be had) or the path of a weights file.
        input_shape: The backbone's input shape, for size-specific files.

    Returns:
        `{"source": "random" | "imagenet" | "file", "file": path or None}`.

    Example:
        >>> resolve_weights("small_cnn", "auto")
        {'source': 'random', 'file': None}
    """
    spec = get_backbone_spec(name)
    if weights is None:
        return {"source": "random", "file": None}
    if weights == "auto":
        if "imagenet" not in spec.pretrained:
            return {"source": "random", "file": None}
        try:
            return {"source": "imagenet", "file": weights_lib.resolve(name, "imagenet", input_shape)}
        except weights_lib.WeightsNotFoundError as error:
            warnings.warn(f"{name}: no ImageNet weights, so it starts from random weights and is trained "
                          f"from scratch. {error}", stacklevel=2)
            return {"source": "random", "file": None}
    if weights == "imagenet" and "imagenet" not in spec.pretrained:
        raise ValueError(
            f"Backbone {name!r} has no {weights!r} weights; it trains from scratch. "
            f"Use weights=None or a path. Received: weights={weights!r}"
        )
    source = "imagenet" if weights == "imagenet" else "file"
    return {"source": source, "file": weights_lib.resolve(name, weights, input_shape)}


def build_backbone(name: str, input_shape=None, weights=None, model_name: str | None = None):
    """Builds a registered backbone as a Functional model without a head.

    Args:
        name: Backbone name from `zoo.list_backbones()`.
        input_shape: (height, width, channels); the backbone's default if None.
        weights: None, "auto", "imagenet" (where the backbone has such weights)
            or a path to a weights file for this backbone (see `resolve_weights`).
        model_name: Name of the returned model (default: `name`).

    Returns:
        A keras.Model taking raw 0..255 RGB images and returning a feature map.

    Example:
        >>> from zoo.models.backbones import build_backbone
        >>> build_backbone("small_cnn", (32, 32, 3)).output.shape
        (None, 1, 1, 128)
    """
    spec = get_backbone_spec(name)
    input_shape = tuple(input_shape or spec.default_input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, 3). Received: input_shape={input_shape}"
        )
    path = resolve_weights(name, weights, input_shape)["file"]
    model = spec.build(input_shape, model_name or name)
    if path:
        # Published `.h5` files load by topology; the preprocessing layer has no weights.
        model.load_weights(path)
    return model
