"""Checks of `zoo train`, `zoo evaluate` and `zoo predict` arguments before any data is read.

Each check reads only what it must (a folder listing, a CSV header and its first rows), imports
neither TensorFlow nor Keras, and raises a `UsageError` naming the flag and what it received.

Example:
    >>> import argparse
    >>> from zoo.cli.arguments import UsageError, validate_arguments
    >>> args = argparse.Namespace(command="predict", model="missing.keras", inputs=["photos/"])
    >>> try:
    ...     validate_arguments(args)
    ... except UsageError as error:
    ...     print(error)
    model: no such file or folder: 'missing.keras'
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import os
from pathlib import Path

from zoo.cli.workers import cluster_of
from zoo.models import catalog

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
EXPORT_SUFFIXES = (".onnx", ".tflite")
# How many file names from the top of a CSV must resolve to existing files.
FILES_TO_PROBE = 5


class UsageError(ValueError):
    """A command-line argument that cannot work; the message names the flag."""


def _exists(flag: str, path, kind: str = "file") -> Path:
    path = Path(path)
    is_kind = path.is_dir() if kind == "folder" else path.is_file()
    if not is_kind:
        what = f"no such {kind}" if not path.exists() else f"not a {kind}"
        raise UsageError(f"{flag}: {what}: {str(path)!r}")
    return path


def _positive(flag: str, value, integer: bool = True) -> None:
    if value is not None and value <= 0:
        raise UsageError(f"{flag} must be a positive {'integer' if integer else 'number'}. Received: {flag} {value}")


def _csv_rows(path: Path, flag: str) -> tuple[list[str], list[dict]]:
    """(header, first rows) of a CSV file."""
    from zoo.io.text_encoding import decode_error_message, text_encoding

    encoding = text_encoding(path)
    try:
        with open(path, newline="", encoding=encoding) as handle:
            reader = csv.DictReader(handle)
            rows = list(itertools.islice(reader, FILES_TO_PROBE))
            return list(reader.fieldnames or []), rows
    except UnicodeDecodeError as error:
        raise UsageError(f"{flag}: {decode_error_message(path, encoding, error)}") from None
    except csv.Error as error:
        raise UsageError(f"{flag}: not a readable CSV file: {str(path)!r} ({error})") from None


def _check_image_files(names: list[str], args, flag: str, csv_path: Path) -> None:
    """The first few file names must exist relative to `--images` (or the working folder)."""
    extension = getattr(args, "extension", None)
    if extension and not extension.startswith("."):
        extension = f".{extension}"
    base = Path(args.images) if getattr(args, "images", None) else None
    paths = []
    for name in names:
        path = Path(os.path.expanduser(name))
        if extension and not path.suffix:
            path = path.with_name(path.name + extension)
        paths.append(path if path.is_absolute() or base is None else base / path)
    if not paths or any(p.is_file() for p in paths):
        return
    where = f"--images {str(base)!r}" if base else "the working folder (no --images given)"
    hint = "--images names the folder that the file names are relative to" if base else \
        "give --images, the folder that the file names are relative to"
    raise UsageError(
        f"--images: none of the first {len(paths)} files listed in {flag} {str(csv_path)!r} exist under {where}, "
        f"e.g. {str(paths[0])!r}; {hint}" + ("" if extension or Path(names[0]).suffix else
                                             ", and --extension if the names lack one")
        + f". Received: --images {base if base else '(none)'}"
    )


def _check_source(args) -> list[str] | None:
    """Checks the label source; returns the head names when they are known without reading labels."""
    if getattr(args, "images", None) is not None:
        _exists("--images", args.images, "folder")
    for item in args.kind:
        head, separator, kind = item.partition("=")
        if not separator or not head:
            raise UsageError(f"--kind takes HEAD=KIND, e.g. --kind scene=multilabel. Received: --kind {item}")
        if kind not in catalog.HEAD_KINDS:
            raise UsageError(f"--kind: unknown head kind {kind!r}; choose from {', '.join(catalog.HEAD_KINDS)}. "
                             f"Received: --kind {item}")
    if args.folders is not None:
        root = _exists("--folders", args.folders, "folder")
        heads = list(args.heads or ["label"])
        folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not folders:
            raise UsageError(f"--folders: {str(root)!r} holds no class folders (e.g. black_jeans/). "
                             f"Received: --folders {args.folders}")
        for name in folders:
            parts = name.split(args.separator) if args.separator else [name]
            if len(parts) != len(heads):
                raise UsageError(
                    f"--heads: folder {name!r} splits into {len(parts)} part(s) {parts} but --heads names "
                    f"{len(heads)}: {heads}. Received: --heads {' '.join(heads)} --separator {args.separator}"
                )
        return heads
    flag, path = next((f, p) for f, p in (("--csv", args.csv), ("--onehot-csv", args.onehot_csv),
                                           ("--voc", args.voc)) if p is not None)
    if flag != "--csv" and args.heads and len(args.heads) > 1:
        raise UsageError(f"--heads: {flag} makes one head (its labels are that head's classes); name at most one. "
                         f"Received: --heads {' '.join(args.heads)}")
    if flag == "--voc":
        _exists(flag, path, "folder")
        return [(args.heads or ["objects"])[0]]
    _exists(flag, path)
    header, rows = _csv_rows(Path(path), flag)
    label_columns = flag == "--csv" and bool(args.heads) and all(h in header for h in args.heads)
    if flag == "--csv" and args.heads and len(args.heads) > 1 and not label_columns:
        missing = [h for h in args.heads if h not in header]
        raise UsageError(f"--heads: several heads name label columns of --csv {str(path)!r}, one head each, but it "
                         f"has no column {', '.join(map(repr, missing))}{_close_columns(missing, header)}; its "
                         f"columns: {', '.join(header[:12])}{' ...' if len(header) > 12 else ''}. "
                         f"Received: --heads {' '.join(args.heads)}")
    if flag == "--csv" and args.heads and not label_columns and args.label_column not in header:
        raise UsageError(f"--heads: --csv {str(path)!r} has no column {args.heads[0]!r}"
                         f"{_close_columns(args.heads, header)}; a --heads name that is not a column names the head "
                         f"of the --label-column column instead, and there is no column {args.label_column!r} "
                         f"either; its columns: {', '.join(header[:12])}"
                         f"{' ...' if len(header) > 12 else ''}. Received: --heads {' '.join(args.heads)} "
                         f"--label-column {args.label_column}")
    columns = [args.file_column] + ([args.label_column] if flag == "--csv" and not label_columns else [])
    for column, column_flag in zip(columns, ("--file-column", "--label-column")):
        if column not in header:
            raise UsageError(f"{column_flag}: {flag} {str(path)!r} has no column {column!r}; its columns: "
                             f"{', '.join(header[:12])}{' ...' if len(header) > 12 else ''}. "
                             f"Received: {column_flag} {column}")
    _check_image_files([r[args.file_column] for r in rows if r.get(args.file_column)], args, flag, Path(path))
    if label_columns:  # one head per named column
        return list(args.heads)
    return [(args.heads or [args.label_column if flag == "--csv" else "labels"])[0]]


def _close_columns(names, header) -> str:
    """" (did you mean ...?)" with the columns of `header` closest to the missing `names`, or "".

    Example:
        >>> _close_columns(["artcleType"], ["id", "articleType", "gender"])
        " (did you mean 'articleType'?)"
    """
    import difflib

    close = [match for name in names for match in difflib.get_close_matches(name, header, n=1)]
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def _check_kinds_name_heads(args, heads: list[str] | None) -> None:
    for item in args.kind:
        head = item.partition("=")[0]
        if heads is not None and head not in heads:
            raise UsageError(f"--kind names head {head!r}, but the heads are {heads}. Received: --kind {item}")


def _check_inspect(args) -> None:
    heads = _check_source(args)
    _check_kinds_name_heads(args, heads)
    _positive("--min-count", args.min_count)
    if not 0 < args.validation_split < 1:
        raise UsageError(f"--validation-split must be between 0 and 1. Received: --validation-split "
                         f"{args.validation_split}")


def _check_train(args) -> None:
    if args.model != "auto" and args.model not in catalog.MODELS:
        raise UsageError(f"--model: unknown architecture {args.model!r}; choose from "
                         f"{', '.join(sorted(catalog.MODELS))} (see `zoo list`). Received: --model {args.model}")
    heads = _check_source(args)
    _check_kinds_name_heads(args, heads)
    needed = catalog.MODELS.get(args.model, {}).get("heads")
    if needed and heads is not None and len(heads) != needed:
        raise UsageError(f"--heads: {args.model} takes exactly {needed} heads, e.g. --folders DIR --separator _ "
                         f"--heads color type. Received: {len(heads)} head(s) {heads}")
    for side in getattr(args, "image_size", None) or ():
        _positive("--image-size", side)
    for flag in ("epochs", "batch_size"):
        _positive(f"--{flag.replace('_', '-')}", getattr(args, flag, None))
    _positive("--learning-rate", getattr(args, "learning_rate", None), integer=False)
    _positive("--budget", getattr(args, "budget", None), integer=False)
    _positive("--min-count", getattr(args, "min_count", None))
    if getattr(args, "plan", None) is not None:
        _exists("--plan", args.plan)
        given = [f"--{flag.replace('_', '-')}" for flag in ("image_size", "epochs", "learning_rate", "batch_size",
                                                            "no_augment")
                 if getattr(args, flag, None)] + (["--stage"] if getattr(args, "stage", None) else [])
        if given:
            raise UsageError(f"--plan repeats a plan exactly; it takes no {', '.join(given)}. "
                             f"Received: --plan {args.plan} {' '.join(given)}")
    if getattr(args, "tensorboard", None) is not None and importlib.util.find_spec("tensorboard") is None:
        raise UsageError("--tensorboard needs the tensorboard package: pip install tensorboard "
                         f"(or keras-zoo[tensorboard]). Received: --tensorboard {args.tensorboard}")
    split = getattr(args, "validation_split", None)
    if split is not None and not 0 < split < 1:
        raise UsageError(f"--validation-split must lie between 0 and 1. Received: --validation-split {split}")
    weights = getattr(args, "weights", "auto")
    if weights not in ("auto", "imagenet", "none"):
        _exists("--weights", weights)
    elif weights == "imagenet":
        pretrained = [b for b in catalog.MODELS[args.model]["backbones"] if catalog.BACKBONES[b]["pretrained"]]
        if not pretrained:
            raise UsageError(f"--weights: {args.model} has no backbone with ImageNet weights; it trains from "
                             f"scratch. Received: --weights imagenet")
    for spec in getattr(args, "stage", None) or ():
        for part in filter(None, spec.split(",")):
            key, separator, value = part.partition("=")
            if not separator:
                raise UsageError(f"--stage fields are key=value, e.g. epochs=10,trainable=heads,lr=1e-3. "
                                 f"Received: --stage {spec}")
            number = {"epochs": int, "warmup": int, "lr": float}.get(key.strip())
            try:
                if number:
                    number(value)
            except ValueError:
                raise UsageError(f"--stage: {key.strip()} must be a number. Received: --stage {spec}") from None
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output: exists and is not a folder: {str(output)!r}")
    _positive("--worker-timeout", getattr(args, "worker_timeout", None), integer=False)
    try:
        cluster_of(args)
    except ValueError as error:
        raise UsageError(str(error)) from None


def model_form(path) -> str | None:
    """What a model path holds, judged by its name (no TensorFlow): "keras" (.keras, .h5, .hdf5),
    "onnx", "litert" (.tflite), "saved_model" (a folder holding saved_model.pb), or None.

    Example:
        >>> model_form("run/model.h5"), model_form("deploy/clothes.tflite"), model_form("notes.txt")
        ('keras', 'litert', None)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return "keras"
    if suffix in EXPORT_SUFFIXES:
        return {".onnx": "onnx", ".tflite": "litert"}[suffix]
    return "saved_model" if (path / "saved_model.pb").is_file() else None


def _check_model_file(path, exports: bool = True) -> str:
    """Checks a command's model argument; exports (.onnx, .tflite, SavedModel folder) too when `exports`."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"model: no such file or folder: {str(path)!r}")
    form = model_form(path)
    if form == "keras" and not path.is_file():
        raise UsageError(f"model: not a file: {str(path)!r}")
    if form in ("onnx", "litert") and not path.is_file():
        raise UsageError(f"model: not a file: {str(path)!r}")
    if not exports and form not in (None, "keras"):
        raise UsageError(f"model: {str(path)!r} is an export ({form}); zoo export converts a .keras, .h5 or "
                         f".hdf5 model file. Received: {str(path)!r}")
    if form is None:
        expected = ("a .keras, .h5, .hdf5, .onnx or .tflite file or a SavedModel folder" if exports
                    else "a .keras, .h5 or .hdf5 file")
        what = "a folder without saved_model.pb" if path.is_dir() else "a file of another kind"
        raise UsageError(f"model: expected {expected}; this is {what}. Received: {str(path)!r}")
    return form


def _check_evaluate(args) -> None:
    form = _check_model_file(args.model)
    if args.save and form != "keras":
        raise UsageError(f"--save stores thresholds in a .keras or .h5 model file; an export ({form}) "
                         f"cannot be changed: export again from the saved model. Received: {args.model}")
    _check_kinds_name_heads(args, _check_source(args))
    _positive("--batch-size", args.batch_size)
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UsageError(f"--threshold must lie between 0 and 1. Received: --threshold {args.threshold}")
    if args.save and not args.tune_thresholds:
        raise UsageError("--save stores tuned thresholds: give --tune-thresholds too. Received: --save alone")
    if args.output:
        _check_output_csv(Path(args.output))


def _check_predict(args) -> None:
    form = _check_model_file(args.model)
    if getattr(args, "explain", None) and form != "keras":
        raise UsageError(f"--explain draws Grad-CAM from a Keras model's layers: give the .keras or .h5 model, "
                         f"not an export ({form}). Received: {args.model}")
    for item in args.inputs:
        if not Path(item).exists():
            raise UsageError(f"inputs: no such file or folder: {item!r}")
    _positive("--batch-size", getattr(args, "batch_size", None))
    _positive("--top-k", getattr(args, "top_k", None))
    _check_output_csv(Path(getattr(args, "output", "predictions.csv")))


def _check_output_csv(output: Path) -> None:
    """`--output` names a CSV file that can be written: not a folder, in a folder that exists or can be made."""
    if output.is_dir():
        raise UsageError(f"--output: is a folder, expected a CSV file name. Received: --output {output}")
    _check_writable_place(output)


def _check_writable_place(output: Path) -> None:
    """The nearest existing folder of `output` (where its missing folders would be made) is writable."""
    existing = next(p for p in [output.parent, *output.parent.parents] if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--output: cannot write there: {str(existing)!r} is not a writable folder. "
                         f"Received: --output {output}")


def _check_export(args) -> None:
    _check_model_file(args.model, exports=False)
    from zoo.io.export_targets import SUFFIXES, check_export_target, default_export_path

    output = Path(args.output or default_export_path(args.model, args.format))
    suffix = SUFFIXES.get(args.format)
    if suffix and output.suffix.lower() != suffix:
        raise UsageError(f"--output: a {args.format} export is one {suffix} file. Received: --output {output}")
    try:
        check_export_target(output, args.format, name="--output")
    except FileExistsError as error:
        raise UsageError(f"--output: {error}") from None
    _check_writable_place(output)


def validate_arguments(args) -> None:
    """Raises a `UsageError` for the first argument of `args.command` that cannot work.

    Reads folder listings and a CSV's header and first rows, never the images or all labels.

    Args:
        args: The parsed `argparse.Namespace` of a `zoo` command.

    Example:
        >>> import argparse
        >>> args = argparse.Namespace(command="list")
        >>> validate_arguments(args)  # nothing to check
    """
    from zoo.cli.audit import check_arguments as _check_audit

    check = {"train": _check_train, "inspect": _check_inspect, "evaluate": _check_evaluate,
             "predict": _check_predict, "export": _check_export, "audit": _check_audit}.get(args.command)
    if check is not None:
        check(args)
