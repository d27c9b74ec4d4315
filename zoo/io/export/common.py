"""What every export format shares: the serving model and errors.

Example:
    >>> from zoo.io.export.common import check_format
    >>> check_format("onnx")
    'onnx'
"""

from __future__ import annotations

import importlib
import re

import keras

from zoo.models.card import ModelCard, card_of

FORMATS = ("saved_model", "onnx", "litert")
QUANTIZATIONS = (None, "dynamic")
METADATA_KEY = "zoo_metadata"
EXTRA = "export"


class ExportError(ValueError):
    """A model that an exporter cannot convert (the layer and format are named)."""


def check_format(format: str) -> str:
    """`format` if it is one of `FORMATS`, else a ValueError listing them."""
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={format!r}")
    return format


def require(module: str, format: str):
    """Imports `module`, or says which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"Exporting to or running format={format!r} needs the {module!r} package: "
            f'pip install "keras-zoo[{EXTRA}]"'
        ) from error


def serving_model(model: keras.Model) -> tuple[keras.Model, ModelCard]:
    """A functional wrapper of `model` with input `images` and one output per head, by name.

    Models loaded from Keras 2 files return lists; the wrapper names each output
    after its head so that every format carries the head names.
    """
    card = card_of(model)
    names = list(card.head_names)
    images = keras.Input(card.input_shape, name="images")
    outputs = model(images, training=False)
    if isinstance(outputs, dict):
        outputs = {name: outputs[name] for name in names}
    else:
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        order = list(model.output_names) if set(model.output_names) == set(names) else names
        outputs = dict(zip(order, outputs))
        outputs = {name: outputs[name] for name in names}
    outputs = {name: keras.layers.Identity(name=name)(tensor) for name, tensor in outputs.items()}
    return keras.Model(images, outputs, name="zoo_serving"), card


def _layers(model) -> list:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_layers(layer))
    return found


def failing_layers(model: keras.Model, text: str) -> list[str]:
    """Layers of `model` whose names appear as scopes ("/name/" or "/name_1/") in `text`."""
    names = []
    for layer in _layers(model):
        if re.search(rf"(^|/){re.escape(layer.name)}(_\d+)?/", text) and layer.name not in names:
            names.append(f"{layer.name!r} ({type(layer).__name__})")
    return names


def conversion_error(model: keras.Model, format: str, ops, text: str) -> ExportError:
    """An ExportError naming the layers that hold the unconvertible ops."""
    layers = failing_layers(model, text)
    where = f"layer {', '.join(layers)}" if layers else "a layer"
    return ExportError(
        f"Cannot export {where} to {format}: its operations {', '.join(sorted(set(ops))) or '(see above)'} "
        f"have no {format} equivalent (Python callbacks never have one; rewrite the layer with Keras or "
        f"TensorFlow operations). Received: format={format!r}"
    )
