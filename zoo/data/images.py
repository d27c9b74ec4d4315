"""Image files: a check that finds every missing or unreadable file before training,
and decoding by content (never by extension) with the same pixels as Pillow.

Every file is decoded as Pillow's `convert("RGB")` shows it, after the EXIF
orientation is applied (as a photo viewer shows it) unless `exif_transpose=False`.
Plain RGB or grayscale JPEG and 8-bit PNG are decoded by TensorFlow (fast, and
verified to give Pillow's pixels); every other kind is decoded by Pillow: CMYK or
YCCK JPEG, 16-bit grayscale PNG, BMP (palette and 1-bit included), GIF, WebP,
TIFF and any other format Pillow reads, and every file with an EXIF rotation or
mirroring.

Example:
    >>> from zoo.data.images import check_images
    >>> report = check_images(["/no/such.jpg"])
    >>> report.problems
    {'/no/such.jpg': 'file not found'}
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

# (format, mode) pairs TensorFlow decodes to the same pixels as Pillow's convert("RGB").
TF_MODES = {
    "JPEG": frozenset({"RGB", "L"}),
    "MPO": frozenset({"RGB", "L"}),  # JPEG with more pictures after the first (cameras)
    "PNG": frozenset({"RGB", "RGBA", "L", "LA", "P", "1"}),
}
CHECKS = ("full", "header", "none")
EXIF_ORIENTATION = 0x0112
JPEG_END = b"\xff\xd9"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


@dataclasses.dataclass
class ImageCheck:
    """What `check_images` found.

    Attributes:
        paths: The checked paths, in order.
        problems: {path: reason} for files that cannot be used.
        needs_pillow: Per path, True where the file is decoded by Pillow
            (TensorFlow would give other pixels, or cannot read it).
        formats: Per path, Pillow's format name ("JPEG", "PNG", ...; "" if unknown).
        modes: Per path, Pillow's mode ("RGB", "CMYK", "P", "1", "I;16", ...; "" if unknown).
        orientations: Per path, the EXIF orientation (1 = upright, 0 = unknown).
    """

    paths: list
    problems: dict
    needs_pillow: np.ndarray
    formats: list = dataclasses.field(default_factory=list)
    modes: list = dataclasses.field(default_factory=list)
    orientations: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int32))

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


@dataclasses.dataclass(frozen=True)
class _Found:
    problem: str | None = None
    format: str = ""
    mode: str = ""
    orientation: int = 0


def needs_pillow(image_format: str, mode: str, orientation: int = 1, exif_transpose: bool = True) -> bool:
    """Whether a file must be decoded by Pillow to get Pillow's pixels.

    Args:
        image_format: Pillow's format name, e.g. "JPEG".
        mode: Pillow's mode, e.g. "CMYK".
        orientation: The EXIF orientation (2 to 8 rotate or mirror the image).
        exif_transpose: Whether the EXIF orientation is applied.

    Returns:
        True unless TensorFlow decodes this kind of file to the same pixels.

    Example:
        >>> needs_pillow("JPEG", "CMYK"), needs_pillow("JPEG", "RGB"), needs_pillow("JPEG", "RGB", 6)
        (True, False, True)
    """
    if exif_transpose and 2 <= orientation <= 8:
        return True
    return mode not in TF_MODES.get(image_format, ())


def _orientation(image, loaded: bool) -> int:
    """The EXIF orientation, without reading a PNG's image data for an eXIf chunk after it."""
    if image.format == "PNG" and "exif" not in image.info and not loaded:
        return 1
    return int(image.getexif().get(EXIF_ORIENTATION, 1))


def _link_problem(path: str) -> str | None:
    """Why a symbolic link cannot be read as an image, or None if `path` is no link or fine."""
    if not os.path.islink(path):
        return None
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
        return f"dangling symbolic link (to {os.readlink(path)}, which does not exist)"
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if os.path.isdir(target) and os.path.commonpath([folder, target]) == target:
        return f"symbolic link loop (back to the folder {target} above it)"
    return None


def _check_one(path: str, depth: str) -> _Found:
    """What opening (and with depth="full", decoding) one file finds."""
    try:
        with Image.open(path) as image:
            image_format, mode = image.format or "", image.mode
            if depth == "full":
                # Decoding at reduced scale still reads every byte: truncation is caught.
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
            found = _Found(None, image_format, mode, _orientation(image, depth == "full"))
    except FileNotFoundError:
        return _Found(_link_problem(path) or "file not found")
    except IsADirectoryError:
        return _Found(_link_problem(path) or "is a directory")
    except OSError as error:
        if error.errno != errno.ELOOP:
            return _Found(f"unreadable image ({type(error).__name__}: {error})")
        return _Found(_link_problem(path) or "symbolic link loop")
    except Image.DecompressionBombError as error:
        return _Found(f"too large to decode safely ({error})")
    except Exception as error:  # Pillow raises many types for bad data.
        return _Found(f"unreadable image ({type(error).__name__}: {error})")
    return found


def check_images(paths, check: str = "full", workers: int = 8, exif_transpose: bool = True) -> ImageCheck:
    """Opens every image once, reports the ones that cannot be used and picks each decoder.

    Args:
        paths: Image file paths.
        check: "full" decodes every file (finds truncated data), "header" reads
            headers only, "none" opens nothing and assumes every file is fine
            (JPEG and PNG are then decoded by TensorFlow unless their content
            needs Pillow; EXIF orientations are not read).
        workers: Threads used (Pillow releases the GIL while decoding).
        exif_transpose: Route files with an EXIF rotation or mirroring to
            Pillow, which applies it (see `decode_rgb`).

    Returns:
        An `ImageCheck`.

    Example:
        >>> from PIL import Image
        >>> Image.new("CMYK", (4, 3)).save("/tmp/cmyk.jpg")
        >>> report = check_images(["/tmp/cmyk.jpg"])
        >>> report.modes, report.needs_pillow
        (['CMYK'], array([ True]))
    """
    if check not in CHECKS:
        raise ValueError(f"`check` must be one of {CHECKS}. Received: check={check!r}")
    paths = [str(p) for p in paths]
    if check == "none":
        found = [_Found() for _ in paths]
    else:
        with ThreadPoolExecutor(workers) as pool:
            found = list(pool.map(lambda p: _check_one(p, check), paths))
    problems = {p: f.problem for p, f in zip(paths, found) if f.problem}
    pillow = [
        bool(f.format) and needs_pillow(f.format, f.mode, f.orientation, exif_transpose) for f in found
    ]
    return ImageCheck(
        paths,
        problems,
        np.array(pillow, dtype=bool),
        formats=[f.format for f in found],
        modes=[f.mode for f in found],
        orientations=np.array([f.orientation for f in found], dtype=np.int32),
    )


def pillow_rgb(path, exif_transpose: bool = True) -> np.ndarray:
    """Decodes any Pillow-readable file to a uint8 RGB array (first frame).

    Args:
        path: The file (str, bytes, or a 0-d array of either from `tf.numpy_function`).
        exif_transpose: Rotate or mirror by the EXIF orientation, as
            `PIL.ImageOps.exif_transpose` does.

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
            if exif_transpose:
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
            (much faster; the image is still at least `target_size`).
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
        decode = functools.partial(pillow_rgb, exif_transpose=exif_transpose)
        return tf.numpy_function(decode, [path], tf.uint8, stateful=False)

    def as_routed():
        contents = tf.io.read_file(path)

        def jpeg():
            shape = tf.io.extract_jpeg_shape(contents)
            return _decode_jpeg_near(contents, shape, target_size)

        return tf.cond(tf.io.is_jpeg(contents), jpeg, lambda: tf.io.decode_png(contents, channels=3))

    def by_content():
        contents = tf.io.read_file(path)

        def jpeg():
            shape = tf.io.extract_jpeg_shape(contents)
            return _decode_jpeg_near(contents, shape, target_size, _whole_jpeg(contents, shape), with_pillow)

        def png():
            return tf.cond(_whole_png(contents), lambda: tf.io.decode_png(contents, channels=3), with_pillow)

        return tf.cond(tf.io.is_jpeg(contents), jpeg, png)

    image = tf.cond(tf.convert_to_tensor(needs_pillow), with_pillow, as_routed if checked else by_content)
    image.set_shape([None, None, 3])
    return image
