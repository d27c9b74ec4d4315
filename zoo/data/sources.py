"""Label sources beside tables: one-hot CSVs, Pascal VOC annotations and class folders.

Each gives the normalized DataFrame of `zoo.data.tables` (a `filename` column
and one column of label tuples per head); tables themselves are read there.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "black_jeans").mkdir()
    >>> _ = (root / "black_jeans" / "1.jpg").write_bytes(b"")
    >>> df = from_folders(root, heads=("color", "type"), separator="_")
    >>> df["color"][0], df["type"][0]
    (('black',), ('jeans',))
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from zoo.data.errors import DataError, DataWarning, capped, problem_list
from zoo.data.tables import FILE_COLUMN, add_extension, check_columns, csv_line, read_table

NAMES_SHOWN = 5  # files named in the warning about files that are not images

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def _is_onehot(column: pd.Series) -> bool:
    """Numeric (or bool) values that are all 0 or 1, missing cells aside, and at least one value."""
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        return False
    present = column.dropna()
    return len(present) > 0 and bool(present.isin([0, 1]).all())


def _nearly_onehot(column: pd.Series) -> list:
    """Positions of the values that are not 0/1 in a column mostly of 0/1 values; [] otherwise."""
    present = column.dropna()
    flags = pd.to_numeric(present.astype(str).str.strip(), errors="coerce").isin([0, 1]).to_numpy()
    if len(present) == 0 or flags.all() or flags.mean() < 0.5:
        return []
    return [position for position, flag in zip(np.flatnonzero(column.notna()), flags) if not flag]


def _onehot_columns(df: pd.DataFrame, file_column: str, path) -> tuple[list, list]:
    """(0/1 columns, other columns) of a one-hot CSV, the file column aside."""
    others = [c for c in df.columns if c != file_column]
    onehot = [c for c in others if _is_onehot(df[c])]
    stray = [
        f"{csv_line(row)} ({df[file_column].iloc[row]}), column {c!r}: Received: {df[c].iloc[row]}"
        for c in others
        if c not in onehot
        for row in _nearly_onehot(df[c])
    ]
    if stray:
        raise DataError(
            f"CSV {path}: columns mostly of 0/1 values hold other values:\n{problem_list(stray)}\n"
            "Fix them, or pass label_columns=[...] naming the one-hot columns."
        )
    if not onehot:
        raise DataError(
            f"CSV {path} has no column of 0/1 values besides the file column {file_column!r}; "
            f"columns: {others}. Pass label_columns=[...] to name them, or read a column of label "
            "names with from_csv."
        )
    return onehot, [c for c in others if c not in onehot]


def _check_onehot_values(df, label_columns, file_column, path) -> None:
    values = df[label_columns]
    missing = values.isna().to_numpy()
    bad = missing | ~values.isin([0, 1]).to_numpy()
    if not bad.any():
        return
    lines = []
    for row, column in zip(*np.nonzero(bad)):
        value = values.iloc[row, column]
        what = "missing value" if missing[row, column] else "one-hot values must be 0 or 1"
        lines.append(
            f"{csv_line(row)} ({df[file_column].iloc[row]}), column {label_columns[column]!r}: "
            f"{what}. Received: {value}"
        )
    raise DataError(f"CSV {path}: {len(lines)} bad one-hot cell(s):\n{problem_list(lines)}")


def from_onehot_csv(
    path, file_column: str = FILE_COLUMN, label_columns=None, head: str = "labels", extension=None
) -> pd.DataFrame:
    """Reads a CSV with a file column and one 0/1 column per label (MIML's layout).

    Args:
        path: The CSV file.
        file_column: Column with image names.
        label_columns: The 0/1 columns, in class order; every value must be 0
            or 1. Default: every column whose values are all 0/1 numbers;
            the others are ignored and named in `attrs["ignored_columns"]`.
        head: Head name for the labels.
        extension: Appended to file names without one.

    Returns:
        The normalized DataFrame; `label_columns` order is the class order
        (`attrs["classes"]`).

    Raises:
        DataError: A missing or non-0/1 value (each named by line and column),
            a column mostly of 0/1 values with others among them, or no 0/1
            column at all.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "onehot.csv"
        >>> _ = path.write_text("file,note,sea,desert\\n1.jpg,x,1,0\\n2.jpg,y,1,1\\n")
        >>> df = from_onehot_csv(path, file_column="file", head="scene")
        >>> df["scene"].tolist(), df.attrs["ignored_columns"]
        ([('sea',), ('sea', 'desert')], ['note'])
    """
    df = read_table(path, dtype={file_column: str})
    check_columns(df, [file_column], f"CSV {path}")
    if label_columns is None:
        label_columns, ignored = _onehot_columns(df, file_column, path)
    else:
        label_columns = list(label_columns)
        check_columns(df, label_columns, f"CSV {path}")
        ignored = []
    _check_onehot_values(df, label_columns, file_column, path)
    matrix = df[label_columns].to_numpy().astype(bool)
    out = pd.DataFrame({FILE_COLUMN: df[file_column].to_numpy()})
    out[head] = [tuple(str(c) for c, on in zip(label_columns, r) if on) for r in matrix]
    out.attrs["classes"] = {head: label_columns}
    out.attrs["multivalued"] = {head: True}
    out.attrs["ignored_columns"] = ignored
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
    images_dir = (Path(images_dir) if images_dir else annotations_dir.parent / "JPEGImages").resolve()
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


def _folder_files(folder: Path) -> tuple[list, list]:
    """(image files, other files) of one class folder, by name as `zoo predict` tells them."""
    from zoo.data.image_files import is_image_name, not_image_files

    files = sorted(p for p in folder.iterdir() if p.is_file() or p.is_symlink())
    return [p for p in files if is_image_name(p)], not_image_files(files)


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

    Only files named as images are read (see
    `zoo.data.image_files.is_image_name`, which `zoo predict` uses too); the
    others are listed in `attrs["not_images"]` (dot files aside), and a
    `DataWarning` gives their count and first names.

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
    rows, others = [], []
    for folder in folders:
        parts = folder.name.split(separator) if separator else [folder.name]
        if len(parts) != len(heads):
            raise ValueError(
                f"Folder {folder.name!r} splits into {len(parts)} part(s) {parts} but there are "
                f"{len(heads)} heads {heads}. Received: separator={separator!r}"
            )
        images, not_images = _folder_files(folder)
        others += not_images
        for image in images:
            rows.append({FILE_COLUMN: str(image), **{h: (p,) for h, p in zip(heads, parts)}})
    out = pd.DataFrame(rows, columns=[FILE_COLUMN, *heads])
    out.attrs["not_images"] = others
    if others:
        warnings.warn(f"Left out {len(others)} file(s) that are not images (by name): "
                      f"{capped(others, limit=NAMES_SHOWN)}; their list is in attrs['not_images'].",
                      DataWarning, stacklevel=2)
    return out
