"""Backbones: headless feature extractors registered by name.

Example:
    >>> import zoo
    >>> zoo.list_backbones()  # doctest: +NORMALIZE_WHITESPACE
    ['compact_resnet', 'efficientnet_b0', 'efficientnet_lite0', 'efficientnet_lite1', 'efficientnet_lite2',
     'mobilenet_v2', 'resnet50', 'small_cnn', 'vgg16']
"""

from zoo.models.backbones import applications, compact_resnet, efficientnet_lite, small_cnn  # noqa: F401  (registers)
from zoo.models.backbones.base import (BackboneSpec, build_backbone, get_backbone_spec, register_backbone,
                                       resolve_weights)

__all__ = ["BackboneSpec", "build_backbone", "get_backbone_spec", "register_backbone", "resolve_weights"]
