"""Files listed more than once in a label table: merged when their labels agree, refused when not.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"filename": ["/a.jpg", "/a.jpg"], "tags": [("sea",), ("sunset",)]})
    >>> merged, conflicts, notes = find_duplicates(df, {"tags": "multilabel"})
    >>> merged["tags"].tolist(), conflicts
    ([('sea', 'sunset')], [])
"""

from __future__ import annotations

import os
import warnings

import pandas as pd

from zoo.data.errors import DataError, DataWarning, capped, problem_list
from zoo.data.tables import FILE_COLUMN, resolve_paths
from zoo.models.heads import HEAD_KINDS, as_heads


def head_kinds(heads) -> dict:
    """{head name: kind} from Heads, `{name: classes}`, or `{name: kind}` such as {"tags": "multilabel"}.

    Example:
        >>> head_kinds({"tags": "multilabel", "colour": "multiclass"})
        {'tags': 'multilabel', 'colour': 'multiclass'}
    """
    if isinstance(heads, dict) and heads and all(isinstance(v, str) for v in heads.values()):
        bad = {name: kind for name, kind in heads.items() if kind not in HEAD_KINDS}
        if bad:
            raise ValueError(f"Head kinds must be one of {HEAD_KINDS}. Received: {bad}")
        return dict(heads)
    return {head.name: head.kind for head in as_heads(heads)}


def _same_file_groups(df: pd.DataFrame, directory=None) -> dict:
    """{normalized path: positions} for files listed more than once."""
    keys = [os.path.normpath(path) for path in resolve_paths(df, directory)]
    groups: dict = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    return {key: positions for key, positions in groups.items() if len(positions) > 1}


def _rows(df, positions) -> str:
    return capped((df.index[p] for p in positions), limit=5)


def _merge_group(df, positions, kinds):
    """({head: merged labels}, conflict messages) for the rows of one file."""
    merged, conflicts = {}, []
    for name, kind in kinds.items():
        column = df[name].to_numpy()
        values = [tuple(column[p]) for p in positions]
        distinct = list(dict.fromkeys(frozenset(v) for v in values))
        if len(distinct) == 1:
            merged[name] = values[0]
        elif kind == "multilabel":
            merged[name] = tuple(dict.fromkeys(label for value in values for label in value))
        else:
            conflicts.append(
                f"{df[FILE_COLUMN].iloc[positions[0]]} (rows {_rows(df, positions)}): head {name!r} is "
                f"{kind} and the rows disagree: "
                + capped((repr(list(v)) for v in dict.fromkeys(values)), limit=5, separator=" vs ")
            )
    return merged, conflicts


def find_duplicates(df: pd.DataFrame, heads, directory=None):
    """Merges rows that list the same file; returns (table, conflicts, notes) without raising.

    Exact duplicates are merged, and so are the labels of a multilabel head
    (their union). Files whose rows disagree on a multiclass or binary head
    are left out of the table and described in `conflicts`; `notes` says what
    was merged.

    Args:
        df: Normalized DataFrame (`zoo.data.sources`).
        heads: Heads, `{name: classes}` or `{name: kind}`.
        directory: Base folder of relative file names ("a.jpg" and
            "<directory>/a.jpg" are the same file).

    Returns:
        (DataFrame with one row per file, first row's index kept; conflict
        messages; merge messages).

    Example:
        >>> df = pd.DataFrame({"filename": ["a.jpg", "a.jpg"], "tags": [("sea",), ("sky",)]})
        >>> table, conflicts, notes = find_duplicates(df, {"tags": "multilabel"})
        >>> table["tags"].tolist(), conflicts, notes
        ([('sea', 'sky')], [], ["a.jpg (rows 0, 1): labels merged, head 'tags': ['sea', 'sky']"])
    """
    kinds = {name: kind for name, kind in head_kinds(heads).items() if name in df.columns}
    groups = _same_file_groups(df, directory)
    if not groups:
        return df, [], []
    drop, conflicts, notes = set(), [], []
    out = df.copy()
    for positions in groups.values():
        merged, group_conflicts = _merge_group(df, positions, kinds)
        drop.update(positions[1:])
        where = f"{df[FILE_COLUMN].iloc[positions[0]]} (rows {_rows(df, positions)})"
        if group_conflicts:
            conflicts += group_conflicts
            drop.add(positions[0])
            continue
        changed = {n: v for n, v in merged.items() if set(v) != set(df[n].iloc[positions[0]])}
        for name, labels in merged.items():
            out.iat[positions[0], out.columns.get_loc(name)] = labels
        if changed:
            notes.append(f"{where}: labels merged, " + ", ".join(f"head {n!r}: {list(v)}" for n, v in changed.items()))
        else:
            notes.append(f"{where}: exact duplicate rows merged")
    keep = [p for p in range(len(df)) if p not in drop]
    return out.iloc[keep], conflicts, notes


def merge_duplicates(df: pd.DataFrame, heads) -> pd.DataFrame:
    """One row per file: duplicates merged with a `DataWarning`, disagreements raised.

    Args:
        df: Normalized DataFrame (`zoo.data.sources`).
        heads: Heads, `{name: classes}` or `{name: kind}`.

    Returns:
        The table with one row per file (see `find_duplicates`).

    Raises:
        DataError: A file whose rows disagree on a multiclass or binary head;
            the message names every such file and both labels.

    Example:
        >>> df = pd.DataFrame({"filename": ["a.jpg", "a.jpg"], "kind": [("cat",), ("dog",)]})
        >>> merge_duplicates(df, {"kind": "multiclass"})
        Traceback (most recent call last):
        ...
        zoo.data.errors.DataError: 1 file(s) listed more than once with different labels:
          a.jpg (rows 0, 1): head 'kind' is multiclass and the rows disagree: ['cat'] vs ['dog']
    """
    table, conflicts, notes = find_duplicates(df, heads)
    if conflicts:
        raise DataError(conflicts_message(conflicts))
    warn_merged(notes)
    return table


def conflicts_message(conflicts) -> str:
    return f"{len(conflicts)} file(s) listed more than once with different labels:\n{problem_list(conflicts)}"


def warn_merged(notes) -> None:
    if notes:
        warnings.warn(
            f"{len(notes)} file(s) listed more than once, now one row each:\n{problem_list(notes)}",
            DataWarning,
            stacklevel=3,
        )
