"""Label sources: every classic layout to one DataFrame shape.

The shape: a `filename` column (absolute, or relative to a `directory`) and one
column per head holding a tuple of label names.

Example:
    >>> import pandas as pd
    >>> from zoo.data import sources
    >>> df = pd.DataFrame({"filename": ["a.jpg"], "tags": [["sea", "sunset"]]})
    >>> sources.from_dataframe(df, ["tags"])["tags"][0]
    ('sea', 'sunset')
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

FILE_COLUMN = "filename"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def _as_labels(value, row, column, delimiter=None) -> tuple:
    """One cell -> tuple of label names; NaN/None/"" -> ()."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    if isinstance(value, str):
        parts = value.split(delimiter) if delimiter != "" else [value]
        return tuple(p.strip() for p in parts if p.strip())
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return tuple(str(v).strip() for v in value)
    if isinstance(value, (int, np.integer)):
        return (str(value),)
    raise ValueError(
        f"Row {row}, column {column!r}: labels must be a list, tuple or string. "
        f"Received: {value!r} ({type(value).__name__})"
    )


def _check_columns(df: pd.DataFrame, columns, source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source} has no column(s) {missing}. Columns present: {list(df.columns)}"
        )


def from_dataframe(
    df: pd.DataFrame, label_columns: Sequence[str] | dict, file_column: str = FILE_COLUMN, delimiter=None
) -> pd.DataFrame:
    """Normalizes a DataFrame whose label columns hold lists, tuples or delimited strings.

    Args:
        df: The table.
        label_columns: Label columns; a dict renames them to head names
            (`{"labels": "tags"}`).
        file_column: Column with image paths.
        delimiter: Separator of labels in string cells (None: any whitespace).

    Returns:
        A DataFrame with `filename` and one tuple-of-labels column per head.
    """
    mapping = dict(label_columns) if isinstance(label_columns, dict) else {c: c for c in label_columns}
    _check_columns(df, [file_column, *mapping], "The DataFrame")
    out = pd.DataFrame({FILE_COLUMN: df[file_column].astype(str).to_numpy()})
    for column, head in mapping.items():
        out[head] = [
            _as_labels(value, row, column, delimiter) for row, value in zip(df.index, df[column])
        ]
    return out


def add_extension(df: pd.DataFrame, extension: str) -> pd.DataFrame:
    """Appends `extension` to file names that have none (the Planet/Kaggle layout)."""
    extension = extension if extension.startswith(".") else f".{extension}"
    out = df.copy()
    out[FILE_COLUMN] = [f if Path(f).suffix else f + extension for f in out[FILE_COLUMN]]
    return out


def from_csv(
    path,
    label_column: str = "labels",
    file_column: str = FILE_COLUMN,
    delimiter: str | None = None,
    head: str | None = None,
    extension: str | None = None,
) -> pd.DataFrame:
    """Reads a CSV with one column of delimited labels (`a.jpg,"sea sunset"`).

    Args:
        path: The CSV file.
        label_column: Column with the delimited labels.
        file_column: Column with image names.
        delimiter: Label separator (None: whitespace; "," for comma-joined).
        head: Head name for the labels (default: `label_column`).
        extension: Appended to file names without one (".jpg").

    Returns:
        The normalized DataFrame.
    """
    df = pd.read_csv(path, dtype={file_column: str}, keep_default_na=False)
    _check_columns(df, [file_column, label_column], f"CSV {path}")
    out = from_dataframe(df, {label_column: head or label_column}, file_column, delimiter)
    return add_extension(out, extension) if extension else out


def from_onehot_csv(
    path, file_column: str = FILE_COLUMN, label_columns=None, head: str = "labels", extension=None
) -> pd.DataFrame:
    """Reads a CSV with a file column and one 0/1 column per label (MIML's layout).

    Args:
        path: The CSV file.
        file_column: Column with image names.
        label_columns: The 0/1 columns, in class order (default: all others).
        head: Head name for the labels.
        extension: Appended to file names without one.

    Returns:
        The normalized DataFrame; `label_columns` order is the class order.
    """
    df = pd.read_csv(path, dtype={file_column: str})
    _check_columns(df, [file_column], f"CSV {path}")
    label_columns = list(label_columns or [c for c in df.columns if c != file_column])
    _check_columns(df, label_columns, f"CSV {path}")
    values = df[label_columns]
    bad = ~values.isin([0, 1])
    if bad.to_numpy().any():
        row, column = next(zip(*np.nonzero(bad.to_numpy())))
        raise ValueError(
            f"CSV {path}, row {row} ({df[file_column].iloc[row]}), column "
            f"{label_columns[column]!r}: one-hot values must be 0 or 1. "
            f"Received: {values.iloc[row, column]}"
        )
    matrix = values.to_numpy().astype(bool)
    out = pd.DataFrame({FILE_COLUMN: df[file_column].to_numpy()})
    out[head] = [tuple(np.asarray(label_columns)[r]) for r in matrix]
    out.attrs["classes"] = {head: label_columns}
    return add_extension(out, extension) if extension else out


def from_voc(
    annotations_dir, images_dir=None, head: str = "objects", unique: bool = True
) -> pd.DataFrame:
    """Reads a Pascal VOC `Annotations/` folder of XML files.

    Args:
        annotations_dir: Folder of `*.xml` annotation files.
        images_dir: Image folder (default: `../JPEGImages` beside the annotations).
        head: Head name for the object labels.
        unique: Keep each label once per image; False keeps repeats, in order.

    Returns:
        The normalized DataFrame with absolute image paths.
    """
    annotations_dir = Path(annotations_dir)
    images_dir = Path(images_dir) if images_dir else annotations_dir.parent / "JPEGImages"
    files = sorted(annotations_dir.glob("*.xml"))
    if not files:
        raise FileNotFoundError(f"No .xml annotation files in {annotations_dir}.")
    rows = []
    for xml_file in files:
        try:
            root = ElementTree.parse(xml_file).getroot()
        except ElementTree.ParseError as error:
            raise ValueError(f"Annotation {xml_file} is not valid XML: {error}") from error
        filename = root.findtext("filename") or f"{xml_file.stem}.jpg"
        names = [
            (obj.findtext("name") or "").strip() for obj in root.iter("object")
        ]
        if any(not n for n in names):
            raise ValueError(f"Annotation {xml_file} has an <object> without a <name>.")
        if unique:
            names = list(dict.fromkeys(names))
        rows.append({FILE_COLUMN: str(images_dir / filename.strip()), head: tuple(names)})
    return pd.DataFrame(rows)


def _image_files(folder: Path):
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def from_folders(
    root, heads: Sequence[str] = ("label",), separator: str | None = None
) -> pd.DataFrame:
    """Reads `root/<folder>/<image>` where each folder name encodes the labels.

    With `separator="_"` and `heads=("color", "type")`, `black_jeans/1.jpg`
    gets color `black` and type `jeans`. Without a separator each folder is one
    class of one head (the folder-per-class layout).

    Args:
        root: The folder of class folders.
        heads: Head names, one per part of the folder name.
        separator: Splits folder names into parts; None for one part.

    Returns:
        The normalized DataFrame with absolute image paths.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder {root} does not exist.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ValueError(f"{root} has no class folders.")
    heads = list(heads)
    rows = []
    for folder in folders:
        parts = folder.name.split(separator) if separator else [folder.name]
        if len(parts) != len(heads):
            raise ValueError(
                f"Folder {folder.name!r} splits into {len(parts)} part(s) {parts} but there are "
                f"{len(heads)} heads {heads}. Received: separator={separator!r}"
            )
        for image in _image_files(folder):
            rows.append({FILE_COLUMN: str(image), **{h: (p,) for h, p in zip(heads, parts)}})
    return pd.DataFrame(rows)


def resolve_paths(df: pd.DataFrame, directory=None) -> list[str]:
    """Absolute paths of `df.filename`, joined to `directory` where relative."""
    base = Path(directory) if directory is not None else None
    paths = []
    for name in df[FILE_COLUMN]:
        path = Path(os.fspath(name)).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        paths.append(str(path))
    return paths
