"""What a label cell holds: missing values, delimiters, Python-list literals, detected per column.

Example:
    >>> detect_label_format(["sea,sunset", "sea", "sunset"]).delimiter
    ','
    >>> split_labels("sea, sunset", ","), is_missing("N/A")
    (('sea', 'sunset'), True)
"""

from __future__ import annotations

import ast
import collections
import dataclasses

import numpy as np
import pandas as pd

from zoo.data.errors import DataError, problem_list

MISSING_VALUES = frozenset({"", "nan", "na", "n/a", "#n/a", "<na>", "null", "none", "nat"})
NEVER_SPLIT = ""
WHITESPACE = " "
PUNCTUATION = (",", ";", "|")
LIST_TYPES = (list, tuple, set, np.ndarray)
# Punctuation splits a column where at most a tenth of the split cells (and at least this many clean
# ones) hold a part found in no other cell: a label seen once, inside a list.
MOSTLY_LISTS_MIN = 10

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


def literal_list(text: str):
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
    if any(literal_list(cell) is not None for cell in first):
        return _literal_format(first, column, source)
    return _punctuation_format(first, column, source) or _whitespace_format(first, column, source)


def _literal_format(first: dict, column: str, source: str) -> LabelFormat:
    """"literal" when every cell is a list literal; a `DataError` naming the others otherwise."""
    plain = [cell for cell in first if literal_list(cell) is None]
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
