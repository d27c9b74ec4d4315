"""Serializable layers that zoo models carry inside them.

Every model built by zoo takes raw pixels in 0..255; the preprocessing a backbone
expects is the first layer of the backbone, so callers never apply it by hand.

Example:
    >>> import numpy as np
    >>> from zoo.models.layers import ImagePreprocessing
    >>> float(ImagePreprocessing("tf")(np.full((1, 2, 2, 3), 255.0)).numpy().max())
    1.0
"""

from __future__ import annotations

import keras
from keras import ops

# Per-channel means and standard deviations on 0..255 RGB ImageNet pixels.
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)

PREPROCESSING_MODES = ("caffe", "torch", "tf", "lite", "unit", "none")


@keras.saving.register_keras_serializable(package="zoo")
class ImagePreprocessing(keras.layers.Layer):
    """Maps 0..255 RGB pixels to what a backbone was trained on.

    Args:
        mode: "caffe" (RGB->BGR, ImageNet mean subtracted: VGG16, ResNet50),
            "torch" (0..1 then ImageNet mean/std), "tf" (-1..1: MobileNetV2),
            "lite" ((x - 127) / 128: EfficientNet-Lite, as its TensorFlow Lite
            reference), "unit" (0..1) or "none" (unchanged: EfficientNet normalizes itself).
        **kwargs: Standard layer arguments (`name`, `dtype`).

    Example:
        >>> import numpy as np
        >>> pixels = np.array([[[[0.0, 127.5, 255.0]]]], "float32")
        >>> ImagePreprocessing("tf")(pixels).numpy().tolist()
        [[[[-1.0, 0.0, 1.0]]]]
        >>> ImagePreprocessing("lite")(pixels).numpy().tolist()
        [[[[-0.9921875, 0.00390625, 1.0]]]]
        >>> [round(float(v), 2) for v in ImagePreprocessing("caffe")(pixels).numpy().ravel()]  # BGR, mean subtracted
        [151.06, 10.72, -123.68]
    """

    def __init__(self, mode: str = "none", **kwargs):
        super().__init__(**kwargs)
        if mode not in PREPROCESSING_MODES:
            raise ValueError(
                f"`mode` must be one of {PREPROCESSING_MODES}. Received: mode={mode!r}"
            )
        self.mode = mode

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(_CAFFE_BGR_MEAN, x.dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, x.dtype)
            std = ops.convert_to_tensor(_TORCH_STD, x.dtype)
            return (x / 255.0 - mean) / std
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "lite":
            return (x - 127.0) / 128.0
        if self.mode == "unit":
            return x / 255.0
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
