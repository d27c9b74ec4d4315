"""Label tables (a DataFrame or a CSV) to the normalized shape every source gives.

The shape: a `filename` column (absolute, or relative to a `directory`) and one
column per head holding a tuple of label names.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"filename": ["a.jpg"], "tags": [["sea", "sunset"]]})
    >>> from_dataframe(df, ["tags"])["tags"][0]
    ('sea', 'sunset')
    >>> resolve_paths(pd.DataFrame({"filename": ["a.jpg"]}), "/data")
    ['/data/a.jpg']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from zoo.data.errors import DataError, capped, problem_list
from zoo.data.label_format import (LIST_TYPES, LabelFormat, literal_list, detect_label_format, is_missing,
                                   split_labels)

FILE_COLUMN = "filename"


def _cell_labels(value, label_format: LabelFormat, where: str, column: str) -> tuple:
    """One non-missing cell -> tuple of label names."""
    if isinstance(value, LIST_TYPES):
        return tuple(str(v).strip() for v in value)
    if isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, bool):
        return (str(value),)
    if not isinstance(value, str):
        raise DataError(
            f"{where}, column {column!r}: labels must be a list, tuple or string. "
            f"Received: {value!r} ({type(value).__name__})"
        )
    if label_format.kind == "literal":
        return literal_list(value)
    return split_labels(value, label_format.delimiter)


def _missing_error(source, column, rows, values) -> DataError:
    lines = [f"{where}: {value!r}" for where, value in zip(rows, values)]
    return DataError(
        f"{source}, column {column!r}: {len(rows)} cell(s) hold no label (a missing value such as "
        f"'', 'NaN', 'NA', 'N/A', 'null' or 'None'):\n{problem_list(lines)}\n"
        "Fill them in or drop those rows; for a multilabel head where no label is a valid answer, "
        "pass allow_empty=True (--allow-empty to zoo train) to read them as no label. Received: allow_empty=False"
    )


def _column_format(values, texts, column, source, locate, delimiter) -> LabelFormat:
    if delimiter is not None:
        return LabelFormat("delimited" if delimiter else "single", delimiter)
    return detect_label_format([values[i] for i in texts], column, source, lambda k: locate(texts[k]))


def _parse_column(values, column, source, locate, delimiter, allow_empty):
    """(labels per row, LabelFormat, multivalued) for one column."""
    values = list(values)
    missing = {i for i, value in enumerate(values) if is_missing(value)}
    present = [i for i in range(len(values)) if i not in missing]
    texts = [i for i in present if isinstance(values[i], str)]
    label_format = _column_format(values, texts, column, source, locate, delimiter)
    labels = [
        () if i in missing else _cell_labels(value, label_format, locate(i), column)
        for i, value in enumerate(values)
    ]
    if label_format.kind != "literal":  # a cell of delimiters only (",") holds no label either
        missing |= {i for i in texts if not labels[i]}
    if missing and not allow_empty:
        rows = sorted(missing)
        raise _missing_error(source, column, [locate(i) for i in rows], [values[i] for i in rows])
    multivalued = label_format.multivalued or any(isinstance(values[i], LIST_TYPES) for i in present)
    return labels, label_format, multivalued


def check_columns(df: pd.DataFrame, columns, source: str) -> None:
    """Raises a ValueError naming `source`'s missing `columns` and the columns it has."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source} has no column(s) {missing}. Columns present: {capped(map(repr, df.columns))}"
        )


def _normalize(df, mapping, file_column, delimiter, allow_empty, source, locate):
    check_columns(df, [file_column, *mapping], source)
    files = df[file_column].astype(str).to_numpy()
    out = pd.DataFrame({FILE_COLUMN: files})
    formats, multivalued = {}, {}
    for column, head in mapping.items():
        column_delimiter = delimiter.get(column, delimiter.get(head)) if isinstance(delimiter, dict) else delimiter
        labels, formats[head], multivalued[head] = _parse_column(
            df[column].tolist(), column, source, lambda i: f"{locate(i)} ({files[i]})", column_delimiter, allow_empty
        )
        out[head] = labels
    out.attrs["multivalued"] = multivalued
    out.attrs["label_formats"] = formats
    return out


def from_dataframe(
    df: pd.DataFrame,
    label_columns: Sequence[str] | dict,
    file_column: str = FILE_COLUMN,
    delimiter=None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Normalizes a DataFrame whose label columns hold lists, tuples or delimited strings.

    Args:
        df: The table.
        label_columns: Label columns; a dict renames them to head names
            (`{"labels": "tags"}`).
        file_column: Column with image paths.
        delimiter: Separator of labels in string cells: None detects it per
            column (see `detect_label_format`), "" never splits, " " splits on
            any whitespace; a dict gives one per column.
        allow_empty: Read missing cells (NaN, "", "NA", "null", ...) as no
            label; False raises a `DataError` naming them.

    Returns:
        A DataFrame with `filename` and one tuple-of-labels column per head;
        `attrs["multivalued"]` says per head whether its cells hold lists.

    Example:
        >>> df = pd.DataFrame({"file": ["a.jpg", "b.jpg", "c.jpg"], "tags": ["sea;sunset", "sea", "sunset"]})
        >>> out = from_dataframe(df, ["tags"], file_column="file")
        >>> out["tags"].tolist(), out.attrs["multivalued"]
        ([('sea', 'sunset'), ('sea',), ('sunset',)], {'tags': True})
    """
    mapping = dict(label_columns) if isinstance(label_columns, dict) else {c: c for c in label_columns}
    positions = list(df.index)
    return _normalize(
        df, mapping, file_column, delimiter, allow_empty, "The DataFrame", lambda i: f"row {positions[i]}"
    )


def add_extension(df: pd.DataFrame, extension: str) -> pd.DataFrame:
    """Appends `extension` to file names that have none (the Planet/Kaggle layout)."""
    extension = extension if extension.startswith(".") else f".{extension}"
    out = df.copy()
    out[FILE_COLUMN] = [f if Path(f).suffix else f + extension for f in out[FILE_COLUMN]]
    return out


def csv_line(position: int) -> str:
    """The CSV line of DataFrame row `position` ("line 2" for the first row, after the header)."""
    return f"line {position + 2}"  # line 1 is the header


def from_csv(
    path,
    label_column: str = "labels",
    file_column: str = FILE_COLUMN,
    delimiter: str | dict | None = None,
    head: str | None = None,
    extension: str | None = None,
    label_columns: Sequence[str] | dict | None = None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Reads a CSV with a file column and one or more label columns, cells as written.

    Each label column becomes one head. Per column, the cells are read as one
    label each ("Navy Blue"), as delimited lists ("desert,mountains",
    "carton milk_bottle") or as Python list literals ("['Comedy', 'Drama']");
    see `detect_label_format`. Whole cells such as "", "NaN", "NA", "N/A",
    "null" or "None" are missing values, never class names.

    Args:
        path: The CSV file.
        label_column: Column with the labels (when `label_columns` is None).
        file_column: Column with image names.
        delimiter: None detects the format of every column; a string is used
            for every column ("," for comma-joined, " " for any whitespace,
            "" never splits); a dict gives one per column.
        head: Head name for `label_column` (default: the column name).
        extension: Appended to file names without one (".jpg").
        label_columns: Several label columns, one head each; a dict renames
            them to head names (`{"articleType": "type"}`).
        allow_empty: Read missing cells as no label (multilabel heads only);
            False raises a `DataError` naming every such cell.

    Returns:
        The normalized DataFrame. `attrs["multivalued"]` maps every head to
        whether its cells hold lists (a multilabel head) or one label each
        (a multiclass head); `attrs["label_formats"]` holds what was detected.

    Raises:
        DataError: Missing cells, or a column whose format cannot be told;
            the message names the cells and the argument to pass.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
        >>> _ = path.write_text('file,scene,colour\\n1.jpg,"desert,sea",Navy Blue\\n'
        ...                     '2.jpg,sea,Blue\\n3.jpg,desert,Red\\n')
        >>> df = from_csv(path, file_column="file", label_columns=["scene", "colour"])
        >>> df["scene"].tolist(), df["colour"].tolist()
        ([('desert', 'sea'), ('sea',), ('desert',)], [('Navy Blue',), ('Blue',), ('Red',)])
        >>> df.attrs["multivalued"]
        {'scene': True, 'colour': False}
    """
    df = read_table(path, dtype=str, keep_default_na=False)
    if label_columns is None:
        mapping = {label_column: head or label_column}
    elif isinstance(label_columns, dict):
        mapping = dict(label_columns)
    else:
        mapping = {column: column for column in label_columns}
    out = _normalize(df, mapping, file_column, delimiter, allow_empty, f"CSV {path}", csv_line)
    return add_extension(out, extension) if extension else out


def read_table(path, **options) -> pd.DataFrame:
    """`pandas.read_csv` of a labels file in UTF-8, or in UTF-16 or UTF-32 with a byte-order mark.

    Raises:
        DataError: The file is not text in that encoding, naming the file,
            the byte and the encoding.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
        >>> _ = path.write_text("filename,labels\\na.jpg,café\\n", encoding="utf-16")
        >>> read_table(path)["labels"].tolist()
        ['café']
    """
    from zoo.io.text_encoding import decode_error_message, text_encoding

    encoding = text_encoding(path)
    try:
        return pd.read_csv(path, encoding=encoding, **options)
    except UnicodeDecodeError as error:
        raise DataError(f"CSV {decode_error_message(path, encoding, error)}") from None


def resolve_paths(df: pd.DataFrame, directory=None) -> list[str]:
    """Absolute paths of `df.filename`, joined to `directory` where relative."""
    base = os.fspath(directory) if directory is not None else None
    resolved = {}  # a name listed many times is resolved once

    def resolve(name) -> str:
        path = os.path.expanduser(os.fspath(name))
        if base is not None and not os.path.isabs(path):
            path = os.path.join(base, path)
        return str(Path(path))  # Path's spelling: "a//b" and "a/./b" -> "a/b"

    return [resolved[name] if name in resolved else resolved.setdefault(name, resolve(name))
            for name in df[FILE_COLUMN]]
