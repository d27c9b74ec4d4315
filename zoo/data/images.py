"""Image files: a check that finds every missing or unreadable file before training,
and decoding by content (never by extension) with the same pixels as Pillow.

Example:
    >>> from zoo.data.images import check_images
    >>> report = check_images(["/no/such.jpg"])
    >>> report.problems
    {'/no/such.jpg': 'file not found'}
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf
from PIL import Image

# Formats `tf.io.decode_image` reads; anything else Pillow can open is decoded by Pillow.
TF_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "BMP"})
CHECKS = ("full", "header", "none")


@dataclasses.dataclass
class ImageCheck:
    """What `check_images` found.

    Attributes:
        paths: The checked paths, in order.
        problems: {path: reason} for files that cannot be used.
        needs_pillow: Per path, True where TensorFlow cannot decode the format.
    """

    paths: list
    problems: dict
    needs_pillow: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of usable paths."""
        return np.array([p not in self.problems for p in self.paths], dtype=bool)

    def summary(self, limit: int = 20) -> str:
        """A message listing the problems, at most `limit` of them."""
        lines = [f"  {path}: {reason}" for path, reason in list(self.problems.items())[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return f"{len(self.problems)} of {len(self.paths)} image file(s) cannot be used:\n" + "\n".join(lines)


def _check_one(path: str, depth: str):
    """(problem or None, needs_pillow) for one file."""
    try:
        with Image.open(path) as image:
            fmt = image.format
            if depth == "full":
                # Decoding at reduced scale still reads every byte: truncation is caught.
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except FileNotFoundError:
        return "file not found", False
    except IsADirectoryError:
        return "is a directory", False
    except Image.DecompressionBombError as error:
        return f"too large to decode safely ({error})", False
    except Exception as error:  # Pillow raises many types for bad data.
        return f"unreadable image ({type(error).__name__}: {error})", False
    return None, fmt not in TF_FORMATS


def check_images(paths, check: str = "full", workers: int = 8) -> ImageCheck:
    """Opens every image once and reports the ones that cannot be used.

    Args:
        paths: Image file paths.
        check: "full" decodes every file (finds truncated data), "header" reads
            headers only, "none" assumes every file is fine.
        workers: Threads used (Pillow releases the GIL while decoding).

    Returns:
        An `ImageCheck`.
    """
    if check not in CHECKS:
        raise ValueError(f"`check` must be one of {CHECKS}. Received: check={check!r}")
    paths = [str(p) for p in paths]
    if check == "none":
        return ImageCheck(paths, {}, np.zeros(len(paths), dtype=bool))
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda p: _check_one(p, check), paths))
    problems = {p: problem for p, (problem, _) in zip(paths, results) if problem}
    needs_pillow = np.array([pillow for _, pillow in results], dtype=bool)
    return ImageCheck(paths, problems, needs_pillow)


def pillow_rgb(path) -> np.ndarray:
    """Decodes any Pillow-readable file to a uint8 RGB array (first frame)."""
    if isinstance(path, np.ndarray):  # a 0-d array from tf.numpy_function
        path = path.item()
    if isinstance(path, bytes):
        path = path.decode()
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


JPEG_SCALES = (1, 2, 4, 8)


def _decode_jpeg_near(contents, target_size):
    """Decodes a JPEG at the smallest DCT scale (1/2, 1/4, 1/8) still >= target_size."""
    shape = tf.cast(tf.io.extract_jpeg_shape(contents)[:2], tf.float32)
    target = tf.cast(tf.convert_to_tensor(target_size), tf.float32)
    fits = [tf.reduce_all(shape / scale >= target) for scale in JPEG_SCALES]
    index = tf.reduce_sum(tf.cast(tf.stack(fits), tf.int32)) - 1  # fits is monotone: 1,..,1,0,..
    branches = [
        (lambda scale=scale: tf.io.decode_jpeg(contents, channels=3, ratio=scale)) for scale in JPEG_SCALES
    ]
    return tf.switch_case(tf.maximum(index, 0), branches)


def decode_rgb(path, needs_pillow=False, target_size=None):
    """Decodes an image file to a uint8 (height, width, 3) tensor, by content.

    JPEG (RGB, grayscale, CMYK), PNG (alpha, palette, grayscale, 16 bits), GIF
    (first frame) and BMP are decoded by TensorFlow; other formats by Pillow.
    16-bit PNGs keep their high byte (Pillow clips 16-bit grayscale instead).

    Args:
        path: Scalar string tensor.
        needs_pillow: Scalar bool tensor from `check_images`.
        target_size: Optional (height, width) the image will be resized to: a
            JPEG at least twice as large is decoded at a reduced DCT scale
            (much faster; the image is still at least `target_size`).

    Returns:
        A uint8 tensor of shape (height, width, 3).
    """

    def with_tensorflow():
        contents = tf.io.read_file(path)
        if target_size is None:
            return tf.io.decode_image(contents, channels=3, expand_animations=False)
        return tf.cond(
            tf.io.is_jpeg(contents),
            lambda: _decode_jpeg_near(contents, target_size),
            lambda: tf.io.decode_image(contents, channels=3, expand_animations=False),
        )

    def with_pillow():
        return tf.numpy_function(pillow_rgb, [path], tf.uint8, stateful=False)

    image = tf.cond(tf.convert_to_tensor(needs_pillow), with_pillow, with_tensorflow)
    image.set_shape([None, None, 3])
    return image
