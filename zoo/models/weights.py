"""Known weight files: manifest lookup, local folders, hash checks, download.

Example:
    >>> from zoo.models import weights
    >>> weights.find_record("vgg16")["file_name"]
    'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import keras

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
OFFLINE_ENV = "ZOO_OFFLINE"


class WeightsNotFoundError(FileNotFoundError):
    """A known weight file is neither on disk nor downloadable."""


@functools.lru_cache(maxsize=None)
def _manifest_file() -> Path:
    """`weights/manifest.json` of a source checkout, else the installed `zoo/_weights/` copy."""
    package = Path(__file__).resolve().parents[1]  # zoo/, this module being zoo/models/weights.py
    for candidate in (package.parent / "weights", package / "_weights"):
        if (candidate / "manifest.json").is_file():
            return candidate / "manifest.json"
    raise FileNotFoundError(f"weights/manifest.json is missing from the zoo installation at {package}.")


def load_manifest() -> list[dict]:
    """All records of `weights/manifest.json`."""
    return json.loads(_manifest_file().read_text())["weights"]


def find_record(
    backbone: str, dataset: str = "imagenet", include_top: bool = False, input_size: int | None = None
) -> dict:
    """The manifest record for a backbone's weights.

    Args:
        backbone: Registered backbone name.
        dataset: Data set the weights were trained on.
        include_top: Whether the file holds the classifier top.
        input_size: Input height, for families with one file per size
            (MobileNetV2); the closest available size is used.

    Returns:
        The record: file_name, url, hash_algorithm, file_hash, ...

    Raises:
        ValueError: No such record; the message lists the known ones.
    """
    records = [
        r
        for r in load_manifest()
        if r["backbone"] == backbone and r["dataset"] == dataset and r["include_top"] == include_top
    ]
    if not records:
        known = sorted({f"{r['backbone']}/{r['dataset']}" for r in load_manifest()})
        raise ValueError(
            f"No {dataset!r} weights are known for backbone {backbone!r} "
            f"(include_top={include_top}). Known weights: {', '.join(known)}. "
            f"Received: backbone={backbone!r}, weights={dataset!r}"
        )
    if input_size is not None and any("input_size" in r for r in records):
        return min(records, key=lambda r: abs(r["input_size"] - input_size))
    return records[0]


def search_dirs() -> list[Path]:
    """Folders searched for weight files, in order."""
    dirs = []
    if os.environ.get(WEIGHTS_DIR_ENV):
        dirs.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser())
    dirs.append(_manifest_file().parent)
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    dirs.append(Path(keras_home) / "models")
    return dirs


def file_hash(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_hash(path: str | os.PathLike, record: dict) -> None:
    """Raises ValueError when `path` does not match the record's hash."""
    if not record.get("file_hash"):
        return
    actual = file_hash(path, record["hash_algorithm"])
    if actual != record["file_hash"]:
        raise ValueError(
            f"Weight file {path} is corrupt or not the expected file: its "
            f"{record['hash_algorithm']} is {actual}, expected {record['file_hash']}. "
            f"Delete it, or replace it with a fresh copy of {record['url']}."
        )


def locate(record: dict) -> Path | None:
    """The first local copy of a record's file, hash-checked, or None."""
    for folder in search_dirs():
        candidate = folder / record["file_name"]
        if candidate.is_file():
            check_hash(candidate, record)
            return candidate
    return None


def fetch(record: dict) -> Path:
    """A local path to the record's file: found on disk, else downloaded.

    Raises:
        WeightsNotFoundError: Offline (or `ZOO_OFFLINE=1`) with no local copy;
            the message names the file and where to put it.
    """
    local = locate(record)
    if local is not None:
        return local
    where = "\n".join(f"  {folder / record['file_name']}" for folder in search_dirs())
    hint = (
        f"Download {record['url']} on a machine with internet access and put it at one of:\n{where}"
    )
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise WeightsNotFoundError(
            f"Weight file {record['file_name']} is not on disk and {OFFLINE_ENV} is set.\n{hint}"
        )
    try:
        path = keras.utils.get_file(
            record["file_name"],
            origin=record["url"],
            file_hash=record.get("file_hash"),
            cache_subdir="models",
        )
    except Exception as error:  # get_file raises bare Exception on network errors.
        raise WeightsNotFoundError(
            f"Could not download weight file {record['file_name']} ({error}).\n{hint}"
        ) from error
    return Path(path)


def resolve(backbone: str, weights, input_shape=None) -> str | None:
    """Turns a `weights` argument into a file path for `backbone`, or None.

    Args:
        backbone: Registered backbone name.
        weights: None (random initialization), "imagenet" or a path to a file.
        input_shape: The backbone's input shape, for size-specific files.

    Returns:
        None or the path of an existing weight file.
    """
    if weights is None:
        return None
    if weights == "imagenet":
        size = input_shape[0] if input_shape else None
        return str(fetch(find_record(backbone, "imagenet", include_top=False, input_size=size)))
    path = Path(os.fspath(weights)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"`weights` must be None, 'imagenet' or the path of an existing weight file. "
            f"Received: weights={os.fspath(weights)!r}"
        )
    return str(path)
