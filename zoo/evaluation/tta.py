"""Test-time augmentation: probabilities averaged over flipped (and cropped) views of each image.

"flip" averages each image with its horizontal mirror; "flip+crops" adds the
center and the four corner crops of `CROP_FRACTION` of the image (resized back
to the input size), each with its mirror: 12 views in all.

Example:
    >>> import numpy as np, zoo
    >>> from zoo.evaluation.tta import predict_tta
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
    ...                   weights=None)
    >>> predict_tta(model, np.zeros((2, 32, 32, 3)), tta="flip")["tags"].shape
    (2, 2)
"""

from __future__ import annotations

import keras
import numpy as np

TTA_MODES = ("flip", "flip+crops")
CROP_FRACTION = 0.875


def check_tta(tta):
    """`tta` itself when it is None or one of `TTA_MODES`; raises ValueError otherwise."""
    if tta is not None and tta not in TTA_MODES:
        raise ValueError(f"`tta` must be None or one of {TTA_MODES}. Received: tta={tta!r}")
    return tta


def views(images, tta: str = "flip") -> list:
    """The views of a batch that test-time augmentation averages over.

    Args:
        images: (n, height, width, 3) batch.
        tta: "flip" or "flip+crops".

    Returns:
        Batches of the same shape (backend tensors): the images and their mirrors
        first, then (with "flip+crops") the center and four corner crops, each
        resized to (height, width), and their mirrors.

    Example:
        >>> first, mirrored = views(np.arange(6.0).reshape(1, 1, 2, 3))
        >>> np.asarray(mirrored)[0, 0, :, 0].tolist()
        [3.0, 0.0]
    """
    check_tta(tta)
    images = keras.ops.convert_to_tensor(images, "float32")
    batch = [images]
    if tta == "flip+crops":
        height, width = int(images.shape[1]), int(images.shape[2])
        crop_h, crop_w = max(1, round(height * CROP_FRACTION)), max(1, round(width * CROP_FRACTION))
        down, right = height - crop_h, width - crop_w
        for top, left in ((down // 2, right // 2), (0, 0), (0, right), (down, 0), (down, right)):
            crop = images[:, top:top + crop_h, left:left + crop_w, :]
            batch.append(keras.ops.image.resize(crop, (height, width), interpolation="bilinear"))
    return [v for view in batch for v in (view, keras.ops.flip(view, axis=2))]


def _outputs(model, images) -> dict:
    """{output name: values} of a Keras model, or of an export's runtime (`zoo.io.export`)."""
    if isinstance(model, keras.Model):
        outputs = model.predict_on_batch(images)  # a compiled call: a third of an eager one's time
    else:
        outputs = model.predict(np.asarray(images))
    if isinstance(outputs, dict):
        return outputs
    return dict(zip(model.output_names, outputs if isinstance(outputs, (list, tuple)) else [outputs]))


def predict_tta(model, images, tta: str | None = "flip") -> dict:
    """The model's outputs averaged over the views of `images` (plain outputs when `tta` is None).

    Args:
        model: A Keras model (dict or list outputs), or an export opened with
            `zoo.io.export.runtimes.load_any`.
        images: (n, height, width, 3) batch at the model's input size.
        tta: None, "flip" or "flip+crops".

    Returns:
        {output name: (n, units) numpy array}.

    Example:
        >>> flip = predict_tta(model, images, tta="flip")  # doctest: +SKIP
        >>> plain = predict_tta(model, images, tta=None)  # doctest: +SKIP
    """
    check_tta(tta)
    if tta is None:
        return {k: np.asarray(v) for k, v in _outputs(model, images).items()}
    outputs = [_outputs(model, view) for view in views(images, tta)]
    return {name: np.mean([np.asarray(o[name], dtype="float32") for o in outputs], axis=0) for name in outputs[0]}
