"""The Predictor: a model (or model file) to label names for images.

Example:
    >>> predictor = zoo.Predictor("clothes.h5")  # doctest: +SKIP
    >>> predictor.predict(["examples/1.jpg", "photos/"])  # doctest: +SKIP
                 file  color  color:black  color:blue  ...
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from zoo.data.encoding import decode_predictions
from zoo.data.pipeline import make_dataset, resize_image
from zoo.data.sources import FILE_COLUMN, IMAGE_EXTENSIONS
from zoo.metadata import heads_of, model_info
from zoo.saving import load_model

PROGRESS_BAR_BATCHES = 10


def walk_folder(folder) -> tuple[list[Path], list[Path]]:
    """Every file under `folder`, at any depth, following links to folders once.

    The walk keeps its own stack (no recursion limit) and knows each folder by
    device and inode, so a link back to a folder above it is not followed again.

    Args:
        folder: The folder to walk.

    Returns:
        (files, broken): the files, and the entries that lead nowhere: links to a
        missing target, links in a loop, and links back to a folder above them.

    Example:
        >>> walk_folder("/no/such/folder")
        Traceback (most recent call last):
        ...
        FileNotFoundError: [Errno 2] No such file or directory: '/no/such/folder'
    """
    root = Path(folder)
    info = root.stat()
    parents = {(info.st_dev, info.st_ino): None}  # folder -> the folder it was found in
    files, broken = [], []
    stack = [(root, (info.st_dev, info.st_ino))]
    while stack:
        directory, key = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:  # unreadable folder: skipped, as Path.rglob does
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
                target = entry.stat() if is_dir else None
            except OSError:
                is_dir = is_file = False
            if is_file:
                files.append(Path(entry.path))
            elif not is_dir:
                if entry.is_symlink():  # a missing target, or a loop of links
                    broken.append(Path(entry.path))
            elif (target.st_dev, target.st_ino) not in parents:
                parents[(target.st_dev, target.st_ino)] = key
                stack.append((Path(entry.path), (target.st_dev, target.st_ino)))
            elif _is_above((target.st_dev, target.st_ino), key, parents):
                broken.append(Path(entry.path))
    return files, broken


def _is_above(candidate, key, parents) -> bool:
    while key is not None:
        if key == candidate:
            return True
        key = parents[key]
    return False


def image_files(inputs) -> list[str]:
    """Expands files and folders (at any depth, image extensions only) to a sorted file list.

    Links that lead nowhere (a missing target, a loop) are listed too, when
    their name has an image extension or none, so that the file check names
    them (and `on_error="skip"` counts them as skipped).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found, broken = walk_folder(path)
            images = [p for p in found if p.suffix.lower() in IMAGE_EXTENSIONS]
            broken = [p for p in broken if p.suffix.lower() in IMAGE_EXTENSIONS or not p.suffix]
            if not images and not broken:
                raise FileNotFoundError(f"Folder {path} holds no image files ({', '.join(IMAGE_EXTENSIONS)}).")
            files.extend(str(p) for p in sorted(images + broken))
        else:
            files.append(str(path))
    return files


class Predictor:
    """Predicts label names with a model's stored input size and thresholds.

    Args:
        model_or_path: A keras.Model or a `.keras`/`.h5` file.
        batch_size: Images per batch.
        resize: How images are fitted to the input ("stretch", "pad", "crop");
            use what the model was trained with.
        on_error: "raise" for unreadable files, or "skip" (they are listed in
            `Predictor.skipped` after `predict`).
        exif_transpose: Rotate or mirror photos by their EXIF orientation, as a
            photo viewer shows them (the default); False reads the stored pixels.
    """

    def __init__(self, model_or_path, batch_size: int = 32, resize: str = "stretch", on_error: str = "raise",
                 exif_transpose: bool = True):
        self.model = model_or_path if hasattr(model_or_path, "predict") else load_model(model_or_path, compile=False)
        self.heads = heads_of(self.model)
        self.image_size = tuple(model_info(self.model)["input_shape"][:2])
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
        files = image_files(inputs)
        dataset = make_dataset(pd.DataFrame({FILE_COLUMN: files}), None, image_size=self.image_size,
                               batch_size=self.batch_size, shuffle=False, resize=self.resize, on_error=self.on_error,
                               exif_transpose=self.exif_transpose)
        self.skipped = dataset.zoo_skipped
        return dataset, dataset.zoo_files

    def predict_probabilities(self, inputs) -> tuple[dict, list | None]:
        """({head: probabilities}, identifiers) for files, folders, arrays or a dataset."""
        dataset, identifiers = self._dataset_from(inputs)
        batches = int(dataset.cardinality())
        verbose = 1 if batches > PROGRESS_BAR_BATCHES or batches < 0 else 0
        outputs = self.model.predict(dataset, verbose=verbose)
        if not isinstance(outputs, dict):
            outputs = dict(zip(self.model.output_names, outputs if isinstance(outputs, list) else [outputs]))
        return outputs, identifiers

    def predict(self, inputs) -> pd.DataFrame:
        """One row per image: `file`, then per head the predicted label names
        (space-separated for multilabel heads) and one `head:class` probability
        column per class.
        """
        probabilities, identifiers = self.predict_probabilities(inputs)
        count = len(next(iter(probabilities.values())))
        frame = pd.DataFrame({"file": identifiers if identifiers is not None else range(count)})
        for head in self.heads:
            values = probabilities[head.name]
            frame[head.name] = [" ".join(labels) for labels in decode_predictions(values, head)]
            classes = head.classes if head.kind != "binary" else [head.classes[-1]]
            for j, name in enumerate(classes):
                frame[f"{head.name}:{name}"] = values[:, j]
        return frame
