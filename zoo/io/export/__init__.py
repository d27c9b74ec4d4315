"""Export zoo models to SavedModel, ONNX and LiteRT with their label names, and run them.

Label names have no standard place in these formats; zoo puts the model's
metadata (heads, classes, kinds, thresholds, input shape) where each format's
own tools can read it: `assets.extra/zoo_metadata.json` and a `labels`
signature in a SavedModel, `metadata_props["zoo_metadata"]` in an ONNX file, and
a `<name>.labels.json` file beside a `.tflite` file.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
    ...                   weights=None)
    >>> str(zoo.export(model, "/tmp/tags_savedmodel", format="saved_model"))
    '/tmp/tags_savedmodel'
"""

from __future__ import annotations

import shutil
from pathlib import Path

import keras

from zoo.io.atomic import write_text, writing
from zoo.io.export.common import FORMATS, QUANTIZATIONS, ExportError, check_format
from zoo.io.export_targets import check_export_target
from zoo.io.export.runtimes import load_any, open_exported
from zoo.io.export.writers import labels_path, write_litert, write_onnx, write_saved_model

CARD_FILES = ("MODEL_CARD.md", "MODEL_CARD.json")


def _copy_card(source: Path, destination: Path) -> list[Path]:
    copied = []
    for name in CARD_FILES:
        card, target = source.parent / name, destination.parent / name
        if card.is_file() and card.resolve() != target.resolve():
            with writing(target) as temporary:
                shutil.copyfile(card, temporary)
            copied.append(target)
    return copied


def export(model_or_path, path, format: str = "saved_model", quantize: str | None = None) -> Path:
    """Exports a model with its label names for serving without zoo or Keras.

    The export is written beside `path` and moved onto it when complete, so an
    earlier export there is replaced whole or not at all. Anything else at `path`
    (a folder that no export wrote, a folder where a file goes) is refused by name
    before any work. When `model_or_path`
    is a file with `MODEL_CARD.md`/`MODEL_CARD.json` beside it, they are copied
    beside the export.

    Args:
        model_or_path: A keras.Model or a `.keras`/`.h5` file.
        path: Destination: a folder (saved_model), a `.onnx` or a `.tflite` file.
        format: "saved_model" (TF Serving; signatures `serving_default`,
            `serving_uint8`, `labels`, `labels_uint8`), "onnx" (one output per
            head; metadata in `metadata_props`) or "litert" (`.tflite` and
            `<name>.labels.json` beside it).
        quantize: None (float32) or "dynamic" (int8 weights; litert only).

    Returns:
        The path written.

    Raises:
        ExportError: A layer uses operations the format's converter cannot
            convert (the layer and format are named).
        ImportError: The format needs the `export` extra (`pip install "keras-zoo[export]"`).
        FileExistsError: `path` holds something that is not an earlier export in `format`.
        PermissionError: The folder of `path` is not writable (`path` is named).

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"color": ["red", "blue"], "type": ["shirt", "dress"]},
        ...                   input_shape=(32, 32, 3), weights=None)
        >>> zoo.export(model, "/tmp/two_heads.onnx", format="onnx").name
        'two_heads.onnx'
    """
    check_format(format)
    if quantize not in QUANTIZATIONS or (quantize and format != "litert"):
        raise ValueError(
            f"`quantize` must be None, or 'dynamic' with format='litert'. Received: quantize={quantize!r} "
            f"with format={format!r}"
        )
    check_export_target(path, format)  # before any work
    if isinstance(model_or_path, keras.Model):
        model, source = model_or_path, None
    else:
        from zoo.io.saving import load_model

        source = Path(model_or_path)
        model = load_model(source, compile=False)
    path = Path(path)
    # Keras writes LiteRT only to a name ending in ".tflite", whatever the destination's name.
    with writing(path, suffix=".tflite" if format == "litert" else None) as temporary:
        if format == "saved_model":
            write_saved_model(model, temporary)
        elif format == "onnx":
            write_onnx(model, temporary)
        else:
            card = write_litert(model, temporary, quantize)
            write_text(labels_path(path), card.to_json(indent=1))
    if source is not None:
        _copy_card(source, path)
    return path


__all__ = ["FORMATS", "ExportError", "export", "load_any", "open_exported"]
