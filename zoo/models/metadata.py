"""Label metadata that travels with a model: heads, classes, kinds, thresholds.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    >>> zoo.model_info(model)["heads"]["tags"]["classes"]
    ['a', 'b']
"""

from __future__ import annotations

import copy
import json

import keras

from zoo.models.heads import Head

FORMAT_VERSION = 1
_ATTRIBUTE = "_zoo_metadata_json"


def make_metadata(heads, input_shape, architecture=None, backbone=None, branches=None, feature_layers=(),
                  pretrained=None) -> dict:
    """Builds the metadata dict for a model with these heads.

    `branches` maps backbone layer names to backbone names; `feature_layers` names
    the layers whose inputs are the backbones' outputs (used to cache features);
    `pretrained` maps backbone layer names to what they started from
    (`zoo.models.backbones.resolve_weights`).
    """
    return {
        "format": FORMAT_VERSION,
        "architecture": architecture,
        "input_shape": [int(d) for d in input_shape],
        "backbone": backbone,
        "branches": dict(branches or {}),
        "feature_layers": list(feature_layers),
        "pretrained": dict(pretrained or {}),
        "heads": {h.name: h.to_dict() for h in heads},
    }


def set_metadata(model: keras.Model, metadata: dict) -> None:
    """Attaches `metadata` to `model` (stored as JSON so Keras does not track it)."""
    object.__setattr__(model, _ATTRIBUTE, json.dumps(metadata))


def get_metadata(model: keras.Model) -> dict | None:
    """The metadata attached to `model`, or None for a plain Keras model."""
    raw = getattr(model, _ATTRIBUTE, None)
    return json.loads(raw) if raw else None


def _infer_metadata(model: keras.Model) -> dict:
    """Metadata for a model without any: classes are indices, kinds from activations."""
    heads = []
    names = list(model.output_names)
    for name, output in zip(names, model.outputs):
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
    return make_metadata(heads, model.input_shape[1:], architecture=None)


def model_info(model: keras.Model) -> dict:
    """Heads (classes, kind, threshold), input shape and backbone of a model.

    Works for plain Keras models too: their classes are the output indices and
    each head's kind is guessed from its activation and width.

    Example:
        >>> info = zoo.model_info(model)  # doctest: +SKIP
        >>> info["heads"]["tags"]["kind"]  # doctest: +SKIP
        'multilabel'
    """
    metadata = get_metadata(model)
    return copy.deepcopy(metadata) if metadata else _infer_metadata(model)


def heads_of(model: keras.Model) -> list[Head]:
    """The model's heads as `zoo.Head` objects, in output order."""
    return [Head.from_dict(h) for h in model_info(model)["heads"].values()]


def update_head(model: keras.Model, head_name: str, **changes) -> None:
    """Changes fields of one head in the model's metadata (e.g. `threshold`)."""
    metadata = model_info(model)
    if head_name not in metadata["heads"]:
        raise ValueError(
            f"Model has no head {head_name!r}; heads: {', '.join(metadata['heads'])}. "
            f"Received: head={head_name!r}"
        )
    updated = Head.from_dict({**metadata["heads"][head_name], **changes})
    metadata["heads"][head_name] = updated.to_dict()
    set_metadata(model, metadata)
