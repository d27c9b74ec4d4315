"""Checks of a model file before Keras reads it: a complete `.keras` zip, an `.h5` within a size limit.

Example:
    >>> import os
    >>> default_h5_limit(__file__) == 16 * os.path.getsize(__file__)
    True
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import h5py



# Default `load_model(max_bytes=None)` limit on the data an `.h5` file declares: this many times its size.
H5_FILE_SIZE_MULTIPLE = 16


def default_h5_limit(path) -> int:
    """The default `load_model(max_bytes=None)` limit for an `.h5` file: 16 times the file's size.

    Weights stored as usual take about their declared size on disk, while a small
    file that declares much more (compressed or never-written data) could fill the
    memory when loaded. The limit depends on the file alone, never on how much
    memory happens to be free.

    Args:
        path: The `.h5` file.

    Returns:
        The limit in bytes.

    Example:
        >>> default_h5_limit(__file__) == 16 * os.path.getsize(__file__)
        True
    """
    return H5_FILE_SIZE_MULTIPLE * os.path.getsize(path)


def h5_declared_bytes(path) -> int:
    """Bytes the datasets of an HDF5 file declare, without reading their data.

    Example:
        >>> import h5py
        >>> with h5py.File("/tmp/declared.h5", "w") as f:
        ...     _ = f.create_dataset("w", shape=(1000, 1000), dtype="float32", chunks=True)
        >>> h5_declared_bytes("/tmp/declared.h5")
        4000000
    """
    sizes = []

    def add(_, item):
        if isinstance(item, h5py.Dataset):
            sizes.append(int(item.size or 0) * item.dtype.itemsize)

    with h5py.File(path, "r") as f:
        f.visititems(add)
    return sum(sizes)


def check_max_bytes(max_bytes) -> None:
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0):
        raise ValueError(f"`max_bytes` must be a positive number of bytes or None. Received: max_bytes={max_bytes!r}")


def check_h5_size(path: Path, max_bytes) -> None:
    try:
        declared = h5_declared_bytes(path)
    except OSError as error:
        raise ValueError(f"Cannot load model: not a readable HDF5 file: {path} ({error})") from error
    limit = max_bytes if max_bytes is not None else default_h5_limit(path)
    if declared > limit:
        which = (f"the default limit, {H5_FILE_SIZE_MULTIPLE}x the file size ({path.stat().st_size:,} bytes)"
                 if max_bytes is None else "the given limit")
        raise ValueError(
            f"Refusing to load {path}: its datasets declare {declared:,} bytes, more than {limit:,} bytes "
            f"({which}). If you trust the file, raise the limit with "
            f"`zoo.load_model(path, max_bytes={declared})`. Received: max_bytes={max_bytes!r}"
        )


def check_keras_zip(path: Path) -> None:
    """A `.keras` file cut short has no zip directory at its end; Keras would say "not found"."""
    complete = zipfile.is_zipfile(path)
    if complete:
        try:
            with zipfile.ZipFile(path) as archive:
                size = path.stat().st_size
                complete = all(info.header_offset + info.compress_size <= size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            complete = False
    if not complete:
        raise ValueError(
            f"Cannot load model: not a complete .keras file: {path} (a .keras file is a zip archive; "
            "this one is cut short or not a zip at all)"
        )
