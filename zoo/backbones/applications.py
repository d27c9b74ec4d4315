"""Backbones wrapping `keras.applications` networks with `include_top=False`.

The network is built on top of an `ImagePreprocessing` layer, so the backbone is one
flat Functional model whose layer names (`block5_conv1`, ...) fine-tuning can address.
"""

from __future__ import annotations

import functools

import keras

from zoo.backbones.base import BackboneSpec, register_backbone
from zoo.layers import ImagePreprocessing


def _build_application(application, preprocessing, input_shape, name):
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = ImagePreprocessing(preprocessing, name=f"{name}_preprocessing")(inputs)
    network = application(
        include_top=False, weights=None, input_tensor=x, input_shape=input_shape, name=name
    )
    # Same layers, but a single-tensor input structure (the application lists its inputs).
    return keras.Model(inputs, network.output, name=name)


def _register(name, application, preprocessing, boundaries):
    register_backbone(
        BackboneSpec(
            name=name,
            build=functools.partial(_build_application, application, preprocessing),
            preprocessing=preprocessing,
            boundaries=boundaries,
            pretrained=("imagenet",),
        )
    )


_register(
    "vgg16",
    keras.applications.VGG16,
    "caffe",
    {"block5": "block5_conv1", "block4": "block4_conv1", "block3": "block3_conv1"},
)
_register(
    "resnet50",
    keras.applications.ResNet50,
    "caffe",
    {"conv5": "conv5_block1_1_conv", "conv4": "conv4_block1_1_conv", "conv3": "conv3_block1_1_conv"},
)
_register(
    "mobilenet_v2",
    keras.applications.MobileNetV2,
    "tf",
    {"block_16": "block_16_expand", "block_13": "block_13_expand", "block_6": "block_6_expand"},
)
_register(
    "efficientnet_b0",
    keras.applications.EfficientNetB0,
    "none",  # EfficientNet rescales and normalizes inside the network.
    {"block7": "block7a_expand_conv", "block6": "block6a_expand_conv", "block5": "block5a_expand_conv"},
)
