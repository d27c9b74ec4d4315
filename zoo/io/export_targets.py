"""Where an export may be written: nowhere yet, or over an earlier export of the same format.

Light (no TensorFlow), so that `zoo export` checks `--output` before loading anything.

Example:
    >>> import tempfile
    >>> project = Path(tempfile.mkdtemp())
    >>> _ = (project / "notes.txt").write_text("mine")
    >>> check_export_target(project, "saved_model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileExistsError: Refusing to replace ... it is a folder that no saved_model export wrote (it has no saved_model.pb and assets.extra/zoo_metadata.json). Choose another path, or remove it first. Received: path=...
"""

from __future__ import annotations

from pathlib import Path

# What a zoo SavedModel export holds (`zoo.io.export.writers.SAVED_MODEL_METADATA`).
SAVED_MODEL_FILES = ("saved_model.pb", "assets.extra/zoo_metadata.json")
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}


def default_export_path(model, format: str) -> Path:
    """Where `zoo export` writes without `--output`: beside the model, named after it.

    Example:
        >>> [str(default_export_path("run/model.keras", f)) for f in ("onnx", "litert", "saved_model")]
        ['run/model.onnx', 'run/model.tflite', 'run/model_saved_model']
    """
    model = Path(model)
    return model.with_suffix(SUFFIXES[format]) if format in SUFFIXES else model.with_name(f"{model.stem}_{format}")


def is_earlier_export(path, format: str) -> bool:
    """True when `path` holds what an export in `format` wrote (a file for onnx and litert)."""
    path = Path(path)
    if format == "saved_model":
        return path.is_dir() and all((path / name).is_file() for name in SAVED_MODEL_FILES)
    return path.is_file() and path.suffix.lower() == SUFFIXES[format]


def check_export_target(path, format: str, name: str = "path") -> None:
    """Raises a FileExistsError unless `path` is free, an empty folder (saved_model) or an earlier export.

    Args:
        path: The export's destination.
        format: "saved_model", "onnx" or "litert".
        name: How the message names the destination (`--output` on the command line).
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if is_earlier_export(path, format) or (format == "saved_model" and path.is_dir() and not any(path.iterdir())):
        return
    if format == "saved_model":
        what = (f"a folder that no saved_model export wrote (it has no {' and '.join(SAVED_MODEL_FILES)})"
                if path.is_dir() else "a file, and a saved_model export is a folder")
    else:
        what = f"a folder, and a {format} export is one {SUFFIXES[format]} file" if path.is_dir() else "not a file"
    received = f"{name}={str(path)!r}" if name == "path" else f"{name} {path}"
    raise FileExistsError(f"Refusing to replace {str(path)!r}: it is {what}. Choose another {name}, or remove it "
                          f"first. Received: {received}")
