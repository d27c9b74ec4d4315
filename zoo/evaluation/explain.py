"""Grad-CAM heatmaps per head and class: where in the image a head found its evidence.

The heatmap of a class is the backbone's output feature map weighted by the
spatially averaged gradient of the class's score (its logit, or probability)
with respect to it, rectified, resized to the input size and scaled to 0..1.
The backbone is read from the model's card: the single trunk of a shared-trunk
model, or the branch `f"{head}_{backbone}"` of a model with one branch per head.

Example:
    >>> import numpy as np, zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["sea", "sunset"]},
    ...                   input_shape=(64, 64, 3), weights=None)
    >>> maps = zoo.explain(model, np.zeros((2, 64, 64, 3)), head="tags", class_name="sea")
    >>> maps.shape
    (2, 64, 64)
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.models.card import card_of
from zoo.models.card import heads_of

SCORES = ("logit", "probability")


def _head(model, head):
    heads = {h.name: h for h in heads_of(model)}
    if head is None and len(heads) == 1:
        return next(iter(heads.values()))
    if head not in heads:
        raise ValueError(f"`head` must be one of {sorted(heads)}. Received: head={head!r}")
    return heads[head]


def backbone_layer(model, head: str):
    """The backbone sub-model that feeds `head`, found from the model's card.

    Args:
        model: A zoo model.
        head: Head name.

    Returns:
        The backbone layer (a `keras.Model` nested in `model`).

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> backbone_layer(model, "tags").name
        'compact_resnet'
    """
    branches = card_of(model).branches
    if not branches:
        raise ValueError(f"Model {model.name!r} names no backbone in its card; Grad-CAM needs a zoo model.")
    if len(branches) == 1:
        return model.get_layer(next(iter(branches)))
    for layer_name, backbone in branches.items():
        if layer_name == f"{head}_{backbone}":
            return model.get_layer(layer_name)
    raise ValueError(f"No backbone branch of head {head!r} among {sorted(branches)}. Received: head={head!r}")


def _class_index(head, class_name) -> tuple[int, float] | None:
    """(output unit, sign) of a class; None for "the top class of each image"."""
    if class_name is None:
        return None
    if class_name not in head.classes:
        raise ValueError(f"`class_name` must be one of {list(head.classes)} for head {head.name!r}. "
                         f"Received: class_name={class_name!r}")
    if head.kind == "binary":  # one unit, the positive class; the negative class is its opposite
        return 0, (1.0 if class_name == head.classes[-1] else -1.0)
    return head.classes.index(class_name), 1.0


def gradcam_model(model, head: str, score: str = "logit") -> keras.Model:
    """A model from the images to (backbone feature map, the head's logits or probabilities)."""
    if score not in SCORES:
        raise ValueError(f"`score` must be one of {SCORES}. Received: score={score!r}")
    backbone = backbone_layer(model, head)
    features = backbone._inbound_nodes[-1].output_tensors[0]  # its call inside `model`
    output = model.get_layer(head).output
    if score == "logit":
        try:
            output = model.get_layer(f"{head}_logits").output
        except ValueError:
            pass  # no logits layer: probabilities
    return keras.Model(model.inputs, [features, output], name=f"{model.name}_gradcam_{head}")


def explain(model, images, head: str | None = None, class_name: str | None = None, score: str = "logit",
            batch_size: int = 32) -> np.ndarray:
    """Grad-CAM heatmaps of one head and class for a batch of images.

    Args:
        model: A zoo model (any architecture: shared trunk or one branch per head).
        images: (n, height, width, 3) array of 0..255 images at the model's input size.
        head: Head name (may be left out for single-head models).
        class_name: The class to explain; None: each image's most probable class
            (for binary heads, the positive class).
        score: "logit" (the class's pre-activation score, Grad-CAM's usual choice;
            for a binary head's negative class, the negated logit) or
            "probability".
        batch_size: Images per gradient pass.

    Returns:
        (n, height, width) float32 heatmaps in 0..1 (each scaled by its maximum;
        all zeros where no feature raised the class's score).

    Raises:
        ValueError: For an unknown head or class (the message lists the valid ones).

    Example:
        >>> import numpy as np, zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["sea", "sunset"]},
        ...                   input_shape=(64, 64, 3), weights=None)
        >>> maps = zoo.explain(model, np.zeros((1, 64, 64, 3)), head="tags", class_name="sunset")
        >>> float(maps.min()) >= 0.0 and float(maps.max()) <= 1.0
        True
    """
    head = _head(model, head)
    chosen = _class_index(head, class_name)
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[None]
    expected = card_of(model).input_shape
    if images.ndim != 4 or images.shape[1:] != expected:
        raise ValueError(f"`images` must be (n, {', '.join(map(str, expected))}). Received: shape {images.shape}")
    cam_model = gradcam_model(model, head.name, score)
    maps = [_gradcam_batch(cam_model, images[i:i + batch_size], chosen) for i in range(0, len(images), batch_size)]
    return np.concatenate(maps) if maps else np.zeros((0, *expected[:2]), "float32")


def _gradcam_batch(cam_model, images, chosen) -> np.ndarray:
    images = tf.constant(images)
    with tf.GradientTape() as tape:
        features, output = cam_model(images, training=False)
        output = tf.cast(output, tf.float32)
        if chosen is None:
            index = tf.argmax(output, axis=-1) if output.shape[-1] > 1 else tf.zeros(tf.shape(output)[:1], tf.int64)
            selected = tf.gather(output, index, axis=1, batch_dims=1)
        else:
            selected = output[:, chosen[0]] * chosen[1]
        total = tf.reduce_sum(selected)  # images are independent: one gradient pass for all
    gradients = tf.cast(tape.gradient(total, features), tf.float32)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features, tf.float32), axis=-1, keepdims=True))
    cam = tf.image.resize(cam, images.shape[1:3], method="bilinear")[..., 0]
    peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(cam, peak).numpy().clip(0.0, 1.0)


def overlay(image, heatmap, alpha: float = 0.45) -> np.ndarray:
    """An image with its heatmap blended over it in matplotlib's "jet" colors.

    Args:
        image: (height, width, 3) 0..255 image.
        heatmap: (height, width) values in 0..1.
        alpha: Weight of the heatmap colors.

    Returns:
        (height, width, 3) uint8 image.

    Example:
        >>> overlay(np.zeros((4, 4, 3)), np.ones((4, 4))).shape
        (4, 4, 3)
    """
    from matplotlib import colormaps

    colors = colormaps["jet"](np.clip(heatmap, 0.0, 1.0))[..., :3] * 255.0
    blended = (1.0 - alpha) * np.asarray(image, "float32") + alpha * colors
    return np.clip(np.rint(blended), 0, 255).astype("uint8")


def classes_to_explain(head, probabilities) -> list[str]:
    """The classes an overlay is made for: a multiclass head's top class; for
    multilabel and binary heads every class above its threshold, else the top one.

    Example:
        >>> from zoo.models.heads import Head
        >>> classes_to_explain(Head("tags", ["sea", "sun", "sky"]), np.array([0.9, 0.2, 0.7]))
        ['sea', 'sky']
    """
    probabilities = np.asarray(probabilities, "float32")
    if head.kind == "binary":
        positive = probabilities[0] > np.ravel(head.threshold)[0]
        negative = head.classes[0] if len(head.classes) == 2 else head.classes[-1]
        return [head.classes[-1] if positive else negative]
    if head.kind == "multilabel":
        above = [c for c, p, t in zip(head.classes, probabilities,
                                      np.broadcast_to(np.asarray(head.threshold, "float32"), probabilities.shape))
                 if p > t]
        if above:
            return above
    return [head.classes[int(np.argmax(probabilities))]]


def write_overlays(model, images, names, probabilities: dict, folder) -> list[Path]:
    """Writes one PNG per image, head and explained class (see `classes_to_explain`).

    Args:
        model: A zoo model.
        images: (n, height, width, 3) 0..255 images at the model's input size.
        names: n file stems (or identifiers) naming the PNGs.
        probabilities: {head: (n, units) probabilities} of these images.
        folder: Output folder (created).

    Returns:
        The written files, named `{name}_{head}_{class}.png`.

    Example:
        >>> write_overlays(model, images, ["a"], {"tags": probs}, "overlays")  # doctest: +SKIP
        [PosixPath('overlays/a_tags_sea.png')]
    """
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    images = np.asarray(images, "float32")
    for head in heads_of(model):
        wanted = [classes_to_explain(head, row) for row in np.asarray(probabilities[head.name])]
        for class_name in sorted({c for classes in wanted for c in classes}, key=head.classes.index):
            rows = [i for i, classes in enumerate(wanted) if class_name in classes]
            maps = explain(model, images[rows], head=head.name, class_name=class_name)
            for i, heatmap in zip(rows, maps):
                path = folder / _safe(f"{names[i]}_{head.name}_{class_name}.png")
                Image.fromarray(overlay(images[i], heatmap)).save(path)
                written.append(path)
    return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
