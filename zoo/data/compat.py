"""For code migrating from the classic Keras recipes.

`flow_from_dataframe` keeps the familiar `ImageDataGenerator` arguments (gone from
Keras 3) and returns a `tf.data.Dataset` (a `zoo.data.ImageDataset`); `split_outputs`
turns batches with one concatenated label vector into per-head targets.

Example:
    >>> import numpy as np
    >>> import zoo
    >>> from zoo.data.compat import split_outputs
    >>> heads = [zoo.Head("color", ["r", "g"], kind="multiclass"), zoo.Head("tags", ["a", "b", "c"])]
    >>> x, y = next(iter(split_outputs([(np.zeros((1, 4)), np.array([[1, 0, 0, 1, 1]]))], heads)))
    >>> y["tags"].tolist()
    [[0, 1, 1]]
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from zoo.data.dataset import ImageDataset
from zoo.data.encoding import learn_classes
from zoo.data.image_checks import check_images
from zoo.data.pipeline import DataError, images_dataset, make_dataset
from zoo.data.tables import FILE_COLUMN, from_dataframe, resolve_paths
from zoo.models.heads import Head, as_heads

CLASS_MODES = ("categorical", "binary", "sparse", "raw", "multi_output", None)


def _split_rows(n: int, validation_split: float, subset: str | None, seed: int) -> np.ndarray:
    if not validation_split:
        if subset is not None:
            raise ValueError(f"`subset` needs a `validation_split`. Received: subset={subset!r}")
        return np.arange(n)
    if subset not in ("training", "validation"):
        raise ValueError(f"`subset` must be 'training' or 'validation'. Received: subset={subset!r}")
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * (1.0 - validation_split)))
    return np.sort(order[:cut] if subset == "training" else order[cut:])


def flow_from_dataframe(
    dataframe: pd.DataFrame,
    directory=None,
    x_col: str = "filename",
    y_col="class",
    class_mode: str | None = "categorical",
    classes=None,
    target_size=(256, 256),
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float = 0.0,
    subset: str | None = None,
    rescale: float | None = None,
    augment=None,
    on_error: str = "raise",
) -> ImageDataset:
    """`ImageDataGenerator(rescale=..., validation_split=...).flow_from_dataframe(...)`, as tf.data.

    Args:
        dataframe: Table of file names and labels; a `y_col` cell may hold one
            label or a list of labels (multi-label).
        directory: Base folder of relative file names.
        x_col: File name column.
        y_col: Label column; a list of columns with `class_mode="raw"` or
            `"multi_output"`.
        class_mode: "categorical" (one-hot or, with list cells, multi-hot),
            "binary", "sparse" (class index), "raw" (column values as floats),
            "multi_output" (a dict per `y_col` column) or None (images only).
        classes: Class order (default: sorted labels found).
        target_size: (height, width).
        batch_size, shuffle, seed: As in Keras.
        validation_split, subset: Hold out a fraction; pick "training" or
            "validation" (the same seed gives complementary subsets).
        rescale: Multiplies pixel values (1/255 for 0..1 inputs).
        augment: Augmentation, as in `make_dataset`.
        on_error: "raise" or "skip" for bad files and labels.

    Returns:
        An `ImageDataset` of `(images, targets)`; images float32, 0..255 times
        `rescale`. It lists its `files` and `skipped` rows; its batches are
        rescaled and reshaped by a function of their own, so it has no `replay`
        (`zoo.fit_staged` does not cache backbone features for it).
    """
    if class_mode not in CLASS_MODES:
        raise ValueError(f"`class_mode` must be one of {CLASS_MODES}. Received: class_mode={class_mode!r}")
    seed = 0 if seed is None else seed
    frame = dataframe.iloc[_split_rows(len(dataframe), validation_split, subset, seed)]
    columns = [y_col] if isinstance(y_col, str) else list(y_col)
    if class_mode in ("raw", "multi_output", None):
        return _flow_raw(frame, directory, x_col, columns, class_mode, target_size, batch_size,
                         shuffle, seed, rescale, augment, on_error)
    if len(columns) != 1:
        raise ValueError(f"class_mode={class_mode!r} takes one `y_col`. Received: y_col={y_col!r}")
    normalized = from_dataframe(frame, {columns[0]: "y"}, file_column=x_col, delimiter="")
    classes = list(classes) if classes is not None else learn_classes(
        from_dataframe(dataframe, {columns[0]: "y"}, file_column=x_col, delimiter=""), "y"
    )
    multi_label = any(len(labels) > 1 for labels in normalized["y"])
    if class_mode == "binary":
        head = Head("y", classes, kind="binary")
    else:
        head = Head("y", classes, kind="multilabel" if multi_label else "multiclass")
    dataset = make_dataset(normalized, [head], directory=directory, image_size=target_size,
                           batch_size=batch_size, shuffle=shuffle, augment=augment, seed=seed,
                           on_error=on_error)
    sparse = class_mode == "sparse"

    def finish(images, targets):
        y = targets["y"]
        if sparse:
            y = tf.argmax(y, axis=-1)
        return images * (rescale or 1.0), y

    return dataset.derive(dataset.map(finish))


def _flow_raw(frame, directory, x_col, columns, class_mode, target_size, batch_size, shuffle, seed,
              rescale, augment, on_error):
    report = check_images(resolve_paths(frame.rename(columns={x_col: FILE_COLUMN}), directory))
    keep = report.ok if on_error == "skip" else np.ones(len(frame), dtype=bool)
    if report.problems and on_error == "raise":
        raise DataError(report.summary())
    labels = None
    if class_mode == "raw":
        matrix = frame[columns].to_numpy().astype("float32")[keep]
        labels = matrix if len(columns) > 1 else matrix[:, 0]
    elif class_mode == "multi_output":
        labels = {c: frame[c].to_numpy().astype("float32")[keep] for c in columns}
    dataset = images_dataset(
        np.asarray(report.paths)[keep], labels, needs_pillow=report.needs_pillow[keep],
        image_size=target_size, batch_size=batch_size, shuffle=shuffle, augment=augment, seed=seed,
        checked=True,
    )
    scale = rescale or 1.0
    scaled = dataset.map(lambda x, *y: (x * scale, *y) if y else x * scale)
    return ImageDataset(scaled, files=np.asarray(report.paths)[keep],
                        skipped=[f"{p}: {r}" for p, r in report.problems.items()])


def _split(y, sizes, names):
    y = np.asarray(y)
    total = sum(sizes)
    if y.ndim != 2 or y.shape[1] != total:
        raise ValueError(
            f"Targets must have shape (batch, {total}) to split into heads {names} of sizes "
            f"{sizes}. Received: shape {y.shape}"
        )
    bounds = np.cumsum([0, *sizes])
    return {name: y[:, a:b] for name, a, b in zip(names, bounds[:-1], bounds[1:])}


class SplitOutputs(keras.utils.PyDataset):
    """A `keras.utils.PyDataset` view of another that splits its targets per head."""

    def __init__(self, source, heads, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.heads = as_heads(heads)

    def __len__(self):
        return len(self.source)

    def __getitem__(self, index):
        x, y, *rest = self.source[index]
        return (x, _split(y, [h.units for h in self.heads], [h.name for h in self.heads]), *rest)


def split_outputs(batches, heads):
    """Splits `(x, y_concatenated[, sample_weight])` batches into `(x, {head: y_part})`.

    Args:
        batches: Any iterable of batches (a generator, a list) or a sequence
            with `__len__`/`__getitem__` such as a `keras.utils.PyDataset`.
        heads: Heads in the order their columns appear in `y`.

    Returns:
        A `SplitOutputs` PyDataset for sequences, else a generator.
    """
    heads = as_heads(heads)
    if hasattr(batches, "__getitem__") and hasattr(batches, "__len__") and not isinstance(batches, (list, tuple)):
        return SplitOutputs(batches, heads)
    sizes, names = [h.units for h in heads], [h.name for h in heads]

    def generate():
        for x, y, *rest in batches:
            yield (x, _split(y, sizes, names), *rest)

    return generate()
