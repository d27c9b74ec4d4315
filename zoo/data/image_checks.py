"""The file check before training: every missing, unreadable or truncated image found at once.

It also records each file's format, mode and EXIF orientation, which decide who
decodes it (`needs_pillow`): TensorFlow for plain RGB or grayscale JPEG and 8-bit
PNG, Pillow for everything else (see `zoo.data.images`).

Example:
    >>> report = check_images(["/no/such.jpg"])
    >>> report.problems
    {'/no/such.jpg': 'file not found'}
    >>> needs_pillow("JPEG", "CMYK"), needs_pillow("PNG", "RGB")
    (True, False)
"""

from __future__ import annotations

import dataclasses
import errno
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

# (format, mode) pairs TensorFlow decodes to the same pixels as Pillow's convert("RGB").
TF_MODES = {
    "JPEG": frozenset({"RGB", "L"}),
    "MPO": frozenset({"RGB", "L"}),  # JPEG with more pictures after the first (cameras)
    "PNG": frozenset({"RGB", "RGBA", "L", "LA", "P", "1"}),
}
CHECKS = ("full", "header", "none")
EXIF_ORIENTATION = 0x0112


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
        sizes: Per path, (width, height) as stored in the file ((0, 0) if unknown).
    """

    paths: list
    problems: dict
    needs_pillow: np.ndarray
    formats: list = dataclasses.field(default_factory=list)
    modes: list = dataclasses.field(default_factory=list)
    orientations: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    sizes: list = dataclasses.field(default_factory=list)

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
    size: tuple = (0, 0)


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
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            return _Found("empty file (0 bytes)")
        with Image.open(path) as image:
            image_format, mode, size = image.format or "", image.mode, image.size
            if depth == "full":
                # Decoding at reduced scale still reads every byte: truncation is caught.
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
            found = _Found(None, image_format, mode, _orientation(image, depth == "full"), size)
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
        >>> Image.new("CMYK", (4, 3)).save("/tmp/cmyk_check.jpg")
        >>> report = check_images(["/tmp/cmyk_check.jpg"])
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
        sizes=[f.size for f in found],
    )
