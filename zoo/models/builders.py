"""Functional-API builders: a shared trunk with several heads, or one branch per head.

Example:
    >>> import zoo
    >>> from zoo.models.builders import build_shared_trunk
    >>> model = build_shared_trunk("small_cnn", [zoo.Head("tags", ["a", "b"])], (32, 32, 3))
    >>> model.output_names
    ['tags']
"""

from __future__ import annotations

import contextlib

import keras
from keras import layers

from zoo.models.backbones import build_backbone, get_backbone_spec, resolve_weights
from zoo.models.card import ModelCard, Pretrained, ZooModel
from zoo.models.heads import Head
from zoo.models.card import heads_of

POOLINGS = ("avg", "max", "flatten")


def _pool(x, pooling, name):
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=name)(x)
    if pooling == "flatten":
        return layers.Flatten(name=name)(x)
    raise ValueError(f"`pooling` must be one of {POOLINGS}. Received: pooling={pooling!r}")


def _pooled_levels(trunk, inputs, backbone, pooling):
    """The trunk's output and the end of each earlier stage (`BackboneSpec.levels`), each pooled, side by side.

    The trunk becomes one model with all those outputs (the same layers, computed
    once); the concatenation, a layer without weights, is what the feature cache keeps.
    """
    levels = get_backbone_spec(backbone).levels
    if not levels:
        raise ValueError(f"Backbone {backbone!r} lists no stage ends to pool (`levels`); use multi_level=False. "
                         f"Received: multi_level=True")
    if pooling not in ("avg", "max"):
        raise ValueError(f"multi_level pools each level to a vector: `pooling` must be 'avg' or 'max'. "
                         f"Received: pooling={pooling!r}")
    tapped = keras.Model(trunk.inputs, [trunk.output, *(trunk.get_layer(level).output for level in levels)],
                         name=trunk.name)
    tapped.trainable = trunk.trainable
    maps = tapped(inputs)
    pooled = [_pool(features, pooling, f"pool_{level}") for features, level in zip(maps, ("top", *levels))]
    return tapped, layers.Concatenate(name="pool")(pooled)


def _neck(x, units, dropout, prefix):
    if units:
        x = layers.Dense(units, activation="relu", name=f"{prefix}_dense")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{prefix}_dropout")(x)
    return x


def _per_head(value, head_name, argument):
    """Reads a per-branch option given once for all heads or as a dict by head."""
    if isinstance(value, dict):
        if head_name not in value:
            raise ValueError(
                f"`{argument}` has no entry for head {head_name!r}. Received: {argument}={value!r}"
            )
        return value[head_name]
    return value


def build_shared_trunk(
    backbone: str,
    heads: list[Head],
    input_shape,
    weights=None,
    pooling: str = "avg",
    neck_units: int | None = None,
    dropout: float = 0.0,
    freeze_backbone: bool = False,
    name: str = "shared_trunk",
    colour_heads=(),
    multi_level: bool = False,
) -> keras.Model:
    """One backbone, pooled features shared by every head.

    Args:
        backbone: Backbone name from `zoo.list_backbones()`.
        heads: The heads; each becomes an output named after it.
        input_shape: (height, width, 3) of raw 0..255 images.
        weights: Backbone weights: None, "auto", "imagenet" or a path (see
            `zoo.models.backbones.resolve_weights`); what was loaded is recorded in the
            model's card (`zoo.models.card.card_of(model).pretrained`).
        pooling: "avg", "max" or "flatten".
        neck_units: Optional shared Dense+ReLU width after pooling.
        dropout: Dropout rate after pooling (and neck).
        freeze_backbone: Make the backbone non-trainable (its BatchNorm layers
            then run in inference mode).
        name: Model name.
        colour_heads: Heads that also read the image's colour histogram
            (`zoo.models.colour`) beside the pooled features.
        multi_level: Pool the end of each earlier stage of the backbone too
            (`BackboneSpec.levels`) and give the heads all of them side by side:
            the colours and textures of the lower stages beside the objects of
            the top. The layer `pool` is then their concatenation.

    Returns:
        An uncompiled keras.Model with dict outputs `{head.name: probabilities}`.

    Example:
        >>> from zoo.models.heads import Head
        >>> heads = [Head("tags", ["sea", "sun", "tree"]), Head("season", ["summer", "winter"], kind="multiclass")]
        >>> model = build_shared_trunk("small_cnn", heads, (32, 32, 3), neck_units=16)
        >>> {name: tuple(output.shape) for name, output in model.output.items()}
        {'tags': (None, 3), 'season': (None, 2)}
    """
    inputs = keras.Input(input_shape, name="image")
    start = resolve_weights(backbone, weights, input_shape)
    trunk = build_backbone(backbone, input_shape, start["file"])
    trunk.trainable = not freeze_backbone
    if multi_level:
        trunk, x = _pooled_levels(trunk, inputs, backbone, pooling)
    else:
        x = _pool(trunk(inputs), pooling, "pool")
    x = _neck(x, neck_units, dropout, "neck")
    unknown = set(colour_heads) - {h.name for h in heads}
    if unknown:
        raise ValueError(f"`colour_heads` names unknown heads {sorted(unknown)}. "
                         f"Received: colour_heads={colour_heads!r}")
    colour = None
    if colour_heads:
        from zoo.models.colour import ColourHistogram

        colour = layers.Identity(name="colour")(ColourHistogram(name="colour_histogram")(inputs))
    outputs = {h.name: h.build(layers.Concatenate(name=f"{h.name}_with_colour")([x, colour])
                               if h.name in colour_heads else x) for h in heads}
    card = ModelCard(heads=list(heads), input_shape=list(input_shape), architecture=name, backbone=backbone,
                     branches={trunk.name: backbone},
                     feature_layers=["pool"] + (["colour"] if colour_heads else []),
                     pretrained={trunk.name: Pretrained.from_dict(start)})
    return ZooModel(inputs, outputs, name=name, card=card)


def build_branches(
    backbones,
    heads: list[Head],
    input_shape,
    weights=None,
    pooling="avg",
    neck_units=None,
    dropout=0.0,
    frozen=(),
    name: str = "branches",
) -> keras.Model:
    """One backbone branch per head, all reading the same input image.

    Per-branch options (`backbones`, `weights`, `pooling`, `neck_units`,
    `dropout`) take one value for every branch or a dict keyed by head name.

    Args:
        backbones: Backbone name(s).
        heads: The heads; head `h` gets a branch whose backbone model is named
            `f"{h.name}_{backbone}"`.
        input_shape: (height, width, 3) of raw 0..255 images.
        weights: Backbone weights per branch: None, "auto", "imagenet" or a path;
            recorded in the model's card like `build_shared_trunk` does.
        pooling: "avg", "max" or "flatten" per branch.
        neck_units: Dense+ReLU width after pooling per branch (None: none).
        dropout: Dropout rate after the neck per branch.
        frozen: Head names whose backbone is made non-trainable.
        name: Model name.

    Returns:
        An uncompiled keras.Model with dict outputs `{head.name: probabilities}`.

    Example:
        >>> from zoo.models.heads import Head
        >>> heads = [Head("color", ["red", "blue"], kind="multiclass"),
        ...          Head("type", ["shirt", "dress"], kind="multiclass")]
        >>> model = build_branches({"color": "small_cnn", "type": "compact_resnet"}, heads, (32, 32, 3),
        ...                        frozen=["type"])
        >>> [(layer.name, layer.trainable) for layer in model.layers if isinstance(layer, keras.Model)]
        [('color_small_cnn', True), ('type_compact_resnet', False)]
    """
    unknown = set(frozen) - {h.name for h in heads}
    if unknown:
        raise ValueError(f"`frozen` names unknown heads {sorted(unknown)}. Received: frozen={frozen!r}")
    inputs = keras.Input(input_shape, name="image")
    outputs, branches, pretrained = {}, {}, {}
    for head in heads:
        backbone = _per_head(backbones, head.name, "backbones")
        start = resolve_weights(backbone, _per_head(weights, head.name, "weights"), input_shape)
        trunk = build_backbone(backbone, input_shape, start["file"], f"{head.name}_{backbone}")
        trunk.trainable = head.name not in frozen
        branches[trunk.name] = backbone
        pretrained[trunk.name] = Pretrained.from_dict(start)
        x = _pool(trunk(inputs), _per_head(pooling, head.name, "pooling"), f"{head.name}_pool")
        x = _neck(
            x,
            _per_head(neck_units, head.name, "neck_units"),
            _per_head(dropout, head.name, "dropout"),
            f"{head.name}_neck",
        )
        outputs[head.name] = head.build(x)
    backbone_by_head = {h.name: _per_head(backbones, h.name, "backbones") for h in heads}
    card = ModelCard(heads=list(heads), input_shape=list(input_shape), architecture=name, backbone=backbone_by_head,
                     branches=branches, feature_layers=[f"{h.name}_pool" for h in heads], pretrained=pretrained)
    return ZooModel(inputs, outputs, name=name, card=card)


def compile_model(
    model: keras.Model,
    heads: list[Head] | None = None,
    optimizer=None,
    learning_rate: float = 1e-3,
    loss_weights: dict | None = None,
    losses: dict | None = None,
    jit_compile: bool | None = None,
    **compile_kwargs,
) -> keras.Model:
    """Compiles a multi-head model with per-head losses, loss weights and metrics.

    Args:
        model: A model whose outputs are named after `heads`.
        heads: The heads (default: read from the model's card).
        optimizer: A keras optimizer (default: Adam at `learning_rate`).
        learning_rate: Used when `optimizer` is None.
        loss_weights: {head: weight}; missing heads use `Head.loss_weight`.
        losses: {head: loss} overriding each kind's default loss.
        jit_compile: Compile the train step with XLA. Default: off on TensorFlow
            (on CPU its compile time outweighs its gain for short runs), on with
            JAX (whose only fast path is XLA).
        **compile_kwargs: Passed to `model.compile` (`jit_compile`, ...).

    Returns:
        The same model, compiled.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None, compile=False)
        >>> model = compile_model(model, learning_rate=1e-4, losses={"tags": keras.losses.BinaryFocalCrossentropy()})
        >>> type(model.loss["tags"]).__name__, round(float(model.optimizer.learning_rate), 6)
        ('BinaryFocalCrossentropy', 0.0001)
    """
    heads = heads or heads_of(model)
    unknown = set(loss_weights or {}) | set(losses or {})
    unknown -= {h.name for h in heads}
    if unknown:
        raise ValueError(f"Loss options name unknown heads: {sorted(unknown)}")
    if jit_compile is None:
        jit_compile = keras.backend.backend() == "jax"
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
    with strategy.scope() if strategy else contextlib.nullcontext():
        optimizer = optimizer or keras.optimizers.Adam(learning_rate)
    model.compile(
        optimizer=optimizer,
        loss={h.name: (losses or {}).get(h.name) or h.loss() for h in heads},
        loss_weights={h.name: float((loss_weights or {}).get(h.name, h.loss_weight)) for h in heads},
        metrics={h.name: h.metrics() for h in heads},
        jit_compile=jit_compile,
        **compile_kwargs,
    )
    return model
