"""Decoding image files by content (never by extension) with the same pixels as Pillow.

Every file is decoded as Pillow's `convert("RGB")` shows it, after the EXIF
orientation is applied (as a photo viewer shows it) unless `exif_transpose=False`.
Plain RGB or grayscale JPEG and 8-bit PNG are decoded by TensorFlow (fast, and
verified to give Pillow's pixels); every other kind is decoded by Pillow: CMYK or
YCCK JPEG, 16-bit grayscale PNG, BMP (palette and 1-bit included), GIF, WebP,
TIFF and any other format Pillow reads, and every file with an EXIF rotation or
mirroring.

Example:
    >>> from PIL import Image
    >>> Image.new("CMYK", (4, 3), (0, 255, 0, 0)).save("/tmp/cmyk.jpg")
    >>> decode_rgb("/tmp/cmyk.jpg", needs_pillow=True).shape
    TensorShape([3, 4, 3])
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps


JPEG_END = b"\xff\xd9"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


# Images of more pixels than this are shrunk as soon as they are decoded, by the largest whole factor
# that keeps them at least as large as the size they are resized to (JPEG: at a reduced DCT scale).
REDUCE_PIXELS = 2**24
ORIENTATION_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                         4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                         6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def reduction(width: int, height: int, target_size) -> int:
    """The whole factor a `width` x `height` image is shrunk by on decoding for `target_size` (1: none).

    Only images of more than `REDUCE_PIXELS` pixels are shrunk, and never below `target_size` either
    way round (an EXIF rotation may swap the sides).

    Example:
        >>> reduction(12000, 12000, (224, 224)), reduction(20000, 10, (224, 224)), reduction(640, 480, (32, 32))
        (53, 1, 1)
    """
    if target_size is None or width * height <= REDUCE_PIXELS:
        return 1
    side = max(int(s) for s in target_size)
    return max(1, min(width, height) // side)


def _shrunk(image, target_size):
    """`image` decoded, shrunk by `reduction` where it is large (JPEG data decoded at a reduced scale)."""
    factor = reduction(image.width, image.height, target_size)
    if factor == 1:
        return image
    if image.format == "JPEG":
        image.draft(None, (image.width // factor, image.height // factor))
        factor = reduction(image.width, image.height, target_size)
    image.load()
    if factor == 1:
        return image
    if image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK", "I", "F"):
        image = image.convert("RGB")
    return image.reduce(factor)


def pillow_rgb(path, exif_transpose: bool = True, target_size=None) -> np.ndarray:
    """Decodes any Pillow-readable file to a uint8 RGB array (first frame).

    Args:
        path: The file (str, bytes, or a 0-d array of either from `tf.numpy_function`).
        exif_transpose: Rotate or mirror by the EXIF orientation, as
            `PIL.ImageOps.exif_transpose` does.
        target_size: (height, width) the image will be resized to: an image
            of more than `REDUCE_PIXELS` pixels is shrunk as soon as it is
            decoded (see `reduction`), so that no float copy of it is made.

    Returns:
        A uint8 array of shape (height, width, 3): Pillow's `convert("RGB")`.

    Raises:
        ValueError: naming the file, when Pillow cannot decode it.

    Example:
        >>> from PIL import Image
        >>> Image.new("P", (5, 2)).save("/tmp/palette.bmp")
        >>> pillow_rgb("/tmp/palette.bmp").shape
        (2, 5, 3)
    """
    if isinstance(path, np.ndarray):  # a 0-d array from tf.numpy_function
        path = path.item()
    if isinstance(path, bytes):
        path = path.decode()
    try:
        with Image.open(path) as image:
            if reduction(image.width, image.height, target_size) > 1:
                orientation = image.getexif().get(0x0112, 1) if exif_transpose else 1
                image = _shrunk(image, target_size)
                if orientation in ORIENTATION_TRANSPOSE:
                    image = image.transpose(ORIENTATION_TRANSPOSE[orientation])
            elif exif_transpose:
                image = ImageOps.exif_transpose(image)
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except Exception as error:  # Pillow raises many types for bad data.
        raise ValueError(f"Cannot decode image file {path}: {type(error).__name__}: {error}") from error


JPEG_SCALES = (1, 2, 4, 8)
# The IDCT Pillow's libjpeg uses by default: with it TensorFlow gives Pillow's pixels.
JPEG_DCT = "INTEGER_ACCURATE"


def _decode_jpeg_near(contents, shape, target_size, use=None, otherwise=None):
    """Decodes a JPEG at the smallest DCT scale (1, 1/2, 1/4, 1/8) still >= target_size.

    With `use`, calls `otherwise` where `use` is False, in the same switch.
    """
    scales = JPEG_SCALES if target_size is not None else (1,)
    branches = [
        (lambda scale=scale: tf.io.decode_jpeg(contents, channels=3, ratio=scale, dct_method=JPEG_DCT))
        for scale in scales
    ]
    index = tf.constant(0)
    if target_size is not None:
        size = tf.cast(shape[:2], tf.float32)
        target = tf.cast(tf.convert_to_tensor(target_size), tf.float32)
        fits = [tf.reduce_all(size / scale >= target) for scale in scales]
        index = tf.maximum(tf.reduce_sum(tf.cast(tf.stack(fits), tf.int32)) - 1, 0)  # fits is monotone: 1,..,1,0,..
    if use is not None:
        branches, index = [otherwise, *branches], tf.where(use, index + 1, 0)
    return branches[0]() if len(branches) == 1 else tf.switch_case(index, branches)


def _ends_with(contents, suffix: bytes):
    length = tf.strings.length(contents)
    tail = tf.strings.substr(contents, tf.maximum(length - len(suffix), 0), len(suffix))
    return tf.logical_and(length >= len(suffix), tf.equal(tail, suffix))


def _whole_jpeg(contents, shape):
    """Complete JPEG data (ends with its EOI marker) of 1 or 3 components (not CMYK or YCCK)."""
    return tf.logical_and(_ends_with(contents, JPEG_END), tf.logical_or(shape[2] == 1, shape[2] == 3))


def _whole_png(contents):
    """Complete PNG data (ends with IEND) that is not 16-bit grayscale."""
    signature = tf.equal(tf.strings.substr(contents, 0, len(PNG_SIGNATURE)), PNG_SIGNATURE)
    depth_and_color = tf.strings.substr(contents, 24, 2)  # IHDR bit depth and color type
    return tf.logical_and(
        tf.logical_and(signature, _ends_with(contents, PNG_END)), tf.not_equal(depth_and_color, b"\x10\x00")
    )


def _png_pixels(contents):
    """Width times height from a PNG's IHDR chunk (0 for data too short to hold one), as int64."""
    header = tf.strings.substr(contents, 16, 8)
    size = tf.io.decode_raw(tf.strings.substr(tf.strings.join([header, b"\0" * 8]), 0, 8), tf.uint8)
    size = tf.cast(size, tf.int64)
    width = size[0] * 2**24 + size[1] * 2**16 + size[2] * 2**8 + size[3]
    height = size[4] * 2**24 + size[5] * 2**16 + size[6] * 2**8 + size[7]
    return width * height


def decode_rgb(path, needs_pillow=False, target_size=None, exif_transpose: bool = True, checked: bool = False):
    """Decodes an image file to a uint8 (height, width, 3) tensor, by content.

    The pixels are Pillow's `convert("RGB")` of the file (first frame), after
    `PIL.ImageOps.exif_transpose` when `exif_transpose` is True. Plain RGB or
    grayscale JPEG and 8-bit PNG are decoded by TensorFlow, which gives the same
    pixels; files `check_images` marked are decoded by Pillow, and so is data
    TensorFlow cannot read whole (cut short, CMYK, 16-bit grayscale, other
    formats) where the check did not decode every file. 16-bit grayscale PNGs therefore
    clip to 255 as Pillow's conversion does. A file that cannot be decoded
    stops the pipeline with an error naming it.

    Args:
        path: Scalar string tensor.
        needs_pillow: Scalar bool tensor from `check_images`.
        target_size: Optional (height, width) the image will be resized to: a
            JPEG at least twice as large is decoded at a reduced DCT scale
            (much faster; the image is still at least `target_size`), and a
            PNG (or any file Pillow decodes) of more than `REDUCE_PIXELS`
            pixels is decoded by Pillow and shrunk by a whole factor at once
            (see `reduction`): a 12000x12000 PNG never takes a float copy.
        exif_transpose: Apply the EXIF orientation in Pillow's decode (files
            with one are routed there by `check_images`).
        checked: True when `check_images(check="full")` decoded the file with
            Pillow and set `needs_pillow`: TensorFlow then decodes it as routed.
            False looks at the bytes first (a little slower): data TensorFlow
            cannot read whole goes to Pillow, which decodes it or names the file.

    Returns:
        A uint8 tensor of shape (height, width, 3).

    Example:
        >>> from PIL import Image
        >>> Image.new("RGB", (5, 2), (200, 10, 30)).save("/tmp/red.png")
        >>> decode_rgb("/tmp/red.png").numpy()[0, 0].tolist()
        [200, 10, 30]
    """

    def with_pillow():
        decode = functools.partial(pillow_rgb, exif_transpose=exif_transpose,
                                   target_size=None if target_size is None else tuple(int(s) for s in target_size))
        return tf.numpy_function(decode, [path], tf.uint8, stateful=False)

    def png(contents, otherwise):
        """8-bit PNG by TensorFlow, unless it is so large that Pillow decodes and shrinks it first."""
        if target_size is None:
            return otherwise()
        return tf.cond(_png_pixels(contents) > REDUCE_PIXELS, with_pillow, otherwise)

    def as_routed():
        contents = tf.io.read_file(path)

        def jpeg():
            shape = tf.io.extract_jpeg_shape(contents)
            return _decode_jpeg_near(contents, shape, target_size)

        return tf.cond(tf.io.is_jpeg(contents), jpeg,
                       lambda: png(contents, lambda: tf.io.decode_png(contents, channels=3)))

    def by_content():
        contents = tf.io.read_file(path)

        def jpeg():
            shape = tf.io.extract_jpeg_shape(contents)
            return _decode_jpeg_near(contents, shape, target_size, _whole_jpeg(contents, shape), with_pillow)

        def whole_png():
            return tf.cond(_whole_png(contents), lambda: tf.io.decode_png(contents, channels=3), with_pillow)

        def png_file():
            return png(contents, whole_png)

        return tf.cond(tf.io.is_jpeg(contents), jpeg, png_file)

    image = tf.cond(tf.convert_to_tensor(needs_pillow), with_pillow, as_routed if checked else by_content)
    image.set_shape([None, None, 3])
    return image
