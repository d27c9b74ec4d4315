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

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit
from sklearn.model_selection import ShuffleSplit

from zoo.data.encoding import encode
from zoo.heads import as_heads


def train_validation_split(
    df: pd.DataFrame, heads, validation_fraction: float = 0.2, stratify: bool = True, seed: int = 0
):
    """Splits rows into train and validation DataFrames, reproducibly for a seed.

    Args:
        df: Normalized DataFrame (`zoo.data.sources`).
        heads: Heads whose labels are balanced across the split.
        validation_fraction: Fraction of rows held out, in (0, 1).
        stratify: Keep every label's frequency alike in both parts (iterative
            stratification over all heads' labels at once); False: random.
        seed: Random seed.

    Returns:
        (train DataFrame, validation DataFrame), original row labels kept.
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            f"`validation_fraction` must be in (0, 1). Received: validation_fraction={validation_fraction}"
        )
    if stratify:
        encoded = encode(df, as_heads(heads), allow_empty=True)
        matrix = np.concatenate(list(encoded.targets.values()), axis=1)
        splitter = MultilabelStratifiedShuffleSplit(
            n_splits=1, test_size=validation_fraction, random_state=seed
        )
        train_rows, validation_rows = next(splitter.split(np.zeros(len(df)), matrix))
    else:
        splitter = ShuffleSplit(n_splits=1, test_size=validation_fraction, random_state=seed)
        train_rows, validation_rows = next(splitter.split(np.zeros(len(df))))
    return df.iloc[np.sort(train_rows)], df.iloc[np.sort(validation_rows)]


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
