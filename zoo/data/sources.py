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

import ast
import collections
import dataclasses
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from zoo.data.errors import DataError, problem_list

FILE_COLUMN = "filename"
# Whole cells with one of these texts (any case, surrounding spaces ignored) hold no label.
MISSING_VALUES = frozenset({"", "nan", "na", "n/a", "#n/a", "<na>", "null", "none", "nat"})
NEVER_SPLIT = ""
WHITESPACE = " "
PUNCTUATION = (",", ";", "|")
LIST_TYPES = (list, tuple, set, np.ndarray)
# Punctuation splits a column where at most a tenth of the split cells (and at least this many clean
# ones) hold a part found in no other cell: a label seen once, inside a list.
MOSTLY_LISTS_MIN = 10
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def is_missing(value) -> bool:
    """True for a whole cell that holds no label: None, NaN, or text such as "", "NA", "N/A", "null".

    Args:
        value: One cell.

    Returns:
        Whether the cell counts as missing.

    Example:
        >>> is_missing(" NaN "), is_missing("N/A"), is_missing("['N/A']"), is_missing("Navy Blue")
        (True, True, False, False)
    """
    if isinstance(value, str):
        return value.strip().lower() in MISSING_VALUES
    if isinstance(value, LIST_TYPES):
        return False
    return value is None or bool(pd.isna(value))


def split_labels(text: str, delimiter: str) -> tuple:
    """Splits one cell on `delimiter` (" ": any run of whitespace; "": never), dropping empty parts.

    Example:
        >>> split_labels("desert, mountains", ","), split_labels("a  b", " "), split_labels("Navy Blue", "")
        (('desert', 'mountains'), ('a', 'b'), ('Navy Blue',))
    """
    if delimiter == NEVER_SPLIT:
        parts = [text]
    elif delimiter == WHITESPACE:
        parts = text.split()
    else:
        parts = text.split(delimiter)
    return tuple(part.strip() for part in parts if part.strip())


def _literal_list(text: str):
    """The labels of a Python list or tuple literal such as "['Comedy', 'Drama']", else None."""
    text = text.strip()
    if (text[:1], text[-1:]) not in (("[", "]"), ("(", ")")):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, (list, tuple)):
        return None
    if not all(isinstance(item, (str, int, float)) for item in value):
        return None
    return tuple(str(item).strip() for item in value if str(item).strip())


@dataclasses.dataclass(frozen=True)
class LabelFormat:
    """How the cells of one label column are written.

    Attributes:
        kind: "single" (one label per cell), "delimited" (labels joined by
            `delimiter`) or "literal" (Python list literals).
        delimiter: The separator of a "delimited" column (" " is any
            whitespace); "" otherwise.
    """

    kind: str
    delimiter: str = NEVER_SPLIT

    @property
    def multivalued(self) -> bool:
        """Whether a cell may hold several labels."""
        return self.kind != "single"


@dataclasses.dataclass
class _Evidence:
    """Cells that split on a candidate delimiter, sorted by what their parts say."""

    multi: list
    as_list: list  # every part also stands alone as a whole cell
    as_label: list  # some part is found nowhere else: the cell reads as one label


def _evidence(cells, delimiter) -> _Evidence:
    parts = {cell: split_labels(cell, delimiter) for cell in dict.fromkeys(cells)}
    standalone = {split[0] for split in parts.values() if len(split) == 1}
    cells_with = collections.Counter(part for split in parts.values() for part in set(split))
    multi = [cell for cell, split in parts.items() if len(split) > 1]
    as_list = [cell for cell in multi if all(p in standalone for p in parts[cell])]
    as_label = [
        cell for cell in multi if any(p not in standalone and cells_with[p] < 2 for p in parts[cell])
    ]
    return _Evidence(multi, as_list, as_label)


def _unsure(column, source, cells, delimiter, reason, first) -> DataError:
    """The error for cells that may or may not be lists; `first` maps a cell to where it is."""
    shown = problem_list(f"{first[cell]}: {cell!r}" for cell in cells)
    return DataError(
        f"{source}, column {column!r}: cannot tell whether cells are lists joined by "
        f"{delimiter!r} or single labels: {reason}\n{shown}\n"
        f"Pass delimiter={delimiter!r} (--delimiter {delimiter!r}) to split them, or "
        f"delimiter='' (--delimiter '') to keep every cell as one label. Received: delimiter=None"
    )


def _mostly_lists(evidence: _Evidence) -> bool:
    """No cell reads as one label, or a few among many that split cleanly (a label seen once)."""
    clean = len(evidence.multi) - len(evidence.as_label)
    few = clean >= MOSTLY_LISTS_MIN and len(evidence.as_label) * 10 <= len(evidence.multi)
    return not evidence.as_label or few


def _whitespace_lists(evidence: _Evidence) -> bool:
    """Most split cells split into labels that stand alone, and (almost) none reads as one label."""
    if 2 * len(evidence.as_list) < len(evidence.multi):
        return False
    few = len(evidence.as_list) >= MOSTLY_LISTS_MIN and len(evidence.as_label) * 10 <= len(evidence.multi)
    return not evidence.as_label or few


def detect_label_format(cells, column: str = "labels", source: str = "The table", locate=None) -> LabelFormat:
    """Decides how a label column is written, from all of its (non-missing) text cells.

    A cell of Python list literals makes a "literal" column (every cell must
    be one). Otherwise ",", ";", "|" and whitespace are tried in this order. A
    candidate splits the column when the parts of the cells it splits also
    stand as whole cells ("carton milk_bottle" beside "carton" and
    "milk_bottle"). Punctuation also passes when every part recurs in other
    cells, allowing a few cells (a tenth, among at least 10 clean ones) with a
    part seen once. Whitespace needs the parts of most split cells to stand
    alone, and a part found in no other cell ("Navy" of "Navy Blue") marks a
    multi-word single label. Where the cells disagree, or say too little, a
    `DataError` shows them and names the `delimiter` to pass.

    Args:
        cells: The text cells of one column.
        column: The column name, for messages.
        source: The table, for messages ("CSV labels.csv").
        locate: Maps the position of a cell to where it is ("line 3 (a.jpg)").

    Returns:
        A `LabelFormat`.

    Example:
        >>> detect_label_format(["desert", "mountains", "desert,mountains"])
        LabelFormat(kind='delimited', delimiter=',')
        >>> detect_label_format(["Blue", "Navy Blue", "Black"]).kind
        'single'
        >>> detect_label_format(["['Comedy', 'Drama']", "['Drama']"]).kind
        'literal'
    """
    locate = locate or (lambda position: f"row {position}")
    first = {}  # each distinct cell -> where it first occurs
    for position, cell in enumerate(str(cell) for cell in cells):
        first.setdefault(cell, locate(position))
    if any(_literal_list(cell) is not None for cell in first):
        return _literal_format(first, column, source)
    return _punctuation_format(first, column, source) or _whitespace_format(first, column, source)


def _literal_format(first: dict, column: str, source: str) -> LabelFormat:
    """"literal" when every cell is a list literal; a `DataError` naming the others otherwise."""
    plain = [cell for cell in first if _literal_list(cell) is None]
    if plain:
        example = next(cell for cell in first if cell not in plain)
        raise DataError(
            f"{source}, column {column!r}: some cells are Python lists such as {example!r} "
            f"and some are not:\n{problem_list(f'{first[c]}: {c!r}' for c in plain)}"
            "\nWrite every cell as a list, or pass delimiter='' (--delimiter '') to keep every "
            "cell as written. Received: delimiter=None"
        )
    return LabelFormat("literal")


def _punctuation_format(first: dict, column: str, source: str):
    """The first of ",", ";", "|" that splits the cells into lists; None when none is in them."""
    suspicious = None
    for delimiter in PUNCTUATION:
        evidence = _evidence(first, delimiter)
        if not evidence.multi:
            continue
        if _mostly_lists(evidence):
            return LabelFormat("delimited", delimiter)
        suspicious = suspicious or (delimiter, evidence)
    if suspicious is None:
        return None
    delimiter, evidence = suspicious
    reason = "some parts stand nowhere else as labels of their own"
    raise _unsure(column, source, evidence.as_label, delimiter, reason, first)


def _whitespace_format(first: dict, column: str, source: str) -> LabelFormat:
    """Whitespace-delimited lists, multi-word single labels, or a `DataError` when unsure."""
    evidence = _evidence(first, WHITESPACE)
    if not evidence.multi or (evidence.as_label and not evidence.as_list):
        return LabelFormat("single")
    if _whitespace_lists(evidence):
        return LabelFormat("delimited", WHITESPACE)
    if evidence.as_label:
        shown = evidence.as_label + evidence.as_list
        reason = "some split into labels that stand alone, others hold words found nowhere else"
    else:
        shown = evidence.multi
        reason = "too few of them split into words that also stand alone as labels"
    raise _unsure(column, source, shown, WHITESPACE, reason, first)


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
        return _literal_list(value)
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


def _check_columns(df: pd.DataFrame, columns, source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source} has no column(s) {missing}. Columns present: {list(df.columns)}"
        )


def _normalize(df, mapping, file_column, delimiter, allow_empty, source, locate):
    _check_columns(df, [file_column, *mapping], source)
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


def _csv_line(position: int) -> str:
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
        >>> _ = path.write_text('file,scene,colour\\n1.jpg,"desert,sea",Navy Blue\\n2.jpg,sea,Blue\\n3.jpg,desert,Red\\n')
        >>> df = from_csv(path, file_column="file", label_columns=["scene", "colour"])
        >>> df["scene"].tolist(), df["colour"].tolist()
        ([('desert', 'sea'), ('sea',), ('desert',)], [('Navy Blue',), ('Blue',), ('Red',)])
        >>> df.attrs["multivalued"]
        {'scene': True, 'colour': False}
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if label_columns is None:
        mapping = {label_column: head or label_column}
    elif isinstance(label_columns, dict):
        mapping = dict(label_columns)
    else:
        mapping = {column: column for column in label_columns}
    out = _normalize(df, mapping, file_column, delimiter, allow_empty, f"CSV {path}", _csv_line)
    return add_extension(out, extension) if extension else out


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
        f"{_csv_line(row)} ({df[file_column].iloc[row]}), column {c!r}: Received: {df[c].iloc[row]}"
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
            f"{_csv_line(row)} ({df[file_column].iloc[row]}), column {label_columns[column]!r}: "
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
    df = pd.read_csv(path, dtype={file_column: str})
    _check_columns(df, [file_column], f"CSV {path}")
    if label_columns is None:
        label_columns, ignored = _onehot_columns(df, file_column, path)
    else:
        label_columns = list(label_columns)
        _check_columns(df, label_columns, f"CSV {path}")
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
