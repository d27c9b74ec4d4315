"""Train/validation splits (random or multi-label stratified) and label counts.

Example:
    >>> import pandas as pd
    >>> import zoo
    >>> from zoo.data.splits import train_validation_split
    >>> df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(10)],
    ...                    "tags": [("a",), ("b",)] * 5})
    >>> train, validation = train_validation_split(df, [zoo.Head("tags", ["a", "b"])], 0.2)
    >>> len(train), len(validation)
    (8, 2)
"""

from __future__ import annotations

import collections
import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit
from sklearn.model_selection import ShuffleSplit

from zoo.data.encoding import encode
from zoo.data.errors import DataError, DataWarning, capped, problem_list
from zoo.data.duplicates import head_kinds, merge_duplicates
from zoo.models.heads import as_heads


def _class_counts(df: pd.DataFrame, name: str) -> collections.Counter:
    """Rows holding each label of one column."""
    return collections.Counter(label for labels in df[name] for label in set(labels))


def rare_classes(df: pd.DataFrame, heads, validation_fraction: float = 0.2) -> dict:
    """Classes too rare to have an example on both sides of a split.

    A class is rare when it has a single example, or so few that the
    validation part would get none (count * validation_fraction < 1).

    Args:
        df: Normalized DataFrame (`zoo.data.sources`).
        heads: Heads, `{name: classes}` or `{name: kind}`.
        validation_fraction: Fraction of rows held out.

    Returns:
        {head name: {class: count}} for the heads with rare classes.

    Example:
        >>> df = pd.DataFrame({"filename": list("abcdefgh"), "tags": [("a",)] * 7 + [("b",)]})
        >>> rare_classes(df, {"tags": "multiclass"}, 0.25)
        {'tags': {'b': 1}}
    """
    rare = {}
    for name in head_kinds(heads):
        counts = _class_counts(df, name)
        found = {c: n for c, n in sorted(counts.items()) if n < 2 or n * validation_fraction < 1}
        if found:
            rare[name] = found
    return rare


def _rare_message(rare: dict, validation_fraction: float) -> str:
    lines = [
        f"head {name!r}: " + capped(f"{c!r} ({n})" for c, n in classes.items())
        for name, classes in rare.items()
    ]
    return (
        "Classes with too few examples to put one in validation are kept in training only "
        f"(validation_fraction={validation_fraction}):\n{problem_list(lines)}"
    )


def _has_rare(df: pd.DataFrame, rare: dict) -> np.ndarray:
    """Per row: holds a rare class of some head."""
    mask = np.zeros(len(df), dtype=bool)
    for name, classes in rare.items():
        mask |= np.array([bool(set(labels) & set(classes)) for labels in df[name]], dtype=bool)
    return mask


def _split_positions(df, heads, test_size, stratify, seed):
    """(train, validation) positions of `df`."""
    if stratify:
        encoded = encode(df, heads, allow_empty=True)
        matrix = np.concatenate(list(encoded.targets.values()), axis=1)
        splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        return next(splitter.split(np.zeros(len(df)), matrix))
    splitter = ShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    return next(splitter.split(np.zeros(len(df))))


def train_validation_split(
    df: pd.DataFrame, heads, validation_fraction: float = 0.2, stratify: bool = True, seed: int = 0
):
    """Splits files into train and validation DataFrames, reproducibly for a seed.

    The split works on unique files: a file listed twice is merged first
    (`merge_duplicates`), so it never lands on both sides. Rows holding a class
    too rare to have an example on both sides (`rare_classes`) stay in
    training; a `DataWarning` names those classes, and both parts carry them
    in `attrs["rare_classes"]`.

    Args:
        df: Normalized DataFrame (`zoo.data.sources`).
        heads: Heads whose labels are balanced across the split.
        validation_fraction: Fraction of rows held out, in (0, 1).
        stratify: Keep every label's frequency alike in both parts (iterative
            stratification over all heads' labels at once); False: random.
        seed: Random seed.

    Returns:
        (train DataFrame, validation DataFrame), original row labels kept.

    Raises:
        DataError: A file listed twice with different labels for a
            multiclass or binary head, or too few rows to split.
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            f"`validation_fraction` must be in (0, 1). Received: validation_fraction={validation_fraction}"
        )
    heads = as_heads(heads)
    df = merge_duplicates(df, heads)
    rare = rare_classes(df, heads, validation_fraction)
    if not rare:
        train_rows, validation_rows = _split_positions(df, heads, validation_fraction, stratify, seed)
    else:
        forced = _has_rare(df, rare)
        if len(df) - forced.sum() - 1 < 1:  # a tiny set: keep in training only the classes seen once
            rare = {h: kept for h, found in rare.items() if (kept := {c: n for c, n in found.items() if n < 2})}
            forced = _has_rare(df, rare)
        if rare:
            warnings.warn(_rare_message(rare, validation_fraction), DataWarning, stacklevel=2)
        rest = np.flatnonzero(~forced)
        size = min(math.ceil(validation_fraction * len(df)), len(rest) - 1)
        if size < 1:
            raise DataError(
                f"Too few rows without rare classes to split: {len(rest)} of {len(df)}. "
                "Drop rare classes first (zoo.data.drop_rare_classes). "
                f"Received: validation_fraction={validation_fraction}"
            )
        part_train, part_validation = _split_positions(df.iloc[rest], heads, int(size), stratify, seed)
        train_rows = np.concatenate([np.flatnonzero(forced), rest[part_train]])
        validation_rows = rest[part_validation]
    train, validation = df.iloc[np.sort(train_rows)], df.iloc[np.sort(validation_rows)]
    for part in (train, validation):
        part.attrs["rare_classes"] = rare
    return train, validation


@dataclasses.dataclass
class RareClassReport:
    """What `drop_rare_classes` removed.

    Attributes:
        classes: {head: {class: count}} of the classes removed.
        rows_removed: Rows dropped.
        labels_removed: Labels taken out of the rows of multilabel heads.
        min_count: The threshold used.
    """

    classes: dict
    rows_removed: int
    labels_removed: int
    min_count: int

    def __str__(self) -> str:
        if not self.classes:
            return f"No class has fewer than {self.min_count} examples."
        lines = [
            f"head {name!r}: " + capped(f"{c!r} ({n})" for c, n in classes.items())
            for name, classes in self.classes.items()
        ]
        count = sum(len(c) for c in self.classes.values())
        return (
            f"Removed {count} class(es) with fewer than {self.min_count} examples, "
            f"{self.rows_removed} row(s) and {self.labels_removed} label(s) from multilabel rows:\n"
            + problem_list(lines)
        )


def drop_rare_classes(df: pd.DataFrame, heads, min_count: int, allow_empty: bool = False):
    """Removes classes with fewer than `min_count` examples (counted once, on the input).

    Multiclass and binary heads: rows of those classes are dropped.
    Multilabel heads: those labels are taken out of the rows; rows left with
    no label are dropped unless `allow_empty`.

    Args:
        df: Normalized DataFrame (`zoo.data.sources`).
        heads: Heads, `{name: classes}` or `{name: kind}` ({"type": "multiclass"}).
        min_count: Fewest examples a class needs to stay.
        allow_empty: Keep multilabel rows left without labels.

    Returns:
        (DataFrame, `RareClassReport`); `attrs["classes"]` is updated.

    Example:
        >>> df = pd.DataFrame({"filename": list("abcd"), "kind": [("x",), ("x",), ("x",), ("y",)],
        ...                    "tags": [("p", "q"), ("p",), ("p",), ("p",)]})
        >>> kept, report = drop_rare_classes(df, {"kind": "multiclass", "tags": "multilabel"}, 2)
        >>> kept["tags"].tolist(), report.classes, report.rows_removed, report.labels_removed
        ([('p',), ('p',), ('p',)], {'kind': {'y': 1}, 'tags': {'q': 1}}, 1, 1)
    """
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ValueError(f"`min_count` must be a positive integer. Received: min_count={min_count!r}")
    kinds = head_kinds(heads)
    rare = {}
    for name in kinds:
        counts = _class_counts(df, name)
        found = {c: n for c, n in sorted(counts.items()) if n < min_count}
        if found:
            rare[name] = found
    out, keep, labels_removed = df.copy(), np.ones(len(df), dtype=bool), 0
    for name, classes in rare.items():
        holds = np.array([bool(set(labels) & set(classes)) for labels in df[name]], dtype=bool)
        if kinds[name] != "multilabel":
            keep &= ~holds
            continue
        trimmed = [tuple(label for label in labels if label not in classes) for labels in df[name]]
        labels_removed += sum(len(a) - len(b) for a, b in zip(df[name], trimmed))
        out[name] = trimmed
        if not allow_empty:
            keep &= ~(holds & np.array([not labels for labels in trimmed], dtype=bool))
    out = out.iloc[np.flatnonzero(keep)]
    recorded = dict(df.attrs.get("classes", {}))
    for name, classes in rare.items():
        if name in recorded:
            recorded[name] = [c for c in recorded[name] if c not in classes]
    if recorded:
        out.attrs["classes"] = recorded
    return out, RareClassReport(rare, int((~keep).sum()), labels_removed, int(min_count))


def label_counts(splits: dict, heads) -> pd.DataFrame:
    """Positive count of every label in every split.

    Args:
        splits: {split name: normalized DataFrame}.
        heads: The heads whose labels are counted.

    Returns:
        A DataFrame indexed by (head, class) with one count column per split
        and a `fraction` column per split.
    """
    heads = as_heads(heads)
    index = pd.MultiIndex.from_tuples(
        [(h.name, c) for h in heads for c in h.classes], names=["head", "class"]
    )
    table = pd.DataFrame(index=index)
    for name, frame in splits.items():
        counts = {}
        for head in heads:
            for c in head.classes:
                counts[(head.name, c)] = sum(c in labels for labels in frame[head.name])
        table[name] = pd.Series(counts).reindex(index).astype(int)
        table[f"{name}_fraction"] = table[name] / max(len(frame), 1)
    return table
