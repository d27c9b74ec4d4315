"""The Predictor: a model (or model file) to label names for images.

Example:
    >>> predictor = zoo.Predictor("clothes.h5")  # doctest: +SKIP
    >>> predictor.predict(["examples/1.jpg", "photos/"])  # doctest: +SKIP
                 file  color  color:black  color:blue  ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from zoo.data.encoding import decode_predictions
from zoo.data.pipeline import make_dataset, resize_image
from zoo.data.image_files import (  # noqa: F401  (image_files, walk_folder: importable here too)
    NOT_AN_IMAGE, find_image_files, image_files, walk_folder)
from zoo.data.tables import FILE_COLUMN
from zoo.io.export.runtimes import load_any
from zoo.models.layers import ImagePreprocessing  # noqa: F401  (registered before a model file is loaded)
from zoo.io.progress_callbacks import keras_progress
from zoo.models.card import card_of
from zoo.evaluation.tta import check_tta, predict_tta

PROGRESS_BAR_BATCHES = 10
# The label cell of a head with no class above its threshold.
NO_LABEL = "(none)"


class Predictor:
    """Predicts label names with a model's stored input size and thresholds.

    Args:
        model_or_path: A keras.Model, a `.keras`/`.h5` file, or an export of
            `zoo.export` (`.onnx`, `.tflite` or a SavedModel folder).
        batch_size: Images per batch.
        resize: How images are fitted to the input ("stretch", "pad", "crop");
            use what the model was trained with.
        on_error: "raise" for unreadable files, or "skip" (they are listed in
            `Predictor.skipped` after `predict`).
        exif_transpose: Rotate or mirror photos by their EXIF orientation, as a
            photo viewer shows them (the default); False reads the stored pixels.
        tta: Test-time augmentation: None, "flip" (the mean of each image's and
            its mirror's probabilities) or "flip+crops" (see `zoo.evaluation.tta`).
    """

    def __init__(self, model_or_path, batch_size: int = 32, resize: str = "stretch", on_error: str = "raise",
                 exif_transpose: bool = True, tta: str | None = None):
        self.tta = check_tta(tta)
        self.model = model_or_path if hasattr(model_or_path, "predict") else load_any(model_or_path)
        card = card_of(self.model)
        self.heads = list(card.heads)
        self.image_size = card.input_shape[:2]
        self.batch_size, self.resize, self.on_error = batch_size, resize, on_error
        self.exif_transpose = exif_transpose
        self.skipped: list[str] = []

    def _dataset_from(self, inputs):
        """(batches of images, identifiers) for any supported input."""
        if isinstance(inputs, tf.data.Dataset):
            return inputs.map(lambda *batch: batch[0]), None  # images, with or without labels
        if isinstance(inputs, np.ndarray) or tf.is_tensor(inputs):
            array = np.asarray(inputs, dtype="float32")
            if array.shape[-1:] != (3,) or array.ndim not in (3, 4):
                raise ValueError(f"Arrays must be (n, height, width, 3). Received: shape {array.shape}")
            if array.ndim == 3:
                array = array[None]
            if array.shape[1:3] != self.image_size:
                array = np.stack([resize_image(a, self.image_size, self.resize).numpy() for a in array])
            return tf.data.Dataset.from_tensor_slices(array).batch(self.batch_size), list(range(len(array)))
        files, others = find_image_files(inputs)
        dataset = make_dataset(pd.DataFrame({FILE_COLUMN: files}), None, image_size=self.image_size,
                               batch_size=self.batch_size, shuffle=False, resize=self.resize, on_error=self.on_error,
                               exif_transpose=self.exif_transpose)
        self.skipped = [f"{path}: {NOT_AN_IMAGE}" for path in others] + list(dataset.skipped)
        return dataset, list(dataset.files)

    def predict_probabilities(self, inputs) -> tuple[dict, list | None]:
        """({head: probabilities}, identifiers) for files, folders, arrays or a dataset."""
        dataset, identifiers = self._dataset_from(inputs)
        if self.tta is not None:
            parts = [predict_tta(self.model, images, self.tta) for images in dataset]
            outputs = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]} if parts else {}
            return outputs, identifiers
        batches = int(dataset.cardinality())
        outputs = self.model.predict(dataset, **keras_progress(batches if batches >= 0 else None, "predict",
                                                               min_batches=PROGRESS_BAR_BATCHES))
        if not isinstance(outputs, dict):
            outputs = dict(zip(self.model.output_names, outputs if isinstance(outputs, list) else [outputs]))
        return outputs, identifiers

    def explain(self, inputs, folder) -> list[Path]:
        """Writes Grad-CAM overlays: one PNG per image, head and explained class.

        A multiclass head explains its top class; multilabel and binary heads every
        class above its threshold (else the top one). See `zoo.evaluation.explain.write_overlays`.

        Args:
            inputs: Image files or folders, an array of images or a `tf.data.Dataset`.
            folder: Output folder; files are named `{image}_{head}_{class}.png`.

        Returns:
            The written files.

        Example:
            >>> zoo.Predictor("clothes.keras").explain("photos/", "overlays")  # doctest: +SKIP
            [PosixPath('overlays/1_color_red.png'), PosixPath('overlays/1_type_shirt.png')]
        """
        import keras

        from zoo.evaluation.explain import write_overlays

        if not isinstance(self.model, keras.Model):
            raise ValueError("Grad-CAM needs a Keras model file (.keras or .h5), not an export. "
                             f"Received: {type(self.model).__name__}")
        dataset, identifiers = self._dataset_from(inputs)
        written, start = [], 0
        for images in dataset:
            images = np.asarray(images)
            outputs = self.model(images, training=False)
            if identifiers is None:
                names = [str(start + k) for k in range(len(images))]
            else:
                names = [Path(str(i)).stem for i in identifiers[start:start + len(images)]]
            written += write_overlays(self.model, images, names, {k: np.asarray(v) for k, v in outputs.items()},
                                      folder)
            start += len(images)
        return written

    def predict(self, inputs, top_k: int | None = None) -> pd.DataFrame:
        """One row per image: `file`, then per head the predicted label names, the top class and
        its probability, optionally the `top_k` most probable classes, and one probability column
        per class.

        Per head the columns are: `head` (label names above the thresholds, space-separated for
        multilabel heads, `(none)` when no class passes), `head:top` and `head:top_probability`
        (the most probable class, whatever the thresholds), `head:top_k` (with `top_k`: the `top_k`
        most probable classes, e.g. `sea 0.91; sunset 0.40`) and `head:class` (the probability
        of each class; binary heads: of the positive class).

        Args:
            inputs: Image files or folders, an array of images or a `tf.data.Dataset`.
            top_k: Number of classes in the `head:top_k` columns (None: no such columns).

        Example:
            >>> frame = zoo.Predictor("clothes.keras").predict("photos/", top_k=2)  # doctest: +SKIP
            >>> frame[["file", "color", "color:top_k"]].iloc[0].tolist()  # doctest: +SKIP
            ['photos/1.jpg', 'red', 'red 0.93; blue 0.05']
        """
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
            raise ValueError(f"`top_k` must be a positive integer or None. Received: top_k={top_k!r}")
        probabilities, identifiers = self.predict_probabilities(inputs)
        count = len(next(iter(probabilities.values())))
        frame = pd.DataFrame({"file": identifiers if identifiers is not None else range(count)})
        for head in self.heads:
            values = np.asarray(probabilities[head.name])
            frame[head.name] = [" ".join(labels) or NO_LABEL for labels in decode_predictions(values, head)]
            names, ranked = _ranked_classes(head, values)
            order = np.argsort(-ranked, axis=1, kind="stable")
            frame[f"{head.name}:top"] = names[order[:, 0]]
            frame[f"{head.name}:top_probability"] = ranked[np.arange(count), order[:, 0]]
            if top_k is not None:
                frame[f"{head.name}:top_k"] = [
                    "; ".join(f"{names[j]} {row[j]:.2f}" for j in row_order[:top_k])
                    for row, row_order in zip(ranked, order)
                ]
            classes = head.classes if head.kind != "binary" else [head.classes[-1]]
            for j, name in enumerate(classes):
                frame[f"{head.name}:{name}"] = values[:, j]
        return frame


def preview(frame: pd.DataFrame, heads, limit: int = 10) -> list[str]:
    """One line per row of a `Predictor.predict` frame: the file, then per head its labels and the
    top class's probability; at most `limit` lines, then a count of the rest.

    Args:
        frame: What `Predictor.predict` returned.
        heads: The model's heads (`Predictor.heads`).
        limit: Rows shown.

    Example:
        >>> from zoo.models.heads import Head
        >>> frame = pd.DataFrame({"file": ["photos/a.jpg"], "tags": ["(none)"], "tags:top": ["sea"],
        ...                       "tags:top_probability": [0.41]})
        >>> preview(frame, [Head("tags", ["sea", "sunset"])])
        ['a.jpg  tags: (none) (0.41 for sea)']
    """
    names = [Path(str(f)).name for f in frame["file"]]
    width = max((len(n) for n in names[:limit]), default=0)
    lines = []
    for name, (_, row) in zip(names[:limit], frame.head(limit).iterrows()):
        parts = [f"{h.name}: {row[h.name]} ({row[f'{h.name}:top_probability']:.2f}"
                 + ("" if row[h.name] == row[f"{h.name}:top"] else f" for {row[f'{h.name}:top']}") + ")"
                 for h in heads]
        lines.append(f"{name:<{width}}  " + "   ".join(parts))
    if len(frame) > limit:
        lines.append(f"... and {len(frame) - limit} more")
    return lines


def _ranked_classes(head, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class names, probabilities per class) to rank; a binary head's two outcomes both count."""
    if head.kind != "binary":
        return np.asarray(head.classes, dtype=object), values
    positive = head.classes[-1]
    negative = head.classes[0] if len(head.classes) == 2 else f"not {positive}"
    return np.asarray([positive, negative], dtype=object), np.stack([values[:, 0], 1 - values[:, 0]], axis=1)
