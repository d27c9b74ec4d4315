"""One writer per format; each takes a keras.Model and a fresh path.

SavedModel signatures (all take any batch of `images` at the model's height and
width, pixels in 0..255, and return one tensor per head, named after it):

* `serving_default`: float32 images -> float32 probabilities, (batch, classes)
  (binary heads: (batch, 1)).
* `serving_uint8`: the same for uint8 images (cast to float32 inside).
* `labels` / `labels_uint8`: images -> one string per image and head: the
  class names above the head's stored thresholds joined by single spaces
  (multilabel; "" when none passes), the top class (multiclass), or the
  positive class when above the threshold, else the negative class or ""
  (binary). These are the names `zoo.data.decode_predictions` gives.

The model's metadata (heads, classes, kinds, thresholds, input shape) is in
`assets.extra/zoo_metadata.json` inside the SavedModel folder.

Example:
    >>> import zoo  # doctest: +SKIP
    >>> from zoo.io.export.writers import write_onnx  # doctest: +SKIP
    >>> write_onnx(model, "/tmp/model.onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import keras
import numpy as np

from zoo.io.export.common import METADATA_KEY, conversion_error, require, serving_model
from zoo.models.card import ModelCard
from zoo.models.heads import Head

SAVED_MODEL_METADATA = Path("assets.extra") / f"{METADATA_KEY}.json"
LABELS_SUFFIX = ".labels.json"
PYTHON_OPS = ("PyFunc", "PyFuncStateless", "EagerPyFunc")


class ExportNamesError(RuntimeError):
    """The exporter did not keep the head names on the outputs."""


def _image_spec(card: ModelCard, dtype):
    import tensorflow as tf

    return tf.TensorSpec((None, *card.input_shape), dtype, name="images")


def label_strings(probabilities, head: Head):
    """One string per image: the head's chosen class names, space-separated."""
    import tensorflow as tf

    names = tf.constant(list(head.classes))
    if head.kind == "multiclass":
        return tf.gather(names, tf.argmax(probabilities, axis=-1))
    threshold = tf.constant(np.broadcast_to(np.asarray(head.threshold, "float32"), (head.units,)))
    if head.kind == "binary":
        negative = head.classes[0] if len(head.classes) == 2 else ""
        return tf.where(probabilities[:, 0] > threshold[0], head.classes[-1], negative)
    chosen = probabilities > threshold
    every = tf.broadcast_to(names, tf.shape(probabilities))
    return tf.strings.reduce_join(tf.ragged.boolean_mask(every, chosen), axis=1, separator=" ")


def _python_nodes(path: Path) -> list:
    """Nodes of a SavedModel that call back into Python: they fail in any other process."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((path / "saved_model.pb").read_bytes())
    graph = saved.meta_graphs[0].graph_def
    nodes = list(graph.node) + [node for function in graph.library.function for node in function.node_def]
    return [node for node in nodes if node.op in PYTHON_OPS]


def write_saved_model(model: keras.Model, path: Path) -> ModelCard:
    """Writes a SavedModel folder for TF Serving (signatures in the module docstring)."""
    import tensorflow as tf

    serving, card = serving_model(model)
    heads = card.heads

    def probabilities(images):
        return serving(tf.cast(images, tf.float32), training=False)

    def labels(images):
        outputs = probabilities(images)
        return {head.name: label_strings(outputs[head.name], head) for head in heads}

    archive = keras.export.ExportArchive()
    archive.track(serving)
    float_spec, uint8_spec = _image_spec(card, tf.float32), _image_spec(card, tf.uint8)
    archive.add_endpoint("serving_default", lambda images: probabilities(images), input_signature=[float_spec])
    archive.add_endpoint("serving_uint8", lambda images: probabilities(images), input_signature=[uint8_spec])
    archive.add_endpoint("labels", lambda images: labels(images), input_signature=[float_spec])
    archive.add_endpoint("labels_uint8", lambda images: labels(images), input_signature=[uint8_spec])
    archive.write_out(str(path), verbose=False)
    python_nodes = _python_nodes(path)
    if python_nodes:
        raise conversion_error(model, "saved_model", [n.op for n in python_nodes],
                               "\n".join(n.name for n in python_nodes))
    (path / SAVED_MODEL_METADATA).parent.mkdir(exist_ok=True)
    (path / SAVED_MODEL_METADATA).write_text(card.to_json(indent=1))
    return card


def write_onnx(model: keras.Model, path: Path) -> ModelCard:
    """Writes an ONNX file: input `images` (float32, 0..255), one output per head,
    the metadata as JSON in `metadata_props["zoo_metadata"]`."""
    onnx = require("onnx", "onnx")
    require("tf2onnx", "onnx")
    import tensorflow as tf

    serving, card = serving_model(model)
    with warnings.catch_warnings():  # Keras' converter probes `np.object`, which NumPy warns about on its own
        warnings.filterwarnings("ignore", "In the future `np.object`", FutureWarning)
        serving.export(str(path), format="onnx", verbose=False, input_signature=[_image_spec(card, tf.float32)])
    proto = onnx.load(str(path))
    unknown = [node for node in proto.graph.node if not onnx.defs.has(node.op_type, node.domain)]
    if unknown:
        path.unlink()
        raise conversion_error(model, "onnx", [n.op_type for n in unknown], "\n".join(n.name for n in unknown))
    outputs = [output.name for output in proto.graph.output]
    if sorted(outputs) != sorted(card.head_names):
        raise ExportNamesError(f"ONNX outputs {outputs} do not match the heads {list(card.head_names)}.")
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, card.to_json()
    onnx.save(proto, str(path))
    return card


def write_litert(model: keras.Model, path: Path, quantize: str | None = None) -> ModelCard:
    """Writes a `.tflite` file (built-in LiteRT ops only, so the plain interpreter
    runs it): float32 weights, or int8 weights with `quantize="dynamic"`."""
    import tensorflow as tf

    serving, card = serving_model(model)
    options = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if quantize == "dynamic":
        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
    try:
        serving.export(str(path), format="litert", verbose=False,
                       input_signature=[_image_spec(card, tf.float32)], **options)
    except Exception as error:
        text = str(error)
        ops = re.findall(r"'tf\.(\w+)' op is neither", text)
        if not ops:
            raise
        raise conversion_error(model, "litert", ops, text) from error
    return card


def labels_path(path: Path) -> Path:
    """Where the labels of a `.tflite` file live: `model.tflite` -> `model.labels.json`."""
    return path.with_name(path.name.removesuffix(".tflite") + LABELS_SUFFIX)
