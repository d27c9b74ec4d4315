"""Exported models run by their own runtimes, with zoo's model card, for `zoo.Predictor`.

Each runtime model has `predict(images_or_dataset)` returning
`{head: probabilities}` and carries the export's model card, so
`zoo.model_info(runtime_model)` works on it as on a keras.Model.

Example:
    >>> import numpy as np
    >>> import zoo
    >>> from zoo.io.export import open_exported
    >>> model = zoo.build("multilabel_small", heads={"color": ["red", "blue"], "type": ["shirt", "dress"]},
    ...                   input_shape=(32, 32, 3), weights=None)
    >>> runtime = open_exported(zoo.export(model, "/tmp/two_heads_savedmodel"))
    >>> sorted(runtime.predict(np.zeros((1, 32, 32, 3), "float32")))
    ['color', 'type']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.io.export.common import METADATA_KEY, require
from zoo.models.card import ModelCard, set_card


class ExportedModel:
    """Base of the runtime models: batching and the model card.

    Args:
        path: The exported file or folder.
        card: The model card read from the export.
    """

    def __init__(self, path, card: ModelCard):
        self.path = Path(path)
        set_card(self, card)
        self.output_names = list(card.head_names)

    def _run(self, images: np.ndarray) -> dict:
        raise NotImplementedError

    def _batches(self, inputs, batch_size: int):
        if hasattr(inputs, "as_numpy_iterator"):
            for batch in inputs.as_numpy_iterator():
                yield batch[0] if isinstance(batch, tuple) else batch
            return
        array = np.asarray(inputs, "float32")
        for start in range(0, len(array), batch_size):
            yield array[start:start + batch_size]

    def predict(self, inputs, batch_size: int = 32, verbose=0) -> dict:
        """{head: probabilities} for an image array (0..255) or a dataset of image batches."""
        parts = [self._run(np.asarray(batch, "float32")) for batch in self._batches(inputs, batch_size)]
        return {name: np.concatenate([p[name] for p in parts]) for name in self.output_names}

    def __repr__(self):
        return f"{type(self).__name__}({str(self.path)!r})"


class OnnxRuntimeModel(ExportedModel):
    """An ONNX export run by ONNX Runtime (CPU)."""

    def __init__(self, path):
        ort = require("onnxruntime", "onnx")
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        custom = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in custom:
            raise ValueError(f"{path} was not exported by zoo: no {METADATA_KEY!r} in its metadata_props.")
        super().__init__(path, ModelCard.from_json(custom[METADATA_KEY]))
        self._input = self.session.get_inputs()[0].name
        self._outputs = [o.name for o in self.session.get_outputs()]

    def _run(self, images):
        return dict(zip(self._outputs, self.session.run(None, {self._input: images})))


class SavedModelRuntime(ExportedModel):
    """A SavedModel export run by `tf.saved_model.load` (its `serving_default` signature)."""

    def __init__(self, path):
        import tensorflow as tf

        from zoo.io.export.writers import SAVED_MODEL_METADATA

        metadata = Path(path) / SAVED_MODEL_METADATA
        if not metadata.is_file():
            raise ValueError(f"{path} was not exported by zoo: it has no {SAVED_MODEL_METADATA}.")
        super().__init__(path, ModelCard.from_json(metadata.read_text()))
        self.loaded = tf.saved_model.load(str(path))
        self.signature = self.loaded.signatures["serving_default"]

    def _run(self, images):
        return {name: value.numpy() for name, value in self.signature(images=images).items()}


class LiteRTModel(ExportedModel):
    """A `.tflite` export run by the LiteRT interpreter, labels from `<name>.labels.json`.

    Args:
        path: The `.tflite` file.
        num_threads: CPU threads of the interpreter (None: LiteRT's default).
    """

    def __init__(self, path, num_threads: int | None = None):
        from zoo.io.export.writers import labels_path

        litert = require("ai_edge_litert.interpreter", "litert")
        labels = labels_path(Path(path))
        if not labels.is_file():
            raise FileNotFoundError(f"{path} needs its labels file beside it: {labels}")
        super().__init__(path, ModelCard.from_json(labels.read_text()))
        self.interpreter = litert.Interpreter(model_path=str(path), num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner()

    def _run(self, images):
        return self.runner(images=images)


def is_exported(path) -> bool:
    """True for an `.onnx` or `.tflite` file or a SavedModel folder."""
    path = Path(path)
    return path.suffix.lower() in (".onnx", ".tflite") or (path / "saved_model.pb").is_file()


def open_exported(path) -> ExportedModel:
    """The runtime model for an exported `.onnx`, `.tflite` file or SavedModel folder.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> runtime = open_exported(zoo.export(model, "/tmp/tags.onnx", format="onnx"))
        >>> runtime.predict(np.zeros((2, 32, 32, 3), "float32"))["tags"].shape
        (2, 2)
        >>> zoo.model_info(runtime)["heads"]["tags"]["classes"]
        ['a', 'b']
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No exported model at {str(path)!r}.")
    if path.suffix.lower() == ".onnx":
        return OnnxRuntimeModel(path)
    if path.suffix.lower() == ".tflite":
        return LiteRTModel(path)
    if (path / "saved_model.pb").is_file():
        return SavedModelRuntime(path)
    raise ValueError(f"Not an exported model (.onnx, .tflite or SavedModel folder). Received: path={str(path)!r}")


def load_any(path):
    """An exported model (runtime-backed) or a `.keras`/`.h5` file (zoo.load_model, uncompiled).

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> zoo.save_model(model, "/tmp/tags_any.keras")
        >>> load_any(zoo.export("/tmp/tags_any.keras", "/tmp/tags_any.onnx", format="onnx"))
        OnnxRuntimeModel('/tmp/tags_any.onnx')
        >>> load_any("/tmp/tags_any.keras").name
        'multilabel_small'
    """
    if is_exported(path):
        return open_exported(path)
    from zoo.io.saving import load_model

    return load_model(path, compile=False)
