"""Save and load models with their label metadata, atomically.

A zoo model (`zoo.models.card.ZooModel`) carries its card in its own Keras config,
so `.keras` and `.h5` files are plain Keras files that keep the labels through
`keras.models.load_model` too. Files of the earlier layout (the card as an extra
`zoo_metadata.json` zip entry, or a `zoo_metadata` attribute of an `.h5` file's
root group) and Keras 2 `.h5` files load through `load_model`. A Sequential or subclassed
model, whose config cannot carry the card, is still saved with its card in that earlier layout.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    >>> zoo.save_model(model, "/tmp/tags.keras")
    >>> zoo.model_info(zoo.load_model("/tmp/tags.keras"))["heads"]["tags"]["classes"]
    ['a', 'b']
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import h5py
import keras

from zoo.io import _keras2 as keras2_compat
from zoo.io.file_checks import check_h5_size, check_keras_zip, check_max_bytes
from zoo.io.atomic import writing
from zoo.io.partials import partial_path
from zoo.models.card import ModelCard, ZooModel, card_of, set_card

# Where files of the earlier layout kept the card (read only).
METADATA_ENTRY = "zoo_metadata.json"
METADATA_ATTRIBUTE = "zoo_metadata"
_FORMATS = (".keras", ".h5", ".hdf5")


def _model_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(
            f"Model files must end in .keras, .h5 or .hdf5. Received: path={str(path)!r}"
        )
    return "keras" if suffix == ".keras" else "h5"


def _copy_h5_without_optimizer(source: Path, destination: Path) -> None:
    """Copies a Keras `.h5` file minus its optimizer state.

    Copying, not deleting: HDF5 does not give back the space of a deleted group,
    so the file would keep the optimizer's bytes (twice the weights for Adam).
    """
    with h5py.File(source, "r") as original, h5py.File(destination, "w") as copy:
        for key, value in original.attrs.items():
            copy.attrs[key] = value
        for name in original:
            if name != "optimizer_weights":
                original.copy(original[name], copy, name=name)


def _card_in_config(text) -> ModelCard | None:
    config = json.loads(text) if text is not None else None
    card = (config.get("config") or {}).get("card") if isinstance(config, dict) else None
    return ModelCard.from_dict(card) if card is not None else None


def read_card(path) -> ModelCard | None:
    """The model card stored in a `.keras` or `.h5` file, without loading the model.

    Reads the card in the model's config, or where files of the earlier layout kept it.

    Example:
        >>> read_card("/tmp/tags.keras").head("tags").kind
        'multilabel'
    """
    path = Path(path)
    if _model_format(path) == "keras":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            card = _card_in_config(archive.read("config.json")) if "config.json" in names else None
            legacy = archive.read(METADATA_ENTRY) if METADATA_ENTRY in names else None
    else:
        with h5py.File(path, "r") as f:
            card = _card_in_config(f.attrs.get("model_config"))
            legacy = f.attrs.get(METADATA_ATTRIBUTE)
    if card is None and legacy is not None:
        card = ModelCard.from_json(legacy)
    return card


def read_metadata(path) -> dict | None:
    """The model card stored in a `.keras` or `.h5` file as a dict (`ModelCard.to_dict`), or None.

    Example:
        >>> read_metadata("/tmp/tags.keras")["heads"]["tags"]["kind"]
        'multilabel'
    """
    card = read_card(path)
    return card.to_dict() if card is not None else None


def _card_beside_config(model) -> ModelCard | None:
    """The card of a model whose Keras config cannot carry it (Sequential or subclassed), or None.

    Such a card is written where files of the earlier layout kept it, which `load_model` reads.
    """
    card = card_of(model, infer=False)
    return card if card is not None and not isinstance(model, ZooModel) else None


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

    Example:
        >>> import tempfile, zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
        >>> folder = tempfile.mkdtemp()
        >>> save_model(model, f"{folder}/tags.h5", card=True)
        >>> sorted(p.name for p in Path(folder).iterdir())
        ['MODEL_CARD.json', 'MODEL_CARD.md', 'tags.h5']
    """
    path = Path(path)
    fmt = _model_format(path)
    beside = _card_beside_config(model)
    with writing(path) as temporary:
        if fmt == "keras":
            model.save(temporary)
            if beside is not None:
                with zipfile.ZipFile(temporary, "a") as archive:
                    archive.writestr(METADATA_ENTRY, beside.to_json())
        else:
            full = partial_path(path, ".full")
            try:
                keras2_compat.save_h5(model, full)
                _copy_h5_without_optimizer(full, temporary)
                if beside is not None:
                    with h5py.File(temporary, "a") as f:
                        f.attrs[METADATA_ATTRIBUTE] = beside.to_json()
            finally:
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
            in all. None: 16 times the file's size (see `default_h5_limit`);
            raise it to load a trusted file that declares more.

    Returns:
        The model; `zoo.model_info(model)` describes its heads.

    Raises:
        FileNotFoundError: No file at `path`.
        ValueError: A `.keras` file that is not a complete zip archive, or an
            `.h5` file that is unreadable or declares more than the limit.

    Example:
        >>> import tempfile, numpy as np, zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
        >>> path = Path(tempfile.mkdtemp()) / "tags.keras"
        >>> save_model(model, path)
        >>> loaded = load_model(path)
        >>> images = np.zeros((1, 32, 32, 3), "float32")
        >>> np.allclose(loaded.predict(images, verbose=0)["tags"], model.predict(images, verbose=0)["tags"])
        True
        >>> zoo.model_info(loaded)["heads"]["tags"]["classes"]
        ['a', 'b']
    """
    path = Path(path)
    fmt = _model_format(path)
    check_max_bytes(max_bytes)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}.")
    if fmt == "keras":
        check_keras_zip(path)
    else:
        check_h5_size(path, max_bytes)
    try:
        model = keras.models.load_model(path, compile=compile, custom_objects=custom_objects)
    except Exception as error:
        if fmt != "h5":
            raise
        model = _load_keras2_h5(path, compile, custom_objects, error)
    if fmt == "h5" and compile:
        _rebuild_mismatched_optimizer(model, path)
    if card_of(model, infer=False) is None:
        card = read_card(path)  # a file of the earlier layout: the card beside the model's config
        if card is not None:
            set_card(model, card)
    return model
