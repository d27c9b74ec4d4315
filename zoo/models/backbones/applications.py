"""Backbones wrapping `keras.applications` networks with `include_top=False`.

The network is built on top of an `ImagePreprocessing` layer, so the backbone is one
flat Functional model whose layer names (`block5_conv1`, ...) fine-tuning can address.
"""

from __future__ import annotations

import functools

import keras

from zoo.models import catalog
from zoo.models.backbones.base import BackboneSpec, register_backbone
from zoo.models.layers import ImagePreprocessing


def _build_application(application, preprocessing, input_shape, name):
    inputs = keras.Input(input_shape, name=f"{name}_input")
    x = ImagePreprocessing(preprocessing, name=f"{name}_preprocessing")(inputs)
    network = application(
        include_top=False, weights=None, input_tensor=x, input_shape=input_shape, name=name
    )
    # Same layers, but a single-tensor input structure (the application lists its inputs).
    return keras.Model(inputs, network.output, name=name)


def _register(name, application):
    entry = catalog.BACKBONES[name]
    register_backbone(
        BackboneSpec(
            name=name,
            build=functools.partial(_build_application, application, entry["preprocessing"]),
            preprocessing=entry["preprocessing"],
            boundaries=dict(entry["boundaries"]),
            default_input_shape=tuple(entry["default_input_shape"]),
            pretrained=tuple(entry["pretrained"]),
        )
    )


_register("vgg16", keras.applications.VGG16)
_register("resnet50", keras.applications.ResNet50)
_register("mobilenet_v2", keras.applications.MobileNetV2)
_register("efficientnet_b0", keras.applications.EfficientNetB0)
