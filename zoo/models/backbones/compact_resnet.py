"""`compact_resnet`: a small residual CNN that trains well from scratch on small data.

A strided 3x3 stem, then four stages of basic residual blocks (two 3x3 convolutions
with BatchNorm, squeeze-and-excitation channel gating (Hu et al., 2018), projection
shortcut where the shape changes), 32 to 256 filters.

Example:
    >>> from zoo.models.backbones.compact_resnet import build_compact_resnet
    >>> build_compact_resnet((64, 64, 3)).output.shape
    (None, 4, 4, 256)
"""

from __future__ import annotations

import keras
from keras import layers

from zoo.models import catalog
from zoo.models.backbones.base import BackboneSpec, register_backbone
from zoo.models.layers import ImagePreprocessing

STAGE_FILTERS = (32, 64, 128, 256)


def _squeeze_excite(x, filters, name):
    """Rescales each channel by a gate computed from the whole feature map."""
    gate = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(x)
    gate = layers.Conv2D(max(filters // 8, 8), 1, activation="relu", name=f"{name}_se_reduce")(gate)
    gate = layers.Conv2D(filters, 1, activation="sigmoid", name=f"{name}_se_expand")(gate)
    return layers.Multiply(name=f"{name}_se_scale")([x, gate])


def _residual_block(x, filters, strides, name):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = _squeeze_excite(y, filters, name)
    if strides != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=strides, use_bias=False, name=f"{name}_shortcut"
        )(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_shortcut_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def build_compact_resnet(input_shape, name="compact_resnet", blocks_per_stage=1):
    """Builds `compact_resnet`; see `zoo.models.backbones.build_backbone` for the arguments."""
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = ImagePreprocessing("tf", name=f"{name}_preprocessing")(inputs)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for stage, filters in enumerate(STAGE_FILTERS, start=1):
        for block in range(1, blocks_per_stage + 1):
            strides = 2 if stage > 1 and block == 1 else 1
            x = _residual_block(x, filters, strides, f"stage{stage}_block{block}")
    return keras.Model(inputs, x, name=name)


register_backbone(
    BackboneSpec(
        name="compact_resnet",
        build=build_compact_resnet,
        preprocessing=catalog.BACKBONES["compact_resnet"]["preprocessing"],
        boundaries=dict(catalog.BACKBONES["compact_resnet"]["boundaries"]),
        default_input_shape=tuple(catalog.BACKBONES["compact_resnet"]["default_input_shape"]),
        pretrained=tuple(catalog.BACKBONES["compact_resnet"]["pretrained"]),
    )
)
