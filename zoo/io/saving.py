"""Save and load models with their label metadata, atomically.

`.keras` files carry the model's card (`zoo.models.card.ModelCard`, as JSON) as an
extra `zoo_metadata.json` entry in the zip; `.h5` files as a `zoo_metadata` attribute
on the root group. Both stay loadable by plain Keras.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    >>> zoo.save_model(model, "/tmp/tags.keras")
    >>> zoo.model_info(zoo.load_model("/tmp/tags.keras"))["heads"]["tags"]["classes"]
    ['a', 'b']
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import tempfile
import warnings
import zipfile
from pathlib import Path

import h5py
import keras
from keras.src.legacy.saving import legacy_h5_format

from zoo.io import _keras2 as keras2_compat
from zoo.models.card import ModelCard, card_of, set_card

METADATA_ENTRY = "zoo_metadata.json"
METADATA_ATTRIBUTE = "zoo_metadata"
_FORMATS = (".keras", ".h5", ".hdf5")
# Temporaries of a save sit beside the destination: .<name>.zoo-partial-<pid>-<host>-<random>...
PARTIAL_MARKER = ".zoo-partial-"
# Default `load_model(max_bytes=None)` limit on the data an `.h5` file declares.
H5_FILE_SIZE_MULTIPLE = 16
H5_MEMORY_FRACTION = 0.25


def _model_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(
            f"Model files must end in .keras, .h5 or .hdf5. Received: path={str(path)!r}"
        )
    return "keras" if suffix == ".keras" else "h5"


def _append_keras_card(path: Path, card: ModelCard) -> None:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(METADATA_ENTRY, card.to_json())


def _copy_h5_without_optimizer(source: Path, destination: Path, card: ModelCard | None) -> None:
    """Copies a Keras `.h5` file minus its optimizer state, adding the model's card.

    Copying, not deleting: HDF5 does not give back the space of a deleted group,
    so the file would keep the optimizer's bytes (twice the weights for Adam).
    """
    with h5py.File(source, "r") as original, h5py.File(destination, "w") as copy:
        for key, value in original.attrs.items():
            copy.attrs[key] = value
        for name in original:
            if name != "optimizer_weights":
                original.copy(original[name], copy, name=name)
        if card is not None:
            copy.attrs[METADATA_ATTRIBUTE] = card.to_json()


def read_card(path) -> ModelCard | None:
    """The model card stored in a `.keras` or `.h5` file, without loading the model.

    Example:
        >>> read_card("/tmp/tags.keras").head("tags").kind
        'multilabel'
    """
    path = Path(path)
    if _model_format(path) == "keras":
        with zipfile.ZipFile(path) as archive:
            if METADATA_ENTRY not in archive.namelist():
                return None
            text = archive.read(METADATA_ENTRY)
    else:
        with h5py.File(path, "r") as f:
            text = f.attrs.get(METADATA_ATTRIBUTE)
    return ModelCard.from_json(text) if text is not None else None


def read_metadata(path) -> dict | None:
    """The model card stored in a `.keras` or `.h5` file as a dict (`ModelCard.to_dict`), or None.

    Example:
        >>> read_metadata("/tmp/tags.keras")["heads"]["tags"]["kind"]
        'multilabel'
    """
    card = read_card(path)
    return card.to_dict() if card is not None else None


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname()) or "host"


def _partial_path(path: Path, tag: str) -> Path:
    """A fresh temporary name beside `path`, with the suffix Keras needs."""
    token = secrets.token_hex(4)
    return path.with_name(f".{path.name}{PARTIAL_MARKER}{os.getpid()}-{_host()}-{token}{tag}{path.suffix}")


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # it exists, under another user
    return False


def remove_abandoned_partials(path) -> list[Path]:
    """Removes temporaries that killed saves of `path` left beside it.

    Only temporaries of this destination, written on this host by a process
    that no longer runs, are removed: a save still running is left alone.

    Args:
        path: The destination of `save_model`.

    Returns:
        The removed paths.

    Example:
        >>> remove_abandoned_partials("/tmp/nothing-saved-here.keras")
        []
    """
    path = Path(path)
    prefix = f".{path.name}{PARTIAL_MARKER}"
    removed = []
    if not path.parent.is_dir():
        return removed
    for candidate in path.parent.iterdir():
        if not candidate.name.startswith(prefix):
            continue
        pid, _, rest = candidate.name[len(prefix):].partition("-")
        if not pid.isdigit() or not rest.startswith(_host() + "-") or not _process_is_gone(int(pid)):
            continue
        try:
            candidate.unlink(missing_ok=True)
        except OSError:  # not ours to remove, or gone: the save goes on
            continue
        removed.append(candidate)
    return removed


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_model(model: keras.Model, path, card=False) -> None:
    """Saves `model` and its metadata (its model card) to a `.keras` or `.h5` file.

    The file is written beside the destination and moved over it only when
    complete, so an existing file is never left half-written. Its temporaries,
    named `.<name>.zoo-partial-...`, are removed on every exit; those of a
    save that was killed (even with SIGKILL) are removed by the next save of
    the same file. The file's permissions follow the umask, as for any new
    file (0644 with the usual umask 022). A `.keras` file
    holds everything, optimizer state included: use it to resume training. An
    `.h5` file holds the architecture, weights and training configuration but not
    the optimizer state, which Keras' `.h5` loader cannot restore for models with
    nested backbones.

    Args:
        model: The model to save.
        path: Destination ending in `.keras`, `.h5` or `.hdf5`.
        card: True, or the keyword arguments of `zoo.io.model_card.write_model_card`
            (`label_counts`, `report`, `plan`, `notes`): also write
            `MODEL_CARD.md` and `MODEL_CARD.json` beside the model.
    """
    path = Path(path)
    fmt = _model_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_partials(path)
    temporary, full = _partial_path(path, ""), _partial_path(path, ".full")
    try:
        model_card = card_of(model, infer=False)
        if fmt == "keras":
            model.save(temporary)
            if model_card is not None:
                _append_keras_card(temporary, model_card)
        else:
            # What model.save() runs for .h5, without its warning that .h5 is legacy: the user chose it.
            legacy_h5_format.save_model_to_hdf5(model, str(full))
            _copy_h5_without_optimizer(full, temporary, model_card)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
        full.unlink(missing_ok=True)
    if card:
        from zoo.io.model_card import write_model_card

        write_model_card(model, path.parent, **(card if isinstance(card, dict) else {}))


def _load_keras2_h5(path: Path, compile: bool, custom_objects, original_error: Exception):
    """Loads a Keras 2 `.h5` whose config Keras 3 misreads, from an upgraded copy."""
    with h5py.File(path, "r") as f:
        config = f.attrs.get("model_config")
        version = f.attrs.get("keras_version")
    if config is None:
        raise ValueError(
            f"{path} holds weights only (no model config); build the model and call "
            "`model.load_weights` instead."
        ) from original_error
    if not keras2_compat.is_keras2_version(version):
        raise original_error
    config = json.loads(config)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "model.h5"
        shutil.copyfile(path, copy)
        with h5py.File(copy, "r+") as f:
            f.attrs["model_config"] = json.dumps(keras2_compat.upgrade_model_config(config))
        try:
            return keras.models.load_model(copy, compile=compile, custom_objects=custom_objects)
        except Exception as compile_error:
            if not compile:
                raise
            warnings.warn(
                f"{path}: the saved training configuration does not compile under Keras 3 "
                f"({compile_error}); the model is loaded uncompiled."
            )
            return keras.models.load_model(copy, compile=False, custom_objects=custom_objects)


def _rebuild_mismatched_optimizer(model: keras.Model, path: Path) -> None:
    """Recompiles when Keras' `.h5` loader built the optimizer over the wrong variables.

    With nested sub-models the legacy loader builds the optimizer over the outer
    model's own variables only, and the next training step fails.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not optimizer.built:
        return
    known = {id(v) for v in optimizer._trainable_variables}
    if known == {id(v) for v in model.trainable_variables}:
        return
    warnings.warn(
        f"{path}: Keras cannot restore this .h5 file's optimizer state for a model with nested "
        "sub-models; training continues with a fresh optimizer (save as .keras to resume exactly)."
    )
    model.compile_from_config(model.get_compile_config())


def _available_memory() -> int:
    """Bytes of memory available to new allocations (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def default_h5_limit(path) -> int:
    """The default `load_model(max_bytes=None)` limit for an `.h5` file.

    The larger of 16 times the file's size and a quarter of the available memory:
    weights stored as usual take about their declared size on disk, while a small
    file that declares much more (compressed or never-written data) could fill
    the memory when loaded.

    Args:
        path: The `.h5` file.

    Returns:
        The limit in bytes.

    Example:
        >>> default_h5_limit(__file__) >= 16 * os.path.getsize(__file__)
        True
    """
    return max(H5_FILE_SIZE_MULTIPLE * os.path.getsize(path), int(H5_MEMORY_FRACTION * _available_memory()))


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


def _check_max_bytes(max_bytes) -> None:
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0):
        raise ValueError(f"`max_bytes` must be a positive number of bytes or None. Received: max_bytes={max_bytes!r}")


def _check_h5_size(path: Path, max_bytes) -> None:
    try:
        declared = h5_declared_bytes(path)
    except OSError as error:
        raise ValueError(f"Cannot load model: not a readable HDF5 file: {path} ({error})") from error
    limit = max_bytes if max_bytes is not None else default_h5_limit(path)
    if declared > limit:
        which = (
            f"the default limit, the larger of {H5_FILE_SIZE_MULTIPLE}x the file size "
            f"({path.stat().st_size:,} bytes) and {H5_MEMORY_FRACTION:.0%} of the available memory"
            if max_bytes is None else "the given limit"
        )
        raise ValueError(
            f"Refusing to load {path}: its datasets declare {declared:,} bytes, more than {limit:,} bytes "
            f"({which}). If you trust the file, raise the limit with "
            f"`zoo.load_model(path, max_bytes={declared})`. Received: max_bytes={max_bytes!r}"
        )


def _check_keras_zip(path: Path) -> None:
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


def load_model(
    path, compile: bool = True, custom_objects: dict | None = None, max_bytes: int | None = None
) -> keras.Model:
    """Loads a `.keras` or `.h5` model, zoo's or plain Keras 2 or 3, with its metadata.

    The file is checked before Keras reads it: a `.keras` file cut short is
    refused by name, and so is an `.h5` file whose datasets declare more bytes
    than `max_bytes` (a small file declaring huge, never-written or compressed
    data would otherwise fill the memory).

    Args:
        path: The model file.
        compile: Restore the training configuration saved with the model.
        custom_objects: Extra custom classes or functions the file needs.
        max_bytes: For `.h5` files, the most bytes their datasets may declare
            in all. None: the larger of 16 times the file's size and a quarter
            of the available memory (see `default_h5_limit`); raise it to load
            a trusted file that declares more.

    Returns:
        The model; `zoo.model_info(model)` describes its heads.

    Raises:
        FileNotFoundError: No file at `path`.
        ValueError: A `.keras` file that is not a complete zip archive, or an
            `.h5` file that is unreadable or declares more than the limit.
    """
    path = Path(path)
    fmt = _model_format(path)
    _check_max_bytes(max_bytes)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}.")
    if fmt == "keras":
        _check_keras_zip(path)
    else:
        _check_h5_size(path, max_bytes)
    try:
        model = keras.models.load_model(path, compile=compile, custom_objects=custom_objects)
    except Exception as error:
        if fmt != "h5":
            raise
        model = _load_keras2_h5(path, compile, custom_objects, error)
    if fmt == "h5" and compile:
        _rebuild_mismatched_optimizer(model, path)
    card = read_card(path)
    if card is not None:
        set_card(model, card)
    return model
