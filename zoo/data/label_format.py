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
import re

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
SHOWN_CELLS = 10

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


# A part that reads as an identifier rather than a word: an underscore or a digit inside it.
IDENTIFIER = re.compile(r"_|\d")
# Words that combine freely: most recurring parts move between positions, or many cells hold 3 or more.
MOBILE_SHARE = 0.5
LONG_SHARE = 0.25
# Cells holding a part seen nowhere else, allowed among lists whose parts combine freely (rare tags).
RARE_SHARE = 0.1
RARE_SHARE_COMBINED = 0.25
SHOWN_WORDS = 12


@dataclasses.dataclass
class _Evidence:
    """What splitting every distinct cell on a candidate delimiter shows.

    Attributes:
        cells: How many distinct cells there are.
        parts: {cell: its parts}.
        multi: The cells that split.
        as_list: Split cells whose every part also stands alone as a whole cell.
        as_label: Split cells with a part found in no other cell: the cell reads as one label.
        cells_with: {part: how many distinct cells hold it}.
        mobile: Share of the parts found in two or more split cells that sit at different positions.
        long: Share of the split cells with three parts or more.
        identifiers: Share of the parts of split cells that look like identifiers ("partly_cloudy").
    """

    cells: int
    parts: dict
    multi: list
    as_list: list
    as_label: list
    cells_with: collections.Counter
    mobile: float
    long: float
    identifiers: float

    @property
    def rare_share(self) -> float:
        return len(self.as_label) / max(len(self.multi), 1)

    def few_rare(self, share: float = RARE_SHARE) -> bool:
        """No split cell reads as one label, or few among at least `MOSTLY_LISTS_MIN` clean ones."""
        clean = len(self.multi) - len(self.as_label)
        return not self.as_label or (clean >= MOSTLY_LISTS_MIN and self.rare_share <= share)

    @property
    def combined(self) -> bool:
        """The parts combine freely: they move between positions, many cells hold 3 or more, or they
        read as identifiers (multi-word labels keep their words in place: "Navy Blue", "Light Blue")."""
        return len(self.multi) >= 3 and (
            self.mobile >= MOBILE_SHARE or self.long >= LONG_SHARE or self.identifiers >= 0.5)

    @property
    def mostly_standalone(self) -> bool:
        """Most split cells split into parts that also stand alone as whole cells."""
        return 2 * len(self.as_list) >= len(self.multi)

    def words(self) -> list:
        """The parts of split cells, most frequent first."""
        counts = collections.Counter(part for cell in self.multi for part in set(self.parts[cell]))
        return [part for part, _ in counts.most_common()]


def _evidence(cells, delimiter) -> _Evidence:
    parts = {cell: split_labels(cell, delimiter) for cell in dict.fromkeys(cells)}
    standalone = {split[0] for split in parts.values() if len(split) == 1}
    cells_with = collections.Counter(part for split in parts.values() for part in set(split))
    multi = [cell for cell, split in parts.items() if len(split) > 1]
    as_list = [cell for cell in multi if all(p in standalone for p in parts[cell])]
    as_label = [
        cell for cell in multi if any(p not in standalone and cells_with[p] < 2 for p in parts[cell])
    ]
    positions = collections.defaultdict(set)
    in_multi = collections.Counter()
    for cell in multi:
        for position, part in enumerate(parts[cell]):
            positions[part].add(position)
        in_multi.update(set(parts[cell]))
    recurring = [part for part, count in in_multi.items() if count >= 2]
    mobile = sum(len(positions[part]) > 1 for part in recurring) / max(len(recurring), 1)
    long = sum(len(parts[cell]) >= 3 for cell in multi) / max(len(multi), 1)
    identifiers = sum(bool(IDENTIFIER.search(part)) for part in in_multi) / max(len(in_multi), 1)
    return _Evidence(len(parts), parts, multi, as_list, as_label, cells_with, mobile, long, identifiers)


def _unsure(column, source, cells, delimiter, reason, first) -> DataError:
    """The error for cells that may or may not be lists; `first` maps a cell to where it is."""
    shown = problem_list((f"{first[cell]}: {cell!r}" for cell in cells), limit=SHOWN_CELLS)
    return DataError(
        f"{source}, column {column!r}: cannot tell whether cells are lists joined by "
        f"{delimiter!r} or single labels: {reason}\n{shown}\n"
        f"Pass delimiter={delimiter!r} (--delimiter {delimiter!r}) to split them, or "
        f"delimiter='' (--delimiter '') to keep every cell as one label. Received: delimiter=None"
    )


def _splits(evidence: _Evidence, punctuation: bool) -> bool:
    """Lists: (almost) no split cell reads as one label, and the parts stand alone as whole cells,
    combine freely, or are joined by punctuation (which a label rarely holds)."""
    if evidence.combined and evidence.few_rare(RARE_SHARE_COMBINED):
        return True
    return evidence.few_rare() and (punctuation or evidence.mostly_standalone)


def detect_label_format(cells, column: str = "labels", source: str = "The table", locate=None) -> LabelFormat:
    """Decides how a label column is written, from all of its (non-missing) text cells.

    A cell of Python list literals makes a "literal" column (every cell must
    be one). Otherwise ",", ";", "|" and whitespace are tried in this order,
    each judged by what splitting the distinct cells on it shows:

    - lists: (almost) every part recurs in other cells (a tenth of the split
      cells, among at least 10 clean ones, may hold a tag seen once; a quarter
      where the parts combine freely), and the parts stand alone as whole
      cells ("carton milk_bottle" beside "carton"), or combine freely (most
      recurring parts move between positions, a quarter of the cells hold 3
      or more, or the parts read as identifiers such as "partly_cloudy"), or
      are joined by punctuation. Tags that never stand alone split this way.
    - single labels: split cells holding a word found in no other cell
      ("Navy" of "Navy Blue"), with no cell splitting into standalone labels.

    Where the cells disagree, or say too little, a `DataError` shows a few of
    them and names the `delimiter` to pass. A column read as single labels
    whose values are mostly combinations of a much smaller set of recurring
    words is refused too, naming the words and the delimiter.

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
        if _splits(evidence, punctuation=True):
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
    if not evidence.multi:
        return LabelFormat("single")
    if _splits(evidence, punctuation=False):
        return LabelFormat("delimited", WHITESPACE)
    if evidence.as_label and not evidence.as_list and not evidence.combined:
        _refuse_combinations(evidence, column, source, first)
        return LabelFormat("single")
    if evidence.as_label and not evidence.as_list:
        shown = evidence.as_label
        reason = (f"the words combine like tags, but {len(evidence.as_label)} of the {len(evidence.multi)} cells "
                  "that split hold a word found nowhere else, as multi-word labels do")
    elif evidence.as_label:
        shown = evidence.as_label + evidence.as_list
        reason = "some split into labels that stand alone, others hold words found nowhere else"
    else:
        shown = evidence.multi
        reason = ("too few of them split into words that also stand alone as labels, and the words keep "
                  "their places as in multi-word labels")
    raise _unsure(column, source, shown, WHITESPACE, reason, first)


def _refuse_combinations(evidence: _Evidence, column: str, source: str, first: dict) -> None:
    """A `DataError` when most cells are combinations of a much smaller set of recurring words."""
    combinations = [cell for cell in evidence.multi
                    if all(evidence.cells_with[part] >= 2 for part in evidence.parts[cell])]
    words = collections.Counter(part for cell in combinations for part in set(evidence.parts[cell]))
    if 2 * len(combinations) <= evidence.cells or 2 * len(words) > len(combinations):
        return
    shown = ", ".join(repr(word) for word, _ in words.most_common(SHOWN_WORDS))
    more = f" and {len(words) - SHOWN_WORDS} more" if len(words) > SHOWN_WORDS else ""
    examples = problem_list((f"{first[cell]}: {cell!r}" for cell in combinations), limit=3)
    raise DataError(
        f"{source}, column {column!r}: {len(combinations)} of its {evidence.cells} distinct values are "
        f"combinations of {len(words)} recurring words ({shown}{more}), like lists of tags joined by "
        f"spaces, yet some words are found only once:\n{examples}\nPass delimiter=' ' (--delimiter ' ') "
        "to read every word as a label of a multilabel head, or delimiter='' (--delimiter '') to keep "
        "every value as one class. Received: delimiter=None"
    )
