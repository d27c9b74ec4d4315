"""Label names -> multi-hot / one-hot targets, with errors that name the row.

Example:
    >>> import pandas as pd
    >>> import zoo
    >>> from zoo.data.encoding import encode
    >>> df = pd.DataFrame({"filename": ["a.jpg"], "tags": [("sea", "sunset")]})
    >>> encode(df, [zoo.Head("tags", ["sea", "sunset", "trees"])]).targets["tags"]
    array([[1., 1., 0.]], dtype=float32)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from zoo.data.errors import DataError, capped, problem_list
from zoo.data.tables import FILE_COLUMN
from zoo.models.heads import Head

ON_ERROR = ("raise", "skip")


def learn_classes(df: pd.DataFrame, column: str) -> list[str]:
    """Sorted label names found in a column (the `from_onehot_csv` order if recorded)."""
    recorded = df.attrs.get("classes", {}).get(column)
    if recorded:
        return list(recorded)
    if column not in df.columns:
        raise ValueError(f"No label column {column!r}. Columns present: {capped(df.columns)}")
    return sorted({label for labels in df[column] for label in labels})


def heads_from_dataframe(df: pd.DataFrame, kinds: dict) -> list[Head]:
    """Heads whose classes are learned from the data: `kinds` maps column -> kind."""
    return [Head(column, learn_classes(df, column), kind=kind) for column, kind in kinds.items()]


@dataclasses.dataclass
class Encoded:
    """Targets for the rows that were kept.

    Attributes:
        targets: {head name: float32 array (rows, units)}.
        kept: Positions (0-based) of the kept rows of the input DataFrame.
        skipped: One message per skipped row.
    """

    targets: dict
    kept: np.ndarray
    skipped: list


def _row_problem(head: Head, labels: tuple, index: dict, allow_empty: bool):
    unknown = [label for label in labels if label not in index]
    if unknown:
        return f"label(s) {unknown} not in the classes of head {head.name!r} [{capped(map(repr, head.classes))}]"
    if head.kind == "multiclass" and len(set(labels)) != 1:
        return f"head {head.name!r} is multiclass and needs exactly one label, got {list(labels)}"
    if head.kind == "binary" and len(set(labels)) > 1:
        return f"head {head.name!r} is binary and takes at most one label, got {list(labels)}"
    if head.kind == "multilabel" and not labels and not allow_empty:
        return (f"no label for head {head.name!r} (pass allow_empty=True, or --allow-empty to zoo train, "
                "if that is a valid answer)")
    return None


def _encode_row(head: Head, labels: tuple, index: dict) -> np.ndarray:
    if head.kind == "binary":
        positive = head.classes[-1]
        return np.array([1.0 if positive in labels else 0.0], "float32")
    row = np.zeros(len(head.classes), "float32")
    row[[index[label] for label in labels]] = 1.0
    return row


def encode(
    df: pd.DataFrame, heads: list[Head], on_error: str = "raise", allow_empty: bool = False
) -> Encoded:
    """Encodes the label columns of a normalized DataFrame, one column per head.

    Args:
        df: From `zoo.data.sources`: `filename` plus a labels column per head.
        heads: The heads; their class order is the target order.
        on_error: "raise" checks every row, then raises one `DataError`
            listing every bad row (the first 20, then how many more);
            "skip" drops bad rows and reports them in `Encoded.skipped`.
        allow_empty: Accept rows with no label for multilabel heads.

    Returns:
        An `Encoded` with the targets of the kept rows.

    Raises:
        DataError: With `on_error="raise"`, for any bad row.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"`on_error` must be one of {ON_ERROR}. Received: on_error={on_error!r}")
    missing = [h.name for h in heads if h.name not in df.columns]
    if missing:
        raise ValueError(
            f"No label column for head(s) {missing}. Columns present: {capped(df.columns)}"
        )
    indices = {
        h.name: {c: (0 if h.kind == "binary" else i) for i, c in enumerate(h.classes)} for h in heads
    }
    rows = {h.name: [] for h in heads}
    kept, skipped = [], []
    if not heads:
        return Encoded({}, np.arange(len(df)), [])
    files = df[FILE_COLUMN] if FILE_COLUMN in df.columns else pd.Series([""] * len(df), index=df.index)
    for position, (row_label, filename) in enumerate(zip(df.index, files)):
        problems = [
            p
            for h in heads
            if (p := _row_problem(h, tuple(df.at[row_label, h.name]), indices[h.name], allow_empty))
        ]
        if problems:
            skipped.append(f"Row {row_label} ({filename}): {'; '.join(problems)}")
            continue
        kept.append(position)
        for h in heads:
            rows[h.name].append(_encode_row(h, tuple(df.at[row_label, h.name]), indices[h.name]))
    if skipped and on_error == "raise":
        raise DataError(label_problems_message(skipped, len(df)))
    targets = {
        h.name: np.stack(rows[h.name]) if rows[h.name] else np.zeros((0, h.units), "float32")
        for h in heads
    }
    return Encoded(targets, np.asarray(kept, dtype=int), skipped)


def label_problems_message(messages, rows: int) -> str:
    """One message for every bad row: a count, then the rows (the first 20, then how many more).

    Example:
        >>> print(label_problems_message(["Row 1 (b.jpg): no label"], 2))
        1 of 2 row(s) have label problems:
          Row 1 (b.jpg): no label
    """
    return f"{len(messages)} of {rows} row(s) have label problems:\n{problem_list(messages)}"


def decode_predictions(probabilities: np.ndarray, head: Head, threshold=None) -> list[tuple]:
    """Probabilities -> label names per sample, with the head's thresholds."""
    probabilities = np.asarray(probabilities)
    if head.kind == "multiclass":
        return [(head.classes[i],) for i in probabilities.argmax(axis=-1)]
    threshold = np.asarray(head.threshold if threshold is None else threshold, "float32")
    if head.kind == "binary":
        positive = probabilities[:, 0] > threshold
        negative = head.classes[0] if len(head.classes) == 2 else None
        return [(head.classes[-1],) if p else ((negative,) if negative else ()) for p in positive]
    chosen = probabilities > threshold
    return [tuple(np.asarray(head.classes)[row]) for row in chosen]
