"""The `tf.data` pipeline: (images, {head: targets}) batches for multi-output models.

Example:
    >>> import zoo
    >>> from zoo.data import from_folders, make_dataset
    >>> df = from_folders("clothing", heads=["color", "type"], separator="_")  # doctest: +SKIP
    >>> heads = [zoo.Head("color", ["black", "blue", "red"], kind="multiclass"),
    ...          zoo.Head("type", ["dress", "jeans", "shirt"], kind="multiclass")]
    >>> dataset = make_dataset(df, heads, image_size=(96, 96), augment=True)  # doctest: +SKIP
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf

from zoo.data.augment import build_augmenter
from zoo.data.dataset import ImageDataset, Replay
from zoo.data.encoding import ON_ERROR
from zoo.data.errors import DataError, problem_list
from zoo.data.images import decode_rgb
from zoo.data.mixing import split_mixing
from zoo.data.validation import check_rows
from zoo.models.heads import as_heads

RESIZE_MODES = ("stretch", "pad", "crop")
logger = logging.getLogger(__name__)


def resize_image(image, image_size, resize: str = "stretch", antialias: bool = True):
    """Resizes one uint8/float image to `image_size` as float32 0..255.

    Args:
        image: (height, width, 3) tensor.
        image_size: (height, width).
        resize: "stretch" (ignore aspect ratio), "pad" (keep it, pad with black)
            or "crop" (keep it, center-crop the excess).
        antialias: Filter when shrinking (sharper small images from big photos).
    """
    if resize not in RESIZE_MODES:
        raise ValueError(f"`resize` must be one of {RESIZE_MODES}. Received: resize={resize!r}")
    if resize == "pad":
        return _fit_and_pad(image, image_size, antialias)
    image = tf.cast(image, tf.float32)
    resized = keras.ops.image.resize(
        image,
        image_size,
        interpolation="bilinear",
        antialias=antialias,
        crop_to_aspect_ratio=resize == "crop",
        pad_to_aspect_ratio=resize == "pad",
        fill_value=0.0,
    )
    return tf.clip_by_value(resized, 0.0, 255.0)


def _fit_and_pad(image, image_size, antialias: bool):
    """Resizes to fit inside `image_size` keeping the aspect ratio, then pads with black around it.

    The image is resized before it is padded, so that a 20000x10 strip never
    becomes a 20000x20000 square first.
    """
    target = tf.constant([int(image_size[0]), int(image_size[1])], tf.int32)
    shape = tf.shape(image)[:2]
    scale = tf.reduce_min(tf.cast(target, tf.float64) / tf.cast(shape, tf.float64))
    fitted = tf.clip_by_value(tf.cast(tf.round(tf.cast(shape, tf.float64) * scale), tf.int32), 1, target)
    resized = tf.image.resize(tf.cast(image, tf.float32), fitted, method="bilinear", antialias=antialias)
    offset = (target - fitted) // 2
    padded = tf.image.pad_to_bounding_box(resized, offset[0], offset[1], target[0], target[1])
    return tf.clip_by_value(padded, 0.0, 255.0)


def _augment_batch(augmenter, mixing=None):
    """Augments each batch's images, then mixes images and targets (MixUp, CutMix)."""

    def apply(batch, seed):
        images, rest = (batch[0], batch[1:]) if isinstance(batch, tuple) else (batch, ())
        if augmenter is not None:
            images = tf.clip_by_value(augmenter(images, seed), 0.0, 255.0)
        if mixing is not None:
            images, rest = mixing(images, rest, seed)
        return (images, *rest) if isinstance(batch, tuple) else images

    return apply


def images_dataset(
    paths,
    labels=None,
    needs_pillow=None,
    image_size=(224, 224),
    batch_size: int = 32,
    shuffle: bool = True,
    augment=None,
    seed: int = 0,
    resize: str = "stretch",
    cache=False,
    drop_remainder: bool = False,
    antialias: bool = True,
    exif_transpose: bool = True,
    checked: bool = False,
) -> tf.data.Dataset:
    """Batches of decoded, resized images, with optional labels riding along.

    Args:
        paths: Image files (already checked, see `check_images`).
        labels: None, or a structure of arrays with one row per path (a dict
            of targets, a tuple of (targets, sample weights), ...).
        needs_pillow: Per path, decode with Pillow (from `check_images`, which
            must get the same `exif_transpose`).
        checked: Every file passed `check_images(check="full")` (see `decode_rgb`).
        Other arguments: as in `make_dataset`.

    Returns:
        A dataset of image batches, or of `(images, *labels)` batches.
    """
    paths = np.asarray([str(p) for p in paths])
    if needs_pillow is None:
        needs_pillow = np.zeros(len(paths), dtype=bool)
    labels = () if labels is None else (labels if isinstance(labels, tuple) else (labels,))
    dataset = tf.data.Dataset.from_tensor_slices((paths, np.asarray(needs_pillow, dtype=bool), *labels))

    def load(path, pillow, *rest):
        image = decode_rgb(path, pillow, image_size, exif_transpose=exif_transpose, checked=checked)
        image = resize_image(image, image_size, resize, antialias)
        return (image, *rest) if rest else image

    if cache is not False:
        dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
        dataset = dataset.cache() if cache is True else dataset.cache(str(cache))
    if shuffle:
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    if cache is False:
        dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    augment, mixing = split_mixing(augment)
    if mixing is not None and not labels:
        raise ValueError(f"{mixing.mode} mixes targets: it needs labelled images (heads). Received: heads=None")
    augmenter = build_augmenter(augment, seed)
    if augmenter is not None or mixing is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip(dataset, seeds).map(
            _augment_batch(augmenter, mixing), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def make_dataset(
    df,
    heads,
    directory=None,
    image_size=(224, 224),
    batch_size: int = 32,
    shuffle: bool = True,
    augment=None,
    seed: int = 0,
    resize: str = "stretch",
    cache=False,
    on_error: str = "raise",
    check: str = "full",
    allow_empty: bool = False,
    sample_weights: dict | None = None,
    drop_remainder: bool = False,
    antialias: bool = True,
    exif_transpose: bool = True,
) -> ImageDataset:
    """Builds a dataset of `(images, {head: targets})` batches.

    Files are checked before anything else: every missing or unreadable file
    and every bad label is reported together, or, with `on_error="skip"`,
    dropped and counted (`skipped` lists them, and a warning is logged).

    Args:
        df: Normalized DataFrame (`zoo.data.sources`): `filename` + a labels
            column per head.
        heads: `zoo.Head` list or `{name: classes}` (multilabel); None for
            unlabeled images (batches are then images only).
        directory: Base folder of relative file names.
        image_size: (height, width) of the output images.
        batch_size: Images per batch.
        shuffle: Reshuffle every epoch (deterministic for `seed`).
        augment: None, True, a dict of factors or a callable
            (see `zoo.data.augment.build_augmenter`). A dict may also name
            "mixup" or "cutmix" with its Beta alpha (`zoo.data.mixing`): each
            batch is then mixed, images and every head's targets (and sample
            weights) with the same lambda per sample, after the other
            augmentations.
        seed: Seed for shuffling and augmentation.
        resize: "stretch", "pad" or "crop".
        cache: False, True (memory) or a file path: cache decoded, resized images.
        on_error: "raise" or "skip" for bad files and labels.
        check: "full", "header" or "none" (see `check_images`).
        allow_empty: Accept images with no label for multilabel heads.
        sample_weights: Optional `{head: per-row weights}` aligned with `df`
            (see `zoo.data.imbalance.sample_weights`); batches then carry them.
        drop_remainder: Drop the last incomplete batch.
        antialias: Antialias when shrinking images.
        exif_transpose: Rotate or mirror each photo by its EXIF orientation, as
            a photo viewer shows it (`PIL.ImageOps.exif_transpose`); False
            decodes the stored pixels as they are. Needs `check` "full" or
            "header" (with "none" no file is opened before training).

    Returns:
        An `ImageDataset`: a `tf.data.Dataset` for `model.fit`, `predict` and
        `evaluate`, whose images are float32 0..255 of shape (batch, h, w, 3)
        and targets float32. Its `files` are the files it reads, in unshuffled
        order, `skipped` the rows and files left out with their reasons, and
        `replay` what `zoo.fit_staged`'s feature cache needs.

    Example:
        >>> import tempfile, pandas as pd
        >>> from PIL import Image
        >>> folder = tempfile.mkdtemp()
        >>> Image.new("RGB", (8, 8)).save(f"{folder}/black.png")
        >>> df = pd.DataFrame({"filename": ["black.png", "absent.png"], "tags": [("a",), ("b",)]})
        >>> data = make_dataset(df, {"tags": ["a", "b"]}, directory=folder, image_size=(4, 4), on_error="skip")
        >>> len(data), [f.endswith("black.png") for f in data.files], len(data.skipped)
        (1, [True], 1)
        >>> data.skipped[0].endswith("absent.png: file not found")
        True
    """
    heads = as_heads(heads) if heads else []
    if on_error not in ON_ERROR:
        raise ValueError(f"`on_error` must be one of {ON_ERROR}. Received: on_error={on_error!r}")
    checked = check_rows(df, heads, directory, check=check, allow_empty=allow_empty, exif_transpose=exif_transpose)
    skipped = checked.label_problems + checked.file_problems
    if skipped and on_error == "raise":
        raise DataError(checked.message())
    report = checked.kept_images()
    encoded, paths = checked.encoded, report.paths
    if skipped:
        logger.warning("Skipped %d of %d rows:\n%s", len(skipped), len(df), problem_list(skipped))
    ok = report.ok
    if not ok.any():
        raise DataError("No usable images are left.\n" + problem_list(skipped))

    labels = None
    if heads:
        labels = {name: values[ok] for name, values in encoded.targets.items()}
        if sample_weights is not None:
            weights = {
                h.name: np.asarray(sample_weights[h.name], "float32")[encoded.kept][ok] for h in heads
            }
            labels = (labels, weights)
    kept = np.asarray(paths)[ok]
    decoding = {"needs_pillow": report.needs_pillow[ok], "image_size": image_size, "batch_size": batch_size,
                "resize": resize, "antialias": antialias, "exif_transpose": exif_transpose,
                "checked": check == "full"}
    dataset = images_dataset(kept, labels, shuffle=shuffle, augment=augment, seed=seed, cache=cache,
                             drop_remainder=drop_remainder, **decoding)
    replay = Replay(
        # The same rows, decoded the same way, in file order and without augmentation.
        unshuffled=lambda: images_dataset(kept, labels, shuffle=False, **decoding),
        shuffle=shuffle, seed=seed, batch_size=batch_size, drop_remainder=drop_remainder,
        augmented=augment not in (None, False),
    )
    return ImageDataset(dataset, files=kept, skipped=skipped, replay=replay)
