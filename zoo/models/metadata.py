"""A model's card as a plain dict (`zoo.model_info`), and its heads.

The card itself is a `zoo.models.card.ModelCard`; `model_info` gives the same
facts as the JSON-ready dict stored in model files.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    >>> zoo.model_info(model)["heads"]["tags"]["classes"]
    ['a', 'b']
"""

from __future__ import annotations

import keras

from zoo.models.card import FORMAT_VERSION, ModelCard, Pretrained, card_of, set_card  # noqa: F401  (FORMAT_VERSION: importable here too)
from zoo.models.heads import Head


def make_metadata(heads, input_shape, architecture=None, backbone=None, branches=None, feature_layers=(),
                  pretrained=None) -> dict:
    """The metadata dict of a model with these heads (`ModelCard.to_dict`).

    `branches` maps backbone layer names to backbone names; `feature_layers` names
    the layers whose inputs are the backbones' outputs (used to cache features);
    `pretrained` maps backbone layer names to what they started from
    (`zoo.models.backbones.resolve_weights`).
    """
    card = ModelCard(heads=list(heads), input_shape=list(input_shape), architecture=architecture, backbone=backbone,
                     branches=dict(branches or {}), feature_layers=list(feature_layers),
                     pretrained={k: Pretrained.from_dict(v) for k, v in (pretrained or {}).items()})
    return card.to_dict()


def set_metadata(model: keras.Model, metadata: dict) -> None:
    """Attaches the card that the dict `metadata` describes to `model` (see `set_card`)."""
    set_card(model, ModelCard.from_dict(metadata))


def get_metadata(model: keras.Model) -> dict | None:
    """The card attached to `model` as a dict, or None for a plain Keras model."""
    card = card_of(model, infer=False)
    return card.to_dict() if card is not None else None


def model_info(model: keras.Model) -> dict:
    """Heads (classes, kind, threshold), input shape and backbone of a model.

    Works for plain Keras models too: their classes are the output indices and
    each head's kind is guessed from its activation and width. The typed card
    behind it is `zoo.models.card.card_of(model)`.

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
