"""`small_cnn`: the classic from-scratch color branch.

An 11x11 stride-4 convolution sees coarse color regions at once; two 3x3 stages with
max pooling follow. Small and fast: it learns color, not fine shape.
"""

from __future__ import annotations

import keras
from keras import layers

from zoo.models import catalog
from zoo.models.backbones.base import BackboneSpec, register_backbone
from zoo.models.layers import ImagePreprocessing


def _conv_bn(x, filters, kernel, strides, name):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_small_cnn(input_shape, name="small_cnn"):
    """Builds `small_cnn`; see `zoo.models.backbones.build_backbone` for the arguments."""
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = ImagePreprocessing("unit", name=f"{name}_preprocessing")(inputs)
    x = _conv_bn(x, 32, 11, 4, "conv1")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = _conv_bn(x, 64, 3, 1, "conv2")
    x = layers.MaxPooling2D(2, padding="same", name="pool2")(x)
    x = _conv_bn(x, 128, 3, 1, "conv3")
    x = layers.MaxPooling2D(2, padding="same", name="pool3")(x)
    return keras.Model(inputs, x, name=name)


register_backbone(
    BackboneSpec(
        name="small_cnn",
        build=build_small_cnn,
        preprocessing=catalog.BACKBONES["small_cnn"]["preprocessing"],
        boundaries=dict(catalog.BACKBONES["small_cnn"]["boundaries"]),
        default_input_shape=tuple(catalog.BACKBONES["small_cnn"]["default_input_shape"]),
        pretrained=tuple(catalog.BACKBONES["small_cnn"]["pretrained"]),
    )
)
